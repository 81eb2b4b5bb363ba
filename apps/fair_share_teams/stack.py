"""Two teams on one fair-share queue: team ``ingest`` curates uploads as they arrive, team ``analytics`` reports
every night, and neither can starve the other.

Submitters, each carrying its team's share identifier (a fair-share queue refuses a submission without one):

* **uploads** (team ingest): S3 sends "Object Created" for ``incoming/*.csv`` to EventBridge; a rule invokes a
  :class:`~batch_constructs.LambdaSubmitter` that submits the ingest job with ``shareIdentifier=ingest`` and a job
  name derived from the upload's identity, skipping an upload already on the queue (S3 and EventBridge deliver at
  least once). An EventBridge rule cannot submit to this queue itself: its Batch target has no share identifier
  field, so :class:`~batch_constructs.S3UploadTrigger` refuses a fair-share queue (rule ``share-identifier``).
* **a schedule** (team ingest): at 01:00 UTC an EventBridge Scheduler schedule submits the sweep job with
  ``shareIdentifier=ingest`` (:class:`~batch_constructs.ScheduledJob` with ``share_identifier=``), which curates any
  upload the event path missed.
* **a pipeline** (team analytics): at 02:00 UTC a schedule starts a :class:`~batch_constructs.BatchPipeline`: an
  array job of :data:`SHARDS` children aggregates the curated events (each child one hash shard of the event ids, so
  every event is counted once), then one job merges the parts into the report; both steps with
  ``shareIdentifier=analytics``.

The queue (Fargate Spot first, Fargate On-Demand second) schedules by share: ingest has weight 0.5 and analytics 1,
so while both teams have jobs waiting ingest gets twice the vCPUs (a lower weight is a larger share); usage decays
over one hour; and 25% of the vCPUs are held back while only one team is active, so the other's first jobs start
without waiting for the running team's jobs to end.
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from batch_constructs import (
    BatchNetwork,
    BatchPipeline,
    BatchQueue,
    ContainerJob,
    FargateEnvironment,
    FargateSpotEnvironment,
    LambdaSubmitter,
    PipelineStep,
    ScheduledJob,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    grant_write_objects,
)

from .job.jobs import (
    AGGREGATES_PREFIX,
    CURATED_PREFIX,
    INCOMING_PREFIX,
    REJECTS_PREFIX,
    REPORTS_PREFIX,
    UPLOAD_SUFFIX,
)

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"

#: The share identifiers: one per team, on every submission of that team.
INGEST_SHARE: Final = "ingest"
ANALYTICS_SHARE: Final = "analytics"
#: share identifier -> weight factor. A LOWER weight is a LARGER share (AWS Batch API, ShareAttributes.weightFactor):
#: ingest's uploads are waited for by people, the nightly report by nobody until morning, so ingest gets twice the
#: vCPUs while both teams have jobs waiting. Alone, either team may use the whole queue (less the reservation).
SHARES: Final = {INGEST_SHARE: 0.5, ANALYTICS_SHARE: 1.0}
#: How far back each share's usage counts. AWS's minimum window (600 s) suits jobs of minutes; the nightly array runs
#: for tens of minutes, so an hour keeps it from winning the queue back the moment its children finish.
SHARE_DECAY: Final = cdk.Duration.hours(1)
#: Percent of the max vCPUs held back for an idle share, to the power of the active shares: 25% while one team runs,
#: so the other's first jobs start at once (6.25% with both active).
COMPUTE_RESERVATION: Final = 25
#: Each environment's ceiling: 32 one-vCPU jobs at once bound the bill of an upload burst.
MAX_VCPUS: Final = 32

#: Priorities within a share (0-9999, higher first; a fair-share queue requires one on every job): a fresh upload
#: before the sweep's catch-up, the report's parts before nothing else of analytics.
UPLOAD_PRIORITY: Final = 50
SWEEP_PRIORITY: Final = 10
ANALYTICS_PRIORITY: Final = 50

#: Array children of the nightly aggregation; each reads every curated object and counts one hash shard of event ids.
SHARDS: Final = 4
#: The sweep at 01:00 UTC, the report at 02:00 UTC (after the sweep has curated what the events missed).
SWEEP_SCHEDULE: Final = events.Schedule.cron(minute="0", hour="1")
REPORT_SCHEDULE: Final = events.Schedule.cron(minute="0", hour="2")

#: One upload's limit: the job streams the file (memory stays flat), reading and writing about 50 MiB/s; an hour is a
#: 5 GiB file many times over, and a hung job stops before it bills a day.
INGEST_TIMEOUT: Final = cdk.Duration.hours(1)
SWEEP_TIMEOUT: Final = cdk.Duration.hours(3)
ANALYTICS_TIMEOUT: Final = cdk.Duration.hours(2)


class FairShareTeamsStack(cdk.Stack):
    """Data bucket, network, Fargate environments, the fair-share queue, four jobs and their three submitters.

    Attributes:
        data / access_logs / network / fargate_spot / fargate / queue: the shared parts.
        ingest_job / sweep_job / upload_submitter / upload_rule / sweep_schedule: team ingest's.
        aggregate_job / report_job / pipeline / report_schedule: team analytics'.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: two teams share one fair-share Batch queue (uploads, a schedule, a "
            "pipeline)",
            **kwargs,
        )
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        # KMS with the stack's key; S3 -> EventBridge on (the upload rule's source); replaced versions kept 30 days.
        self.data = data_bucket(
            self,
            "Data",
            access_logs=self.access_logs,
            noncurrent_version_expiration=cdk.Duration.days(30),
            event_bridge=True,
            replication_reason=(
                "The bucket holds uploads their producers can send again and outputs the jobs rebuild from them; it "
                "is versioned and retained on stack deletion."
            ),
        )

        self.network = BatchNetwork(self, "Network")  # 2 AZs, 1 NAT gateway, S3 and DynamoDB gateway endpoints
        self.fargate_spot = FargateSpotEnvironment(self, "FargateSpot", network=self.network, max_vcpus=MAX_VCPUS)
        self.fargate = FargateEnvironment(self, "Fargate", network=self.network, max_vcpus=MAX_VCPUS)
        self.queue = BatchQueue(
            self,
            "Queue",
            environments=[self.fargate_spot, self.fargate],  # Spot first (about 70% cheaper), On-Demand second
            fair_share=SHARES,
            share_decay=SHARE_DECAY,
            compute_reservation=COMPUTE_RESERVATION,
        )
        image = ecs.ContainerImage.from_asset(str(JOB_DIR))  # one image, four job definitions
        self._ingest_team(image)
        self._analytics_team(image)

        cdk.CfnOutput(self, "DataBucketName", value=self.data.bucket_name)
        cdk.CfnOutput(self, "JobQueueArn", value=self.queue.job_queue_arn)
        cdk.CfnOutput(self, "PipelineArn", value=self.pipeline.state_machine_arn)
        cdk.CfnOutput(self, "UploadDeadLetterQueueUrl", value=self.upload_submitter.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "IngestJobDefinitionArn", value=self.ingest_job.job_definition_arn)
        cdk.CfnOutput(self, "IngestLogGroupName", value=self.ingest_job.log_group.log_group_name)
        cdk.CfnOutput(self, "AnalyticsLogGroupName", value=self.aggregate_job.log_group.log_group_name)

    def _job(self, construct_id: str, image: ecs.ContainerImage, **kwargs: Any) -> ContainerJob:
        return ContainerJob(
            self,
            construct_id,
            image=image,
            queue=self.queue,
            vcpus=1,  # one thread streaming S3: more vCPUs would idle
            memory=cdk.Size.gibibytes(2),
            readonly_root_filesystem=False,  # the jobs spool their outputs to temporary files
            **kwargs,
        )

    def _ingest_team(self, image: ecs.ContainerImage) -> None:
        """The upload job and its submitter, the nightly sweep and its schedule; all with share ``ingest``."""
        bucket = self.data.bucket_name
        self.ingest_job = self._job(
            "IngestJob",
            image,
            command=["python", "/app/jobs.py", "ingest", "--bucket", "Ref::bucket", "--key", "Ref::key"],
            scheduling_priority=UPLOAD_PRIORITY,
            timeout=INGEST_TIMEOUT,
        )
        self.sweep_job = self._job(
            "SweepJob",
            image,
            command=["python", "/app/jobs.py", "sweep", "--bucket", "Ref::bucket"],
            parameters={"bucket": bucket},
            scheduling_priority=SWEEP_PRIORITY,
            timeout=SWEEP_TIMEOUT,
        )
        for job in (self.ingest_job, self.sweep_job):
            grant_read_objects(job.job_role, self.data, INCOMING_PREFIX)
            grant_write_objects(job.job_role, self.data, CURATED_PREFIX)
            grant_write_objects(job.job_role, self.data, REJECTS_PREFIX)
        # The sweep compares each upload's ETag with the metadata of its curated object (HeadObject = s3:GetObject).
        grant_read_objects(self.sweep_job.job_role, self.data, CURATED_PREFIX)

        self.upload_submitter = LambdaSubmitter(
            self, "UploadSubmitter", job=self.ingest_job, share_identifier=INGEST_SHARE
        )
        # The rule below sends the submitter S3 "Object Created" events only, and the default handler turns each into
        # the parameters bucket and key: every submission of the ingest job passes both.
        cdk.Annotations.of(self.ingest_job).acknowledge_warning(
            "batch-constructs:required-parameters",
            "Submitted only by UploadSubmitter, whose handler passes bucket and key for every S3 event the rule sends",
        )
        self.upload_rule = events.Rule(
            self,
            "OnUpload",
            description="Submit the ingest job for each CSV uploaded under incoming/ (share ingest)",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket]},
                    "object": {"key": events.Match.wildcard(f"{INCOMING_PREFIX}*{UPLOAD_SUFFIX}")},
                },
            ),
        )
        # Events the rule could not deliver to the function land in the function's own dead-letter queue, with the
        # uploads it could not submit: one place to look. EventBridge retries for up to a day first.
        self.upload_rule.add_target(
            events_targets.LambdaFunction(
                self.upload_submitter.function,
                dead_letter_queue=self.upload_submitter.dead_letter_queue,
                retry_attempts=185,
                max_event_age=cdk.Duration.hours(24),
            )
        )
        self.sweep_schedule = ScheduledJob(
            self,
            "NightlySweep",
            job=self.sweep_job,
            schedule=SWEEP_SCHEDULE,
            share_identifier=INGEST_SHARE,  # EventBridge Scheduler's universal target carries it to SubmitJob
        )

    def _analytics_team(self, image: ecs.ContainerImage) -> None:
        """The aggregation array job, the report job, the pipeline of both and its schedule; share ``analytics``."""
        parameters = {"bucket": self.data.bucket_name, "shards": str(SHARDS)}
        self.aggregate_job = self._job(
            "AggregateJob",
            image,
            command=["python", "/app/jobs.py", "aggregate", "--bucket", "Ref::bucket", "--shards", "Ref::shards"],
            parameters=parameters,
            scheduling_priority=ANALYTICS_PRIORITY,
            timeout=ANALYTICS_TIMEOUT,
        )
        self.report_job = self._job(
            "ReportJob",
            image,
            command=[
                *("python", "/app/jobs.py", "report", "--bucket", "Ref::bucket", "--shards", "Ref::shards"),
                *("--run", "Ref::run"),
            ],
            parameters=parameters,
            scheduling_priority=ANALYTICS_PRIORITY,
            timeout=ANALYTICS_TIMEOUT,
        )
        grant_read_objects(self.aggregate_job.job_role, self.data, CURATED_PREFIX)
        grant_write_objects(self.aggregate_job.job_role, self.data, AGGREGATES_PREFIX)
        grant_read_objects(self.report_job.job_role, self.data, AGGREGATES_PREFIX)
        grant_write_objects(self.report_job.job_role, self.data, REPORTS_PREFIX)

        self.pipeline = BatchPipeline(
            self,
            "NightlyReport",
            steps=[
                # Fan out: the step ends when every child has; each child writes aggregates/<array job id>/part-i.
                PipelineStep(self.aggregate_job, array_size=SHARDS, share_identifier=ANALYTICS_SHARE),
                # Fan in: the report reads the parts of that array job (its id is step 0's result).
                PipelineStep(
                    self.report_job,
                    parameters={"run": sfn.JsonPath.string_at("$.steps.step0.JobId")},
                    share_identifier=ANALYTICS_SHARE,
                ),
            ],
        )
        self.report_schedule = ScheduledJob(self, "NightlyRun", state_machine=self.pipeline, schedule=REPORT_SCHEDULE)
