"""Integration test of the shared platform: deploy the platform and a workload, submit the workload's job to the
platform's queue, wait for it and find its report in the job's log group.

The workload's job runs nightly on a schedule; what a user (or the schedule) does is ``aws batch submit-job
--job-queue <the platform's queue> --job-definition <the workload's job definition>``, which the assertion stack does
here with ``SubmitJob``. The job (the AWS CLI image from ECR Public) lists the workload's empty data bucket on the
platform's Fargate environments: the test waits until Batch says ``SUCCEEDED`` and finds the listing's summary in the
log group, which proves the job role, the network path to S3 and the log configuration all work across the two stacks.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from apps.shared_platform import SharedPlatformStack, SharedWorkloadStack
from batch_constructs.storage import stack_encryption_key
from integ._common import SHORT_TIMEOUT, allow_key, disposable, integ_test, main, wait_until


def build(app: cdk.App) -> integ.IntegTest:
    platform = SharedPlatformStack(app, "IntegSharedPlatform")
    workload = SharedWorkloadStack(app, "IntegSharedWorkload", queue=platform.queue)
    disposable(platform, workload)
    test = integ_test(app, "SharedPlatform", [platform, workload])

    # WHEN the workload's job is submitted to the platform's queue
    submit = test.assertions.aws_api_call(
        "Batch",
        "submitJob",
        {
            "jobName": "integ-nightly-report",
            "jobQueue": platform.queue.job_queue_arn,
            "jobDefinition": workload.report.job_definition_arn,
        },
    )
    # THEN Batch reports it SUCCEEDED ...
    finished = wait_until(
        test.assertions.aws_api_call("Batch", "describeJobs", {"jobs": [submit.get_att_string("jobId")]}),
        integ.ExpectedResult.object_like(
            {"jobs": integ.Match.array_with([integ.Match.object_like({"status": "SUCCEEDED"})])}
        ),
    )
    # ... AND `aws s3 ls --summarize` wrote its summary to the job's log group
    logs = wait_until(
        test.assertions.aws_api_call(
            "CloudWatchLogs",
            "filterLogEvents",
            {"logGroupName": workload.report.log_group.log_group_name, "filterPattern": '"Total Objects"'},
        ),
        integ.ExpectedResult.object_like(
            {
                "events": integ.Match.array_with(
                    [integ.Match.object_like({"message": integ.Match.string_like_regexp("Total Objects: 0")})]
                )
            }
        ),
        timeout=SHORT_TIMEOUT,
    )
    allow_key(logs, stack_encryption_key(workload), ["kms:Decrypt"])
    submit.next(finished).next(logs)
    return test


if __name__ == "__main__":
    main(build)
