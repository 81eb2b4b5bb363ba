"""A "deployed" batch-constructs stack in moto for the CLI tests (and the README transcript).

moto's CloudFormation engine does not take the templates the L2 writes (toolchain notes), so the stack here is a
hand-written template of the same shape: CDK-style logical ids (construct path + 8-character hash), a Fargate compute
environment in a private subnet behind a NAT gateway, one queue, two job definitions logging to a KMS-less log group.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from typing import TYPE_CHECKING, Any

from ..aws_mock import client, mocked_aws

if TYPE_CHECKING:
    from batch_constructs.cli._aws import Aws

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "MoviesImporter"
LOG_GROUP = "/batch-constructs/MoviesImporter/jobs"


@dataclass
class Clock:
    """A fake monotonic clock: ``sleep`` advances it instead of waiting."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@functools.cache
def cli_aws() -> Aws:
    """The CLI's clients for the in-process commands, created once per process (per xdist worker).

    The CLI makes one ``Aws`` (a boto3 session and its clients) per command, as a terminal process would; here the
    commands share one through :class:`~batch_constructs.cli.Context`, the seam the CLI has for tests. A command
    keeps no state in it besides the clients, and a botocore client keeps none between calls that moto's answers
    depend on (credentials and the adaptive retry mode's rate limiter, which nothing here throttles), so every
    command still reads the world fresh from moto. Creating the clients again for each command cost about 0.1-0.3 s
    each (EC2's client alone has about 600 methods); the path ``main`` takes without a ``Context`` (its own
    session, region and credential errors, adaptive retries) is tested on its own in ``test_main.py``.
    """
    from batch_constructs.cli._aws import Aws

    return Aws(region=REGION)  # its credentials: moto's dummy ones, which deployed_stack puts in the environment


@dataclass
class Deployed:
    """Handles on the moto stack."""

    subnet_id: str
    vpc_id: str
    route_table_id: str
    security_group_id: str
    queue_arn: str
    environment_arn: str
    job_definition_arn: str
    clock: Clock = field(default_factory=Clock)

    def client(self, service: str) -> Any:
        return client(service, REGION)

    def run(self, *argv: str) -> tuple[int, str]:
        """Run the CLI in-process against moto; returns (exit code, stdout)."""
        from batch_constructs.cli import Context, main

        out = StringIO()
        context = Context(aws=cli_aws(), out=out, sleep=self.clock.sleep, clock=self.clock)
        code = main(list(argv), context=context)
        return code, out.getvalue()

    def submit(self, name: str = "import", **kwargs: Any) -> str:
        batch = self.client("batch")
        return str(
            batch.submit_job(jobName=name, jobQueue=self.queue_arn, jobDefinition=self.job_definition_arn, **kwargs)[
                "jobId"
            ]
        )

    def moto_job(self, job_id: str) -> Any:
        from moto.batch.models import batch_backends

        job = batch_backends[ACCOUNT][REGION].get_job_by_id(job_id)
        assert job is not None
        return job


def _template(service_role: str, subnet: str, security_group: str) -> dict[str, Any]:
    log = {"LogDriver": "awslogs", "Options": {"awslogs-group": LOG_GROUP, "awslogs-stream-prefix": "batch"}}

    def job_definition(vcpus: str, memory: str, command: list[str]) -> dict[str, Any]:
        return {
            "Type": "AWS::Batch::JobDefinition",
            "Properties": {
                "Type": "container",
                "PlatformCapabilities": ["FARGATE"],
                "RetryStrategy": {"Attempts": 3},
                "Parameters": {"file_path": "uploads/movies.zip"},
                "Timeout": {"AttemptDurationSeconds": 3600},
                "ContainerProperties": {
                    "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-assets:import",
                    "Command": command,
                    "ResourceRequirements": [{"Type": "VCPU", "Value": vcpus}, {"Type": "MEMORY", "Value": memory}],
                    "LogConfiguration": log,
                    "NetworkConfiguration": {"AssignPublicIp": "DISABLED"},
                },
            },
        }

    return {
        "Resources": {
            "PlatformFargate976AA3D6": {
                "Type": "AWS::Batch::ComputeEnvironment",
                "Properties": {
                    "Type": "MANAGED",
                    "ServiceRole": service_role,
                    "ComputeResources": {
                        "Type": "FARGATE",
                        "MaxvCpus": 256,
                        "Subnets": [subnet],
                        "SecurityGroupIds": [security_group],
                    },
                },
            },
            "PlatformFargateQueueAB3E3FAE": {
                "Type": "AWS::Batch::JobQueue",
                "Properties": {
                    "Priority": 1,
                    "ComputeEnvironmentOrder": [{"Order": 1, "ComputeEnvironment": {"Ref": "PlatformFargate976AA3D6"}}],
                },
            },
            "PlatformImportJob4D5E6F70": job_definition("1", "2048", ["python", "/app/import.py", "Ref::file_path"]),
            "PlatformReportJob0A1B2C3D": job_definition("0.25", "512", ["python", "/app/report.py"]),
            "JobLogGroup12345678": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": LOG_GROUP}},
        },
        "Outputs": {"JobQueueArn": {"Value": {"Ref": "PlatformFargateQueueAB3E3FAE"}}},
    }


def _role(iam: Any, name: str, principal: str, policy: str | None) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}],
    }
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
        }))  # fmt: skip
    return arn


@contextmanager
def deployed_stack(
    env: Callable[[str, str], None],
    *,
    service_role: tuple[str, str, str | None] = ("BatchServiceRole", "batch.amazonaws.com", "BatchService"),
) -> Iterator[Deployed]:
    """moto with the stack deployed; ``env`` sets environment variables (pytest's ``monkeypatch.setenv``).

    Never inside another ``mocked_aws()``: moto empties its backends only when it starts, not when it nests, so the
    stack would be deployed among the other world's resources.
    """
    from moto.core.models import MockAWS

    if MockAWS._nested_count:
        raise RuntimeError("deployed_stack() inside another mocked_aws(): a test module uses one kind of stack only")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        env(key, value)
    with mocked_aws():
        ec2 = client("ec2", REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]
        private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public["SubnetId"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ec2.associate_route_table(RouteTableId=table, SubnetId=private["SubnetId"])
        sg = ec2.create_security_group(GroupName="batch", Description="batch jobs", VpcId=vpc)["GroupId"]
        role_name, principal, policy = service_role
        role = _role(client("iam", REGION), role_name, principal, policy)
        cloudformation = client("cloudformation", REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(_template(role, private["SubnetId"], sg)))
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        }
        yield Deployed(
            subnet_id=private["SubnetId"],
            vpc_id=vpc,
            route_table_id=table,
            security_group_id=sg,
            queue_arn=physical["PlatformFargateQueueAB3E3FAE"],
            environment_arn=physical["PlatformFargate976AA3D6"],
            job_definition_arn=physical["PlatformImportJob4D5E6F70"],
        )


def force(deployed: Deployed, job_id: str, status: str, reason: str | None = None) -> None:
    """Put a moto job in ``status`` (moto's non-Docker Batch ends every job at once) with Batch's ``statusReason``."""
    from moto.moto_api import state_manager

    # "manual" progression with an unreachable tick count: moto no longer moves jobs on when they are described.
    state_manager.set_transition("batch::job", {"progression": "manual", "times": 10**9})
    job = deployed.moto_job(job_id)
    job.status = status
    job.job_stopped = status in ("SUCCEEDED", "FAILED")
    job.job_stopped_reason = reason
    if status in ("SUBMITTED", "PENDING", "RUNNABLE"):
        job.attempts = []
