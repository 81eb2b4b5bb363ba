"""Integration test of the fair-share teams: an upload curated under share ``ingest``, then the nightly pipeline run
under share ``analytics``, on one fair-share queue.

What the two teams do after ``cdk deploy FairShareTeams``: a producer uploads ``incoming/<file>.csv`` (S3 tells
EventBridge, whose rule invokes the Lambda submitter, which submits the ingest job with ``shareIdentifier=ingest``);
the analytics team's pipeline runs at 02:00 UTC, or now with ``aws stepfunctions start-execution``. Here the assertion
stack uploads a small CSV with ``PutObject``, waits until the ingest job SUCCEEDED on the queue (a fair-share queue
fails a submission without a share identifier, so a job that ran proves the submitter passed it) and reads the curated
events; then it starts the pipeline (an array of 4 aggregation children, then the report, both with
``shareIdentifier=analytics``), waits for the execution to succeed and reads the report. The 01:00 UTC sweep
(EventBridge Scheduler with ``shareIdentifier=ingest``) is not started: a schedule cannot be triggered on demand.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from apps.fair_share_teams.job.jobs import CURATED_PREFIX, INCOMING_PREFIX, REPORTS_PREFIX, output_name
from apps.fair_share_teams.stack import FairShareTeamsStack
from batch_constructs.storage import stack_encryption_key
from integ._common import allow_key, disposable, integ_test, main, wait_until

KEY = f"{INCOMING_PREFIX}integ-test.csv"
#: Three events on two days, in two time zones: the report must count 3 of them in 3 groups.
BODY = "\n".join(
    [
        "event_id,occurred_at,event_type,value",
        "integ-1,2026-12-01T10:00:00Z,page_view,1",
        "integ-2,2026-12-01T23:30:00-05:00,checkout,19.90",
        "integ-3,2026-12-01T12:00:00+01:00,page_view,2.5",
        "",
    ]
)


def build(app: cdk.App) -> integ.IntegTest:
    stack = FairShareTeamsStack(app, "IntegFairShareTeams")
    disposable(stack)
    test = integ_test(app, "FairShareTeams", [stack])
    key = stack_encryption_key(stack)

    # WHEN a producer uploads a CSV under incoming/ (the bucket encrypts it with the stack's KMS key)
    upload = test.assertions.aws_api_call(
        "S3", "putObject", {"Bucket": stack.data.bucket_name, "Key": KEY, "Body": BODY}
    )
    allow_key(upload, key, ["kms:GenerateDataKey"])
    # THEN the submitter's ingest job runs to SUCCEEDED on the fair-share queue (share ingest) ...
    ingested = wait_until(
        test.assertions.aws_api_call(
            "Batch",
            "listJobs",
            {
                "jobQueue": stack.queue.job_queue_arn,
                "filters": [{"name": "JOB_NAME", "values": ["UploadSubmitter*"]}],
            },
        ),
        integ.ExpectedResult.object_like(
            {"jobSummaryList": integ.Match.array_with([integ.Match.object_like({"status": "SUCCEEDED"})])}
        ),
    )
    # ... AND the curated object holds the events, normalised to UTC
    curated = test.assertions.aws_api_call(
        "S3", "getObject", {"Bucket": stack.data.bucket_name, "Key": CURATED_PREFIX + output_name(KEY)}
    )
    curated.expect(
        integ.ExpectedResult.object_like(
            {"Body": integ.Match.string_like_regexp('"occurred_at": "2026-12-02T04:30:00.000000Z"')}
        )
    )
    allow_key(curated, key, ["kms:Decrypt"])

    # WHEN the analytics team runs its nightly pipeline now (share analytics)
    start = test.assertions.aws_api_call(
        "SFN", "startExecution", {"stateMachineArn": stack.pipeline.state_machine_arn, "input": json.dumps({})}
    )
    # THEN the execution succeeds (4 aggregation children, then the report) ...
    finished = wait_until(
        test.assertions.aws_api_call(
            "SFN", "describeExecution", {"executionArn": start.get_att_string("executionArn")}
        ),
        integ.ExpectedResult.object_like({"status": "SUCCEEDED"}),
    )
    # ... AND the report counts each event once, per day and type
    report = test.assertions.aws_api_call(
        "S3", "getObject", {"Bucket": stack.data.bucket_name, "Key": f"{REPORTS_PREFIX}latest.json"}
    )
    report.expect(
        integ.ExpectedResult.object_like(
            {"Body": integ.Match.serialized_json(integ.Match.object_like({"records": 3, "duplicates": 0}))}
        )
    )
    allow_key(report, key, ["kms:Decrypt"])
    upload.next(ingested).next(curated).next(start).next(finished).next(report)
    return test


if __name__ == "__main__":
    main(build)
