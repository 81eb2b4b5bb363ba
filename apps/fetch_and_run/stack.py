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
from constructs import Construct

from batch_constructs import (
    BATCH_INTERFACE_ENDPOINTS,
    BatchJobStateMachine,
    BatchPlatform,
    Container,
    FireLens,
    MultiContainerJob,
    RetryPolicy,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
)
from batch_constructs.jobs import FLUENT_BIT_IMAGE

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"
#: A Dockerfile that only re-publishes the Fluent Bit image (FLUENT_BIT_IMAGE) as a CDK asset, for the no-NAT variant.
ROUTER_DIR: Final = pathlib.Path(__file__).parent / "log_router"

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

    def __init__(self, scope: Construct, construct_id: str, *, nat: bool = True, **kwargs: Any) -> None:
        """``nat=False``: no NAT gateway; the jobs' isolated subnets reach ECR, ECS and CloudWatch Logs through
        interface endpoints (:data:`BATCH_INTERFACE_ENDPOINTS`) and S3 through the gateway endpoint."""
        super().__init__(scope, construct_id, **kwargs)
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        # KMS with the stack's key (which also encrypts the logs and the failure topic); every version of every script
        # that ran is kept (90 days once replaced).
        self.scripts = data_bucket(
            self,
            "Scripts",
            access_logs=self.access_logs,
            replication_reason=(
                "The bucket holds scripts their authors keep in source control and can upload again; it is versioned "
                "and retained on stack deletion."
            ),
        )

        # Fargate On-Demand only, and one attempt: the runner cannot know whether a script is safe to run twice, and
        # a Fargate Spot interruption (or any retry) would run it again from the start.
        self.platform = BatchPlatform(
            self,
            "Platform",
            fargate=True,
            fargate_spot=False,
            nat_gateways=None if nat else 0,
            network_options=None if nat else {"interface_endpoints": BATCH_INTERFACE_ENDPOINTS},
        )
        # Two containers in one task, 1 vCPU / 2 GiB in total (a Fargate size): the runner, and a FireLens log router
        # (Fluent Bit) that ships the runner's output to the job's log group, one event per line. The router starts
        # first and is not essential: the runner's exit ends the job. Created under the platform, where the previous
        # single-container job lived, so the job's log group, roles and definition keep their logical ids.
        # Without NAT the jobs reach only ECR through the VPC endpoints, not public ECR: the router image is then
        # rebuilt from FLUENT_BIT_IMAGE as an asset (log_router/Dockerfile), which CDK pushes to the assets repository.
        router_image: ecs.ContainerImage | str = (
            FLUENT_BIT_IMAGE if nat else ecs.ContainerImage.from_asset(str(ROUTER_DIR))
        )
        self.job = MultiContainerJob(
            self.platform,
            "RunScript",
            queue=self.platform.queue,
            platform="FARGATE",
            timeout=JOB_TIMEOUT,
            retry=RetryPolicy.none(),
            containers=[
                Container(
                    "runner",
                    ecs.ContainerImage.from_asset(str(JOB_DIR)),
                    vcpus=0.75,
                    memory=cdk.Size.mebibytes(1536),
                    depends_on={"log_router": "START"},
                    # No default for either parameter: `script` must be passed, and an `args` that was not passed
                    # reaches the runner as the literal Ref::args, which it reads as "no arguments".
                    command=["python", "/app/runner.py", "--script", "Ref::script", "--args", "Ref::args"],
                    environment={
                        "FETCH_AND_RUN_ALLOWED_PREFIX": f"s3://{self.scripts.bucket_name}/{SCRIPTS_PREFIX}",
                        "FETCH_AND_RUN_MAX_BYTES": str(MAX_SCRIPT_BYTES),
                        "FETCH_AND_RUN_TIMEOUT_SECONDS": str(int(SCRIPT_TIMEOUT.to_seconds())),
                    },
                ),
                Container(
                    "log_router",
                    router_image,
                    vcpus=0.25,
                    memory=cdk.Size.mebibytes(512),
                    essential=False,
                    firelens=FireLens(),
                ),
            ],
        )
        Annotations.of(self.job).acknowledge_warning(
            "batch-constructs:required-parameters",
            "script is required on every submission by design; an unpassed args arrives as 'Ref::args', which the "
            "runner treats as no arguments",
        )
        # What runner.py calls, and nothing a script could use beyond it: HeadObject/GetObject under scripts/,
        # ListBucket (a missing script is then a 404 the runner reports as such, not a 403) and kms:Decrypt.
        grant_read_objects(self.job.job_role, self.scripts, SCRIPTS_PREFIX)
        self.state_machine = BatchJobStateMachine(self, "RunScriptStateMachine", job=self.job)

        cdk.CfnOutput(self, "ScriptsBucketName", value=self.scripts.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.state_machine.failure_topic.topic_arn)
        cdk.CfnOutput(self, "JobQueueArn", value=self.platform.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job.log_group.log_group_name)
