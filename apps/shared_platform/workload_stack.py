"""A workload team's stack: its own data bucket, job definition and nightly schedule, on the platform's queue.

The team owns everything in this stack and nothing of the platform: it references the shared queue (by object in the
same app, or by its exported ARN from another app) and submits to it; it cannot change the environments, the network
or the queue.
"""

from __future__ import annotations

from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from batch_constructs import ContainerJob, ScheduledJob, access_logs_bucket, data_bucket
from batch_constructs.types import Queue

from .platform_stack import QUEUE_ARN_EXPORT

#: The AWS CLI v2 image from Amazon ECR Public, pinned so that a run tomorrow behaves like today's (bump it on purpose).
AWS_CLI_IMAGE: Final = "public.ecr.aws/aws-cli/aws-cli:2.27.0"

#: 02:00 UTC every night.
NIGHTLY: Final = events.Schedule.cron(minute="0", hour="2")


def import_platform_queue(scope: Construct, construct_id: str = "PlatformQueue") -> batch.IJobQueue:
    """The platform's queue in a workload deployed from ANOTHER app (or repository): imported by its exported ARN.

    ``Fn::ImportValue`` makes CloudFormation refuse to delete the platform's export while this stack uses it.
    """
    return batch.JobQueue.from_job_queue_arn(scope, construct_id, cdk.Fn.import_value(QUEUE_ARN_EXPORT))


class SharedWorkloadStack(cdk.Stack):
    """A team's nightly report of its data bucket, run as a Batch job on the shared platform's queue.

    Args:
        queue: the platform's queue as the ``BatchQueue`` object of a platform stack in the same app (CDK then writes
            the export, the ``Fn::ImportValue`` and the deploy order itself). Default: the queue imported by its
            export name :data:`QUEUE_ARN_EXPORT` (:func:`import_platform_queue`), for a workload in another app.

    Attributes:
        queue: the platform's queue the jobs are submitted to.
        data / access_logs / report / schedule: what the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, *, queue: Queue | None = None, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: a team's jobs and schedule on a shared Batch platform",
            **kwargs,
        )
        # Read the platform's outputs through CloudFormation exports (Fn::ImportValue, a strong reference) whatever
        # the app's default (this project's cdk.json asks for weak Fn::GetStackOutput references): CloudFormation
        # then refuses to delete or replace the shared queue while a workload still uses it.
        cdk.CrossStackReferences.of(self).consume(cdk.ReferenceStrength.STRONG)
        self.queue: Queue = queue if queue is not None else import_platform_queue(self)
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        self.data = data_bucket(
            self,
            "Data",
            access_logs=self.access_logs,
            noncurrent_version_expiration=cdk.Duration.days(30),
            replication_reason="The bucket holds the team's data, versioned and retained on stack deletion.",
        )
        # The report: object count and total size of the team's bucket, written to the job's log group. Listing
        # needs s3:ListBucket only (no object reads, no KMS).
        self.report = ContainerJob(
            self,
            "NightlyReport",
            image=AWS_CLI_IMAGE,  # entrypoint `aws`: the command is its arguments
            queue=self.queue,
            platform="FARGATE",  # the platform's queue is Fargate (an imported queue cannot tell the job)
            vcpus=0.25,
            memory=cdk.Size.mebibytes(512),
            command=["s3", "ls", f"s3://{self.data.bucket_name}/", "--recursive", "--summarize", "--human-readable"],
            timeout=cdk.Duration.minutes(30),
        )
        self.report.job_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.data.bucket_arn])
        )
        self.schedule = ScheduledJob(self, "Nightly", job=self.report, schedule=NIGHTLY)

        cdk.CfnOutput(self, "DataBucketName", value=self.data.bucket_name)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.report.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.report.log_group.log_group_name)
