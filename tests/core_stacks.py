"""Representative core-library stacks, built and synthesized once per test session.

Several test modules assert on the same stacks (the platform tests, the compute and job tests and the snapshots), so
each builder is cached: the stack is constructed and synthesized the first time it is asked for, then shared.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from batch_constructs import BatchNetwork, BatchPlatform, BatchQueue, ContainerJob, EfaEnvironment, MultiNodeJob

from .helpers import new_app, template

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"

#: Identifiers of an existing VPC, in the formats CloudFormation validation accepts.
VPC_ID = "vpc-0123456789abcdef0"
SUBNET_IDS = ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")
ROUTE_TABLE_IDS = ("rtb-0123456789abcdef0", "rtb-0123456789abcdef1")


def imported_vpc(scope: cdk.Stack, construct_id: str = "ExistingVpc") -> ec2.IVpc:
    """A VPC that exists outside the app (two AZs, two private subnets with egress)."""
    return ec2.Vpc.from_vpc_attributes(
        scope,
        construct_id,
        vpc_id=VPC_ID,
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=list(SUBNET_IDS),
        private_subnet_route_table_ids=list(ROUTE_TABLE_IDS),
    )


@dataclass(frozen=True)
class Built:
    """A synthesized stack, the construct under test and extra constructs by name."""

    stack: cdk.Stack
    template: dict[str, Any]
    parts: dict[str, Any]

    def logical_id(self, construct: Any) -> str:
        """The logical id of a construct's L1 (or of an L2's default child)."""
        cfn = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return str(self.stack.resolve(cfn.logical_id))

    def resource(self, construct: Any) -> dict[str, Any]:
        resource: dict[str, Any] = self.template["Resources"][self.logical_id(construct)]
        return resource

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}


def _build(stack: cdk.Stack, **parts: Any) -> Built:
    synthesized: dict[str, Any] = dict(template(stack).to_json())
    return Built(stack, synthesized, parts)


@functools.cache
def default_platform() -> Built:
    """``BatchPlatform`` with every default, and one job added to it."""
    stack = cdk.Stack(new_app(), "DefaultPlatform")
    platform = BatchPlatform(stack, "Platform")
    job = platform.add_job("Job", image=IMAGE, command=["python", "-m", "job", "Ref::input"], parameters={"input": "-"})
    return _build(stack, platform=platform, job=job)


@functools.cache
def ec2_platform() -> Built:
    """``BatchPlatform`` with EC2 Spot and On-Demand environments only, and one job added to it."""
    stack = cdk.Stack(new_app(), "Ec2Platform")
    platform = BatchPlatform(stack, "Platform", fargate=False, fargate_spot=False, spot=True, on_demand=True)
    job = platform.add_job("Job", image=IMAGE)
    return _build(stack, platform=platform, job=job)


@functools.cache
def efa_stack() -> Built:
    """A multi-node job over EFA: network, EFA environment, queue and a four-node job definition."""
    stack = cdk.Stack(new_app(), "EfaMultiNode")
    network = BatchNetwork(stack, "Network")
    environment = EfaEnvironment(stack, "Efa", network=network)
    queue = BatchQueue(stack, "Queue", environments=[environment])
    job = MultiNodeJob(stack, "Job", image=IMAGE, queue=queue, nodes=4, command=["mpirun", "./solver"])
    return _build(stack, network=network, environment=environment, queue=queue, job=job)


def container_job(built: Built) -> ContainerJob:
    job: ContainerJob = built.parts["job"]
    return job
