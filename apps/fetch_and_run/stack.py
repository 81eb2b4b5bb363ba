"""Fetch and run: one generic Batch job that downloads a script from S3 and runs it, the script chosen per run.

A Step Functions state machine is the trigger: ``aws stepfunctions start-execution`` with
``{"parameters": {"script": "s3://.../scripts/x.sh", "args": "..."}}`` submits the job (``submitJob.sync``) and waits
for it, so the execution's status is the script's outcome, and a failure is published to an SNS topic. It was chosen
over a Lambda submitter because it needs no handler code and answers "did my script succeed?" in one command
(``describe-execution``); a Lambda would only submit and leave the waiting to the user.
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import Annotations
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from batch_constructs import BatchPlatform, RetryPolicy
from batch_constructs._compliance import acknowledge, acknowledge_in_packs
from batch_constructs._iam import ManagedPolicyRole
from batch_constructs._logs import default_key
from batch_constructs.stepfunctions import BatchJobStateMachine

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"

#: Scripts are uploaded under this prefix; the job may read nothing else.
SCRIPTS_PREFIX: Final = "scripts/"
#: Largest script the runner downloads: a script is code, not data (it can download its data itself).
MAX_SCRIPT_BYTES: Final = 1024 * 1024
#: One attempt's limit. The runner stops the script 10 minutes earlier, so it can still log why and exit 124.
JOB_TIMEOUT: Final = cdk.Duration.hours(1)
SCRIPT_TIMEOUT: Final = JOB_TIMEOUT.minus(cdk.Duration.minutes(10))


class FetchAndRunStack(cdk.Stack):
    """Scripts bucket, a Fargate Batch platform, the runner job and the state machine that starts it.

    Attributes:
        scripts / access_logs / platform / job / state_machine: what the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = default_key(self)  # the stack's customer-managed key: logs, failure topic, scripts bucket

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logging delivers only to SSE-S3 buckets
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.scripts = s3.Bucket(
            self,
            "Scripts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,  # one KMS request per object instead of per read: KMS cost stays negligible
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,  # every version of every script that ran is kept (90 days once replaced)
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="scripts/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(90))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        # Fargate On-Demand only, and one attempt: the runner cannot know whether a script is safe to run twice, and
        # a Fargate Spot interruption (or any retry) would run it again from the start.
        self.platform = BatchPlatform(self, "Platform", fargate=True, fargate_spot=False)
        self.job = self.platform.add_job(
            "RunScript",
            image=ecs.ContainerImage.from_asset(str(JOB_DIR)),
            vcpus=1,
            memory=cdk.Size.gibibytes(2),
            timeout=JOB_TIMEOUT,
            retry=RetryPolicy.none(),
            # No default for either parameter: `script` must be passed, and an `args` that was not passed reaches
            # the runner as the literal Ref::args, which it reads as "no arguments".
            command=["python", "/app/runner.py", "--script", "Ref::script", "--args", "Ref::args"],
            environment={
                "FETCH_AND_RUN_ALLOWED_PREFIX": f"s3://{self.scripts.bucket_name}/{SCRIPTS_PREFIX}",
                "FETCH_AND_RUN_MAX_BYTES": str(MAX_SCRIPT_BYTES),
                "FETCH_AND_RUN_TIMEOUT_SECONDS": str(int(SCRIPT_TIMEOUT.to_seconds())),
            },
        )
        Annotations.of(self.job).acknowledge_warning(
            "batch-constructs:required-parameters",
            "script is required on every submission by design; an unpassed args arrives as 'Ref::args', which the "
            "runner treats as no arguments",
        )
        self._grant_job_access(key)
        self.state_machine = BatchJobStateMachine(self, "RunScriptStateMachine", job=self.job)
        self._acknowledge_inherent_findings()

        cdk.CfnOutput(self, "ScriptsBucketName", value=self.scripts.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.state_machine.failure_topic.topic_arn)
        cdk.CfnOutput(self, "JobQueueArn", value=self.platform.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job.log_group.log_group_name)

    def _grant_job_access(self, key: kms.IKey) -> None:
        """What runner.py calls, and nothing a script could use beyond it: HeadObject/GetObject under ``scripts/``,
        ListBucket (a missing script is then a 404 the runner reports as such, not a 403) and kms:Decrypt."""
        role = self.job.job_role
        for statement in (
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.scripts.arn_for_objects(f"{SCRIPTS_PREFIX}*")]
            ),
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.scripts.bucket_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]),
        ):
            role.add_to_principal_policy(statement)

    def _acknowledge_inherent_findings(self) -> None:
        """The findings this architecture cannot fix, each on the one resource or policy it is about."""
        acknowledge(
            _managed_policy(self.job.job_role),
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self.get_logical_id(_cfn(self.scripts))}.Arn>/"
            f"{SCRIPTS_PREFIX}*]",
            "s3:GetObject on the scripts/ prefix of the one scripts bucket: each run names its script, so the key is "
            "known only at run time; the action is exact (no wildcard actions).",
        )
        for bucket, why in (
            (self.scripts, "holds scripts their authors keep in source control and can upload again"),
            (self.access_logs, "holds the scripts bucket's server access logs (an audit aid S3 delivers best effort)"),
        ):
            acknowledge_in_packs(
                _cfn(bucket),
                "S3BucketReplicationEnabled",
                f"The bucket {why}; it is versioned and retained on stack deletion. Cross-region replication would "
                "need a destination bucket in a second, region-bound stack (this example stack is environment-"
                "agnostic) and double the storage cost; add a replication rule when a second-region copy is required.",
            )
        acknowledge_in_packs(
            _cfn(self.access_logs),
            "S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to buckets encrypted with SSE-S3 (Amazon S3 managed keys), not "
            "SSE-KMS; the objects are encrypted at rest (AES-256), the bucket is private and TLS-only.",
        )


def _cfn(construct: Construct) -> cdk.CfnResource:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return resource


def _managed_policy(role: iam.IRole) -> iam.ManagedPolicy:
    """The managed policy holding a library role's grants (see batch_constructs._iam.ManagedPolicyRole)."""
    assert isinstance(role, ManagedPolicyRole) and role.managed_policy is not None
    return role.managed_policy
