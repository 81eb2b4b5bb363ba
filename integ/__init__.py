"""Integration tests: each ``integ_<app>.py`` is a CDK app that deploys one example app's stacks as a test case of
``aws_cdk.integ_tests_alpha.IntegTest``, starts the app's trigger the way a user would, waits for the job and checks
its result with assertions in the test's assertion stack (``<Name>DefaultTestDeployAssert...``).

``make integ`` runs them against the account in the environment (``integ/run.py``: deploy, read the assertion results,
destroy, delete what the examples retain). ``make test`` checks offline that the committed snapshots
(``integ_<app>.py.snapshot/``) are current and cfn-lint clean (``tests/test_integ_snapshots.py``); ``make
integ-snapshots`` rewrites them. See the README's "Integration tests".
"""
