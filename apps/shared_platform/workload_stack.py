"""A workload team's stack: its own data bucket, job definition and nightly schedule, on the platform's queue.

The team owns everything in this stack and nothing of the platform: it references the shared queue (by object in the
same app, or from another app by the platform's published contract and exported ARN) and submits to it; it cannot
change the environments, the network or the queue.
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from batch_constructs import ContainerJob, ImportedQueue, ScheduledJob, access_logs_bucket, data_bucket, import_queue
from batch_constructs.contract import context_from_file
from batch_constructs.types import Queue

from .platform_stack import CONTRACT_PARAMETER, CONTRACT_QUEUE, QUEUE_ARN_EXPORT

#: The AWS CLI v2 image from Amazon ECR Public, pinned so that a run tomorrow behaves like today's (bump it on purpose).
AWS_CLI_IMAGE: Final = "public.ecr.aws/aws-cli/aws-cli:2.27.0"

#: 02:00 UTC every night.
NIGHTLY: Final = events.Schedule.cron(minute="0", hour="2")


#: The platform's contract as the CDK CLI caches it after one lookup (``cdk.context.json`` format), committed so that
#: this workload synthesizes offline, as a workload in another repository would with its own ``cdk.context.json``.
CONTEXT_FILE: Final = pathlib.Path(__file__).with_name("contract.context.json")
#: The account and region the committed lookup was made for (a context lookup is per environment). A real workload
#: uses its own: then ``cdk synth`` with credentials looks the parameter up once and caches it in cdk.context.json.
WORKLOAD_ENV: Final = cdk.Environment(account="123456789012", region="us-east-1")


def import_platform_queue(scope: Construct, construct_id: str = "PlatformQueue") -> ImportedQueue:
    """The platform's queue in a workload deployed from ANOTHER app (or repository): its contract read from the SSM
    parameter :data:`CONTRACT_PARAMETER` at synth (a context lookup), its ARN from the export :data:`QUEUE_ARN_EXPORT`.

    The contract keeps every check of a local queue (the job fits, platform, GPUs, fair share); ``Fn::ImportValue``
    makes CloudFormation refuse to delete the platform's export while this stack uses it.
    """
    return import_queue(
        scope,
        construct_id,
        parameter_name=CONTRACT_PARAMETER,
        queue=CONTRACT_QUEUE,
        job_queue_arn=cdk.Fn.import_value(QUEUE_ARN_EXPORT),
    )


class SharedWorkloadStack(cdk.Stack):
    """A team's nightly report of its data bucket, run as a Batch job on the shared platform's queue.

    Args:
        queue: the platform's queue as the ``BatchQueue`` object of a platform stack in the same app (CDK then writes
            the export, the ``Fn::ImportValue`` and the deploy order itself). Default: the queue imported from the
            platform's contract (:func:`import_platform_queue`), as a workload in another app does; the stack then
            reads the lookup from :data:`CONTEXT_FILE` and defaults ``env`` to :data:`WORKLOAD_ENV`.

    Attributes:
        queue: the platform's queue the jobs are submitted to.
        data / access_logs / report / schedule: what the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, *, queue: Queue | None = None, **kwargs: Any) -> None:
        if queue is None:
            kwargs.setdefault("env", WORKLOAD_ENV)
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
        if queue is None:
            context_from_file(self, CONTEXT_FILE)  # before any child: the lookup below answers from the file
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
            queue=self.queue,  # Fargate, from the queue (its object or its contract): the job is checked against it
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
