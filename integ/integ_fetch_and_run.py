"""Integration test of fetch-and-run: upload a script, start the state machine with it, find its output in the logs.

What a user does after ``cdk deploy FetchAndRun``: ``aws s3 cp hello.sh s3://<bucket>/scripts/hello.sh``, then
``aws stepfunctions start-execution --input '{"parameters": {"script": "s3://.../scripts/hello.sh", "args": "..."}}'``.
Here the assertion stack does the same with ``PutObject`` and ``StartExecution``, waits until the execution
``SUCCEEDED`` (the script exited 0 on Fargate), and finds the line the script printed, with its argument, in the job's
log group.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from apps.fetch_and_run.stack import SCRIPTS_PREFIX, FetchAndRunStack
from batch_constructs.storage import stack_encryption_key
from integ._common import SHORT_TIMEOUT, allow_key, disposable, integ_test, main, wait_until

SCRIPT_KEY = f"{SCRIPTS_PREFIX}integ-test.sh"
SCRIPT = '#!/bin/sh\nset -eu\necho "batch-constructs integ: hello from $1"\n'
ARGS = "step-functions"


def build(app: cdk.App) -> integ.IntegTest:
    stack = FetchAndRunStack(app, "IntegFetchAndRun")
    disposable(stack)
    test = integ_test(app, "FetchAndRun", [stack])
    key = stack_encryption_key(stack)

    # GIVEN a script under scripts/
    upload = test.assertions.aws_api_call(
        "S3", "putObject", {"Bucket": stack.scripts.bucket_name, "Key": SCRIPT_KEY, "Body": SCRIPT}
    )
    allow_key(upload, key, ["kms:GenerateDataKey"])
    # WHEN an execution runs it with an argument
    start = test.assertions.aws_api_call(
        "SFN",
        "startExecution",
        {
            "stateMachineArn": stack.state_machine.state_machine_arn,
            "input": json.dumps(
                {"parameters": {"script": f"s3://{stack.scripts.bucket_name}/{SCRIPT_KEY}", "args": ARGS}}
            ),
        },
    )
    # THEN the execution succeeds (the job, and so the script, exited 0) ...
    finished = wait_until(
        test.assertions.aws_api_call(
            "SFN", "describeExecution", {"executionArn": start.get_att_string("executionArn")}
        ),
        integ.ExpectedResult.object_like({"status": "SUCCEEDED"}),
    )
    # ... AND the script's output is in the job's log group (seconds after the job ends: waited for briefly)
    logs = wait_until(
        test.assertions.aws_api_call(
            "CloudWatchLogs",
            "filterLogEvents",
            {"logGroupName": stack.job.log_group.log_group_name, "filterPattern": '"batch-constructs integ"'},
        ),
        integ.ExpectedResult.object_like(
            {
                "events": integ.Match.array_with(
                    [integ.Match.object_like({"message": integ.Match.string_like_regexp(f"hello from {ARGS}")})]
                )
            }
        ),
        timeout=SHORT_TIMEOUT,
    )
    allow_key(logs, key, ["kms:Decrypt"])
    upload.next(start).next(finished).next(logs)
    return test


if __name__ == "__main__":
    main(build)
