"""The movies importer: a zipped movie-ratings CSV in S3 imported into DynamoDB by a Fargate job.

Step Functions runs the job (``batch:submitJob.sync``) on demand, and a daily EventBridge schedule starts the same
state machine, so a scheduled run that fails alerts the same topic and leaves the same execution history as a manual
one (a few state transitions a day: cents a year).
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from constructs import Construct

from apps._tables import grant_table_key
from batch_constructs import (
    BatchPlatform,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    grant_write_objects,
    stack_encryption_key,
)
from batch_constructs.compliance import acknowledge_in_packs
from batch_constructs.triggers.schedule import ScheduledJob
from batch_constructs.triggers.stepfunctions import BatchJobStateMachine

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"

#: Where uploads go; the job may read nothing else in the bucket.
UPLOAD_PREFIX: Final = "uploads/"
#: The file the daily run imports (the upstream export overwrites it; bucket versioning keeps every day's file).
DAILY_FILE: Final = f"{UPLOAD_PREFIX}movies.zip"
#: Where the job writes each import's rejected rows (``rejects/<file path>.rejects.jsonl``; importer.py's default).
REJECTS_PREFIX: Final = "rejects/"


class MoviesImporterStack(cdk.Stack):
    """Uploads bucket, movies table, Fargate platform, import job, state machine and daily schedule.

    Attributes:
        platform / job / uploads / access_logs / table / state_machine / schedule: what the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: imports a zipped movies CSV from S3 into DynamoDB with AWS Batch",
            **kwargs,
        )
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        # KMS with the stack's key (which also encrypts the logs, topic and queue); replaced versions are kept 90 days.
        self.uploads = data_bucket(
            self,
            "Uploads",
            access_logs=self.access_logs,
            replication_reason=(
                "The bucket holds upload files that their producer can upload again; versioning keeps every version "
                "and the bucket is retained on stack deletion."
            ),
        )
        self.table = dynamodb.Table(
            self,
            "Movies",
            partition_key=dynamodb.Attribute(name="movieId", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=stack_encryption_key(self),  # see apps/_tables.py
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.platform = BatchPlatform(self, "Platform")  # Fargate Spot first, Fargate On-Demand as fallback
        self.job = self.platform.add_job(
            "ImportJob",
            image=ecs.ContainerImage.from_asset(str(JOB_DIR)),
            vcpus=1,
            memory=cdk.Size.gibibytes(2),
            # The image's entrypoint is importer.py; each job parameter becomes its option (see job/importer.py).
            command=["--bucket", "Ref::bucket", "--file-path", "Ref::file_path", "--table-name", "Ref::table_name"],
            parameters={
                "bucket": self.uploads.bucket_name,
                "file_path": DAILY_FILE,
                "table_name": self.table.table_name,
            },
        )
        self._grant_job_access()
        self._acknowledge_inherent_findings()

        self.state_machine = BatchJobStateMachine(self, "ImportStateMachine", job=self.job)
        self.schedule = ScheduledJob(
            self,
            "DailyImport",
            schedule=events.Schedule.cron(minute="0", hour="3"),  # 03:00 UTC
            state_machine=self.state_machine,
            parameters={"file_path": DAILY_FILE},
        )
        cdk.CfnOutput(self, "UploadsBucketName", value=self.uploads.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.state_machine.failure_topic.topic_arn)
        cdk.CfnOutput(self, "JobQueueArn", value=self.platform.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job.log_group.log_group_name)

    def _grant_job_access(self) -> None:
        """Exactly what importer.py calls: s3:GetObject under uploads/, s3:ListBucket on the bucket (so that a missing
        key answers 404 "does not exist" rather than 403), kms:Decrypt on the bucket's key, s3:PutObject under
        rejects/ (with kms:GenerateDataKey) for the rejected rows, and dynamodb:BatchWriteItem
        (boto3's batch_writer) on the table, with its key through DynamoDB. No wildcard action, and no
        ``s3:ListObjectsInBucket``: the original asked for it, but no such IAM action exists (listing is
        ``s3:ListBucket``)."""
        role = self.job.job_role
        grant_read_objects(role, self.uploads, UPLOAD_PREFIX)
        # The rejected rows of each import (importer.py's REJECTS_PREFIX default), outside uploads/ so that the job
        # can never read back what it wrote.
        grant_write_objects(role, self.uploads, REJECTS_PREFIX)
        # Not grant_write_data: the job never updates, deletes or describes.
        self.table.grant(role, "dynamodb:BatchWriteItem")
        grant_table_key(role, self.table)  # the table's key, through DynamoDB only

    def _acknowledge_inherent_findings(self) -> None:
        """The findings this architecture cannot fix, each on the one resource or policy it is about."""
        acknowledge_in_packs(
            self.table.node.find_child("Resource"),
            "DynamoDBInBackupPlan",
            "The table is a derived copy of the files in the versioned, retained uploads bucket: point-in-time "
            "recovery (on) restores it to any second of the last 35 days, and re-running the import rebuilds it from "
            "any earlier file version. An AWS Backup plan would add a third copy, a vault and a role at extra cost.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
