"""What every integration test app shares: the project's feature flags, disposable stacks, bounded waits, ``main``."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import integ_tests_alpha as integ

ROOT: Final = pathlib.Path(__file__).resolve().parents[1]
#: The feature flags of ``cdk.json``: a test deploys what ``cdk deploy`` of the example would.
CONTEXT: Final[dict[str, Any]] = json.loads((ROOT / "cdk.json").read_text())["context"]
#: Files a test uploads that are not text (a zip, an image): deployed by a ``BucketDeployment``.
FIXTURES: Final = pathlib.Path(__file__).resolve().parent / "fixtures"

#: How long a test waits for its job: a new EC2 instance takes 3-5 minutes to join the environment, pulling the image
#: 1-2, the jobs themselves seconds. Thirty minutes is several times that, and bounds what a stuck test costs (the
#: waiter then fails the assertion stack's deployment, and the run destroys everything).
JOB_TIMEOUT: Final = cdk.Duration.minutes(30)
#: Between two polls of a wait: Batch's own state changes are minutes apart; each poll is one Lambda invocation.
POLL_INTERVAL: Final = cdk.Duration.seconds(30)
#: How long a test waits for something that follows a finished job within seconds (log events being ingested).
SHORT_TIMEOUT: Final = cdk.Duration.minutes(5)

#: Resource types the example apps retain on delete that CloudFormation cannot delete while they hold data: kept
#: retained here too, and deleted by ``integ/run.py`` after the stacks are destroyed (emptied first).
LEFT_FOR_THE_RUNNER: Final = ("AWS::S3::Bucket",)


def new_app() -> cdk.App:
    """An app with the project's feature flags (``cdk.json``'s context; the CLI passes the same ones again)."""
    return cdk.App(context=dict(CONTEXT))


def disposable(*stacks: cdk.Stack) -> None:
    """Delete every resource of ``stacks`` with the stack, except the buckets (see :data:`LEFT_FOR_THE_RUNNER`).

    The examples retain their tables, keys and log groups, as production stacks should; a test must leave nothing
    behind. A key is scheduled for deletion (the default 30-day window), as ``cdk destroy`` does for any key.
    """
    for stack in stacks:
        cdk.RemovalPolicies.of(stack).destroy(exclude_resource_types=list(LEFT_FOR_THE_RUNNER))


#: cfn-lint's W3005 ("DependsOn already enforced by a Ref/GetAtt") fires on the dependencies integ-tests itself writes
#: (its waiter state machines, ``next()`` chains): redundant, harmless and not ours to change. Ignored in the assertion
#: stack's template metadata, so that any cfn-lint run sees it; every other rule applies.
ASSERTION_STACK_CFN_LINT_IGNORES: Final = ("W3005",)


def integ_test(app: cdk.App, name: str, stacks: Sequence[cdk.Stack]) -> integ.IntegTest:
    """The test case: ``stacks`` deployed, then the assertion stack. No update workflow (the runner deploys the
    current code only), asset hashes not part of the snapshot (a change of job code is not a template change)."""
    test = integ.IntegTest(app, name, test_cases=list(stacks), diff_assets=False, stack_update_workflow=False)
    assertion_stack = test.node.find_child("DefaultTest").node.find_child("DeployAssert")
    assert isinstance(assertion_stack, cdk.Stack)
    assertion_stack.template_options.metadata = {
        "cfn-lint": {"config": {"ignore_checks": list(ASSERTION_STACK_CFN_LINT_IGNORES)}}
    }
    return test


def wait_until(
    call: integ.IApiCall, expected: integ.ExpectedResult, timeout: cdk.Duration = JOB_TIMEOUT
) -> integ.IApiCall:
    """Repeat ``call`` every :data:`POLL_INTERVAL` until its response matches ``expected``, for at most ``timeout``."""
    call.expect(expected)
    return call.wait_for_assertions(interval=POLL_INTERVAL, total_timeout=timeout, backoff_rate=1)


def allow_key(call: integ.IApiCall, key: kms.IKey, actions: Sequence[str]) -> None:
    """Let the Lambda functions that make ``call`` use ``key`` (the stack's KMS key encrypts buckets and logs).

    integ-tests grants the API call's own action (``s3:PutObject`` ...) but not the KMS actions it implies. Call
    after :func:`wait_until` so that the waiter's function gets the statement too.
    """
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": [key.key_arn]}
    call.provider.add_to_role_policy(statement)
    waiter = getattr(call, "waiter_provider", None)
    if waiter is not None:
        waiter.add_to_role_policy(statement)


def main(build: Callable[[cdk.App], integ.IntegTest]) -> None:
    """Run one test app: ``python -m integ.integ_<app>`` (what ``integ/run.py`` passes to ``cdk deploy --app``)."""
    app = new_app()
    build(app)
    app.synth()
