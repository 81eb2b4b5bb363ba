"""Validation wired into the constructs: each rule rejects the first bad value and accepts the boundary value.

Errors are asserted on the message: the construct path, the value received and ``Fix:``. Most constructs are built in
one module-scoped stack that is never synthesized (a rejected construct leaves its half-built children behind);
warnings, acknowledgements and synth-time checks use small stacks of their own. The limits themselves are covered
value by value in ``test_rules.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Annotations, Duration, Size, Tags
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations as AnnotationsAssert
from aws_cdk.assertions import Match, Template

from batch_constructs import (
    BATCH_INTERFACE_ENDPOINTS,
    BatchConfigurationError,
    BatchJobStateMachine,
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    GpuEnvironment,
    MultiNodeJob,
    NodeGroup,
    RetryCondition,
    RetryPolicy,
    SpotEnvironment,
    SpotFleetRole,
)
from batch_constructs._internal import limits as _limits

from .helpers import new_app

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"
VPC_ID = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def existing_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id=VPC_ID,
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=SUBNETS,
        private_subnet_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
    )


@dataclass
class World:
    """Environments and queues that the tests submit jobs to (never synthesized)."""

    stack: cdk.Stack
    vpc: ec2.IVpc
    fargate_queue: BatchQueue
    small_queue: BatchQueue  # EC2, m7i.large only (2 vCPUs, 8 GiB)
    spot_queue: BatchQueue
    gpu_queue: BatchQueue
    efa_queue: BatchQueue
    ec2_queue: BatchQueue  # On-Demand EC2, m7i/c7i/r7i, not EFA
    fair_queue: BatchQueue
    ids: Iterator[int]

    def id(self, prefix: str = "C") -> str:
        return f"{prefix}{next(self.ids)}"

    def job(self, **kwargs: Any) -> ContainerJob:
        kwargs.setdefault("image", IMAGE)
        return ContainerJob(self.stack, self.id("Job"), **kwargs)

    def multinode(self, **kwargs: Any) -> MultiNodeJob:
        kwargs.setdefault("image", IMAGE)
        return MultiNodeJob(self.stack, self.id("Mnp"), **kwargs)


@pytest.fixture(scope="module")
def world() -> World:
    stack = cdk.Stack(new_app(), "Validation")
    vpc = existing_vpc(stack)
    fargate = FargateEnvironment(stack, "Fargate", vpc=vpc)
    small = Ec2Environment(stack, "Small", vpc=vpc, instance_types=[ec2.InstanceType("m7i.large")], max_vcpus=16)
    spot = SpotEnvironment(stack, "Spot", vpc=vpc)
    gpu = GpuEnvironment(stack, "Gpu", vpc=vpc)
    efa = EfaEnvironment(stack, "Efa", vpc=vpc, max_vcpus=288)
    on_demand = Ec2Environment(stack, "OnDemand", vpc=vpc)
    return World(
        stack=stack,
        vpc=vpc,
        fargate_queue=BatchQueue(stack, "FargateQueue", environments=[fargate]),
        small_queue=BatchQueue(stack, "SmallQueue", environments=[small]),
        spot_queue=BatchQueue(stack, "SpotQueue", environments=[spot]),
        gpu_queue=BatchQueue(stack, "GpuQueue", environments=[gpu]),
        efa_queue=BatchQueue(stack, "EfaQueue", environments=[efa]),
        ec2_queue=BatchQueue(stack, "Ec2Queue", environments=[on_demand]),
        fair_queue=BatchQueue(stack, "FairQueue", environments=[fargate], fair_share={"teamA": 1, "teamB": 0.5}),
        ids=count(),
    )


@contextmanager
def rejects(rule: str, *fragments: str) -> Iterator[None]:
    """The block raises one BatchConfigurationError naming ``rule``, the construct path, each fragment and a fix."""
    with pytest.raises(BatchConfigurationError) as caught:
        yield
    error = caught.value
    message = str(error)
    assert message.startswith(f"{error.path}: "), message
    assert re.match(r"^Validation/\w+|^[A-Z]\w*/", error.path), error.path
    matching = [p for p in error.problems if p.startswith(f"[{rule}] ")]
    assert matching, message
    assert all("Fix: " in p for p in error.problems), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# -------------------------------------------------------------------------------------------------------------- jobs


def test_fargate_memory(world: World) -> None:
    with rejects("fargate-resources", "memory=1024 MiB with vcpus=1", "use memory=2048 MiB"):
        world.job(queue=world.fargate_queue, vcpus=1, memory=Size.gibibytes(1))
    world.job(queue=world.fargate_queue, vcpus=1, memory=Size.gibibytes(2))
    world.job(queue=world.fargate_queue, vcpus=16, memory=Size.gibibytes(120))


def test_fargate_vcpus(world: World) -> None:
    with rejects("fargate-resources", "vcpus=3 is not a Fargate size", "use vcpus=4"):
        world.job(queue=world.fargate_queue, vcpus=3, memory=Size.gibibytes(8))


def test_fargate_gpu(world: World) -> None:
    with rejects("fargate-gpu", "gpus=1 on a Fargate job"):
        world.job(queue=world.fargate_queue, gpus=1)


def test_platform_props(world: World) -> None:
    with rejects("platform-props", "privileged=True on a Fargate job"):
        world.job(queue=world.fargate_queue, privileged=True)
    with rejects("platform-props", "ephemeral_storage on an EC2 job"):
        world.job(queue=world.ec2_queue, ephemeral_storage=Size.gibibytes(30))
    with rejects("platform-props", "architecture on an EC2 job"):
        world.job(queue=world.ec2_queue, architecture=ecs.CpuArchitecture.ARM64)
    world.job(queue=world.ec2_queue, privileged=True)


def test_ephemeral_storage(world: World) -> None:
    with rejects("ephemeral-storage", "ephemeral_storage (GiB)=201; allowed 21-200"):
        world.job(queue=world.fargate_queue, ephemeral_storage=Size.gibibytes(201))
    world.job(queue=world.fargate_queue, ephemeral_storage=Size.gibibytes(200))
    world.job(queue=world.fargate_queue, ephemeral_storage=Size.gibibytes(21))


def test_ec2_needs_a_whole_vcpu(world: World) -> None:
    with rejects("job-resources", "vcpus=0.5; the minimum is 1 on EC2"):
        world.job(queue=world.ec2_queue, vcpus=0.5)
    world.job(queue=world.ec2_queue, vcpus=1)


def test_job_fits_vcpus(world: World) -> None:
    with rejects("job-fits-queue", "3 vCPUs", "Validation/SmallQueue", "Validation/Small: no instance", "m7i.xlarge"):
        world.job(queue=world.small_queue, vcpus=3, memory=Size.gibibytes(2))
    world.job(queue=world.small_queue, vcpus=2, memory=Size.gibibytes(2))


def test_job_fits_memory(world: World) -> None:
    with rejects("job-fits-queue", "8193 MiB", "largest: m7i.large: 2 vCPUs, 8192 MiB"):
        world.job(queue=world.small_queue, vcpus=1, memory=Size.mebibytes(8193))
    world.job(queue=world.small_queue, vcpus=1, memory=Size.mebibytes(8192))


def test_job_fits_max_vcpus(world: World) -> None:
    small = Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, max_vcpus=4)
    queue = BatchQueue(world.stack, world.id("Queue"), environments=[small])
    with rejects("job-fits-queue", "max_vcpus=4 is less than the job's 5 vCPUs", "at least 5"):
        world.job(queue=queue, vcpus=5)
    world.job(queue=queue, vcpus=4)


def test_gpu_job_on_cpu_queue(world: World) -> None:
    with rejects("job-fits-queue", "1 GPUs", "g5"):
        world.job(queue=world.ec2_queue, vcpus=4, memory=Size.gibibytes(8), gpus=1)
    world.job(queue=world.gpu_queue, vcpus=4, memory=Size.gibibytes(8), gpus=1)
    world.job(queue=world.gpu_queue, vcpus=8, memory=Size.gibibytes(64), gpus=8)


def test_platform_must_match_the_queue(world: World) -> None:
    with rejects("job-fits-queue", "an EC2 environment cannot run a FARGATE job", "make it an EC2 job"):
        world.job(queue=world.ec2_queue, platform="FARGATE")


@pytest.mark.parametrize(("value", "ok"), [(-1, False), (0, True), (9999, True), (10000, False)])
def test_scheduling_priority(world: World, value: int, ok: bool) -> None:
    if ok:
        world.job(queue=world.fargate_queue, scheduling_priority=value)
    else:
        with rejects("scheduling-priority", f"scheduling_priority={value}; allowed 0-9999"):
            world.job(queue=world.fargate_queue, scheduling_priority=value)


def test_fair_share_needs_a_scheduling_priority(world: World) -> None:
    with rejects("fair-share-priority", "Validation/FairQueue uses fair share", "set scheduling_priority"):
        world.job(queue=world.fair_queue)
    world.job(queue=world.fair_queue, scheduling_priority=0)


@pytest.mark.parametrize(("attempts", "ok"), [(0, False), (1, True), (10, True), (11, False)])
def test_retry_attempts(world: World, attempts: int, ok: bool) -> None:
    retry = RetryPolicy(attempts)
    if ok:
        world.job(queue=world.fargate_queue, retry=retry)
    else:
        with rejects("retry-attempts", f"retry_attempts={attempts}; allowed 1-10"):
            world.job(queue=world.fargate_queue, retry=retry)


def test_retry_conditions(world: World) -> None:
    retry = RetryCondition.retry(on_status_reason="Host EC2*")
    five = [retry] * 4 + [RetryCondition.exit_on_anything()]
    world.job(queue=world.fargate_queue, retry=RetryPolicy(10, five))
    with rejects("retry-conditions", "6 retry conditions; AWS takes at most 5"):
        world.job(queue=world.fargate_queue, retry=RetryPolicy(10, [retry, *five]))
    with rejects("retry-conditions", "retry_attempts=1"):
        world.job(queue=world.fargate_queue, retry=RetryPolicy(1, five))


def test_retry_catch_all(world: World) -> None:
    with rejects("retry-catch-all", "not a catch-all EXIT", "exit_on_anything()"):
        world.job(queue=world.fargate_queue, retry=RetryPolicy(3, [RetryCondition.retry(on_exit_code="1")]))


def test_retry_pattern(world: World) -> None:
    bad = RetryCondition.retry(on_reason="Out of memory (OOM)")
    with rejects("retry-pattern", "on_reason='Out of memory (OOM)'", "'Out of memory *'"):
        world.job(queue=world.fargate_queue, retry=RetryPolicy(3, [bad, RetryCondition.exit_on_anything()]))


def test_timeout(world: World) -> None:
    with rejects("timeout", "timeout=59 s"):
        world.job(queue=world.fargate_queue, timeout=Duration.seconds(59))
    world.job(queue=world.fargate_queue, timeout=Duration.seconds(60))


def test_job_definition_name(world: World) -> None:
    with rejects("name", "job_definition_name='nightly report'", "'nightly-report'"):
        world.job(queue=world.fargate_queue, job_definition_name="nightly report")
    with rejects("name", "(129 characters)"):
        world.job(queue=world.fargate_queue, job_definition_name="a" * 129)
    world.job(queue=world.fargate_queue, job_definition_name="a" * 128)


def test_three_problems_one_error(world: World) -> None:
    with pytest.raises(BatchConfigurationError) as caught:
        world.job(
            queue=world.fargate_queue,
            vcpus=1,
            memory=Size.gibibytes(1),
            retry=RetryPolicy(11),
            timeout=Duration.seconds(30),
        )
    assert [p.split("]")[0] + "]" for p in caught.value.problems] == [
        "[retry-attempts]",
        "[timeout]",
        "[fargate-resources]",
    ]
    assert str(caught.value).startswith(f"{caught.value.path}: 3 configuration problems found by batch-constructs\n")


# --------------------------------------------------------------------------------------------------------- multi-node


def test_multinode_on_spot(world: World) -> None:
    with rejects("multinode-environment", "Validation/Spot is SPOT"):
        world.multinode(queue=world.spot_queue, instance_type=ec2.InstanceType("c5.large"))


def test_multinode_on_fargate(world: World) -> None:
    with rejects("multinode-environment", "is FARGATE"):
        world.multinode(queue=world.fargate_queue, instance_type=ec2.InstanceType("c5.large"))


def test_multinode_needs_an_instance_type(world: World) -> None:
    with rejects("multinode-environment", "no instance_type", "instance_type=ec2.InstanceType"):
        world.multinode(queue=world.ec2_queue)


def test_multinode_node_groups(world: World) -> None:
    # six c5n.18xlarge instances of room, so that only the node groups are in question
    roomy = EfaEnvironment(world.stack, world.id("Efa"), vpc=world.vpc, max_vcpus=6 * 72)
    roomy_queue = BatchQueue(world.stack, world.id("EfaQueue"), environments=[roomy])
    groups = [NodeGroup(i, i) for i in range(5)]
    world.multinode(queue=roomy_queue, nodes=5, node_groups=groups, main_node=4)
    with rejects("multinode-nodes", "6 node groups"):
        world.multinode(queue=roomy_queue, nodes=6, node_groups=[*groups, NodeGroup(5, 5)])
    with rejects("multinode-ranges", "leave nodes 2 without a container"):
        world.multinode(queue=world.efa_queue, nodes=4, node_groups=[NodeGroup(0, 1), NodeGroup(3, 3)])
    with rejects("multinode-main-node", "main_node=4 with 4 nodes"):
        world.multinode(queue=world.efa_queue, nodes=4, main_node=4)


def test_multinode_max_vcpus(world: World) -> None:
    world.multinode(queue=world.efa_queue, nodes=4, vcpus=72, memory=Size.gibibytes(128))
    with rejects("job-fits-queue", "360 vCPUs of instances", "at least 360"):
        world.multinode(queue=world.efa_queue, nodes=5, vcpus=72, memory=Size.gibibytes(128))


def test_multinode_max_vcpus_counts_whole_instances_of_every_group(world: World) -> None:
    # GIVEN an EFA environment of c5n.18xlarge (72 vCPUs) capped at 288 vCPUs: four instances
    # THEN five one-vCPU nodes do not fit: each node takes a whole instance (nodes are single-tenant), 5 x 72 = 360
    with rejects("job-fits-queue", "max_vcpus=288 is less than the job's 360 vCPUs of instances", "fewer or smaller"):
        world.multinode(queue=world.efa_queue, nodes=5, vcpus=1)
    # AND the groups count together: two groups of two and three nodes, each within the cap alone, do not fit
    with rejects("job-fits-queue", "360 vCPUs of instances"):
        world.multinode(queue=world.efa_queue, nodes=5, vcpus=1, node_groups=[NodeGroup(0, 1), NodeGroup(2, 4)])
    world.multinode(queue=world.efa_queue, nodes=4, vcpus=1, node_groups=[NodeGroup(0, 0), NodeGroup(1, 3)])


def test_efa_job_needs_an_efa_environment(world: World) -> None:
    with rejects("efa-environment", "Validation/OnDemand is not an EfaEnvironment"):
        world.multinode(queue=world.ec2_queue, instance_type=ec2.InstanceType("m7i.48xlarge"), efa=True)
    # two nodes take two whole instances: 2 x 64 vCPUs within the environment's default 256
    world.multinode(queue=world.ec2_queue, instance_type=ec2.InstanceType("m7i.16xlarge"), efa=False)


def test_efa_instance_type(world: World) -> None:
    with rejects("efa-instance-type", "t3.micro does not support EFA"):
        EfaEnvironment(world.stack, world.id("Efa"), vpc=world.vpc, instance_type=ec2.InstanceType("t3.micro"))
    EfaEnvironment(world.stack, world.id("Efa"), vpc=world.vpc, instance_type=ec2.InstanceType("trn1.32xlarge"))


# ------------------------------------------------------------------------------------------------------ environments


def test_environment_vcpus(world: World) -> None:
    with rejects("environment-vcpus", "min_vcpus=9, max_vcpus=8"):
        Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, min_vcpus=9, max_vcpus=8)
    Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, min_vcpus=8, max_vcpus=8)


def test_environment_instances(world: World) -> None:
    with rejects("environment-instances", "instance_classes=[]"):
        Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, instance_classes=[])


def test_environment_architecture(world: World) -> None:
    with rejects("environment-architecture", "ARM64 and X86_64", "m7g"):
        Ec2Environment(
            world.stack,
            world.id("Env"),
            vpc=world.vpc,
            instance_classes=[ec2.InstanceClass.M7G, ec2.InstanceClass.M7I],
        )
    graviton = Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, instance_classes=[ec2.InstanceClass.M7G])
    assert graviton.capacity.architectures == {"ARM64"}


def test_spot_strategy(world: World) -> None:
    with rejects("spot-strategy", "SPOT_PRICE_CAPACITY_OPTIMIZED on an On-Demand environment"):
        Ec2Environment(
            world.stack,
            world.id("Env"),
            vpc=world.vpc,
            allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
        )


@pytest.mark.parametrize(("bid", "ok"), [(0, False), (1, True), (100, True), (101, False)])
def test_spot_bid(world: World, bid: int, ok: bool) -> None:
    if ok:
        SpotEnvironment(world.stack, world.id("Env"), vpc=world.vpc, spot_bid_percentage=bid)
    else:
        with rejects("spot-bid", f"spot_bid_percentage={bid}; allowed 1-100"):
            SpotEnvironment(world.stack, world.id("Env"), vpc=world.vpc, spot_bid_percentage=bid)


def test_spot_settings_on_demand(world: World) -> None:
    role = SpotFleetRole(world.stack, world.id("Role"))
    with rejects("spot-fleet-role", "spot_fleet_role on an On-Demand environment"):
        Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, spot_fleet_role=role)
    with rejects("spot-bid", "spot_bid_percentage=50 on an On-Demand environment"):
        Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, spot_bid_percentage=50)


def test_gpu_instances(world: World) -> None:
    with rejects("gpu-instances", "without GPUs: m7i"):
        GpuEnvironment(world.stack, world.id("Gpu"), vpc=world.vpc, instance_classes=[ec2.InstanceClass.M7I])


def test_gpu_image(world: World) -> None:
    plain = [batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)]
    with rejects("gpu-image", "image types ECS_AL2023", "ECS_AL2023_NVIDIA"):
        GpuEnvironment(world.stack, world.id("Gpu"), vpc=world.vpc, images=plain)
    custom = [batch.EcsMachineImage(image=ec2.MachineImage.generic_linux({"us-east-1": "ami-0123456789abcdef0"}))]
    GpuEnvironment(world.stack, world.id("Gpu"), vpc=world.vpc, images=custom)


def test_environment_network(world: World) -> None:
    with rejects("environment-network", "neither network nor vpc"):
        FargateEnvironment(world.stack, world.id("Env"))


# ------------------------------------------------------------------------------------------------------------ queues


@pytest.mark.parametrize(("value", "ok"), [(-1, False), (0, True), (1000, True), (1001, False)])
def test_queue_priority(world: World, value: int, ok: bool) -> None:
    envs = [world.fargate_queue.environments[0]]
    if ok:
        BatchQueue(world.stack, world.id("Queue"), environments=envs, priority=value)
    else:
        with rejects("queue-priority", f"priority={value}; allowed 0-1000"):
            BatchQueue(world.stack, world.id("Queue"), environments=envs, priority=value)


def test_queue_time_limit(world: World) -> None:
    envs = [world.fargate_queue.environments[0]]
    with rejects("queue-time-limit", "time limit (s)=599"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs, capacity_timeout=Duration.seconds(599))
    BatchQueue(world.stack, world.id("Queue"), environments=envs, capacity_timeout=Duration.seconds(600))


def test_queue_environment_count(world: World) -> None:
    envs = [FargateEnvironment(world.stack, world.id("Env"), vpc=world.vpc) for _ in range(4)]
    BatchQueue(world.stack, world.id("Queue"), environments=envs[:3])
    with rejects("queue-environments", "4 compute environments; a queue takes 1-3"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs)
    queue = BatchQueue(world.stack, world.id("Queue"), environments=envs[:3])
    with rejects("queue-environments"):
        queue.add_environment(envs[3])


def test_queue_environment_count_includes_imported_environments(world: World) -> None:
    """AWS counts every environment of a queue, also those the library cannot see into (imported by ARN)."""
    imported = batch.FargateComputeEnvironment.from_fargate_compute_environment_arn(
        world.stack, world.id("Imported"), "arn:aws:batch:us-east-1:123456789012:compute-environment/shared"
    )
    envs = [FargateEnvironment(world.stack, world.id("Env"), vpc=world.vpc) for _ in range(3)]
    with rejects("queue-environments", "4 compute environments; a queue takes 1-3"):
        BatchQueue(world.stack, world.id("Queue"), environments=[*envs, imported])
    queue = BatchQueue(world.stack, world.id("Queue"), environments=envs)
    with rejects("queue-environments", "4 compute environments"):
        queue.add_environment(imported)


def test_a_queue_of_imported_environments_only_is_not_empty() -> None:
    stack = cdk.Stack(new_app(), "ImportedOnly")
    imported = batch.FargateComputeEnvironment.from_fargate_compute_environment_arn(
        stack, "Imported", "arn:aws:batch:us-east-1:123456789012:compute-environment/shared"
    )
    BatchQueue(stack, "Queue", environments=[imported])
    Template.from_stack(stack)  # synthesizes: one environment, whose capacity is unknown (no fit checks)


def test_queue_mixing(world: World) -> None:
    fargate = world.fargate_queue.environments[0]
    ec2_env = world.ec2_queue.environments[0]
    with rejects("queue-mixed-platform", "Validation/Fargate: FARGATE", "Validation/OnDemand: EC2"):
        BatchQueue(world.stack, world.id("Queue"), environments=[fargate, ec2_env])
    graviton = Ec2Environment(world.stack, world.id("Env"), vpc=world.vpc, instance_classes=[ec2.InstanceClass.C7G])
    with rejects("queue-mixed-architecture", "ARM64", "X86_64"):
        BatchQueue(world.stack, world.id("Queue"), environments=[graviton, ec2_env])


def test_fair_share_shares(world: World) -> None:
    envs = [world.fargate_queue.environments[0]]
    with rejects("fair-share-shares", "weight 0 for share 'teamA'"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs, fair_share={"teamA": 0})
    with rejects("fair-share-shares", "'UserA*' overlaps 'UserA1'"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs, fair_share={"UserA*": 1, "UserA1": 1})
    BatchQueue(world.stack, world.id("Queue"), environments=envs, fair_share={"teamA": 0.0001})


def test_fair_share_policy(world: World) -> None:
    envs = [world.fargate_queue.environments[0]]
    shares = {"teamA": 1.0}
    with rejects("fair-share-policy", "share_decay (s)=604801", "compute_reservation=100"):
        BatchQueue(
            world.stack,
            world.id("Queue"),
            environments=envs,
            fair_share=shares,
            share_decay=Duration.seconds(604_801),
            compute_reservation=100,
        )
    with rejects("fair-share-policy", "without fair_share"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs, compute_reservation=10)
    BatchQueue(
        world.stack,
        world.id("Queue"),
        environments=envs,
        fair_share=shares,
        share_decay=Duration.days(7),
        compute_reservation=99,
    )


def test_queue_name(world: World) -> None:
    envs = [world.fargate_queue.environments[0]]
    with rejects("name", "job_queue_name='my queue'"):
        BatchQueue(world.stack, world.id("Queue"), environments=envs, job_queue_name="my queue")


# ------------------------------------------------------------------------------------------------------------ network


def test_network_rules() -> None:
    stack = cdk.Stack(new_app(), "Net")
    with rejects("network-azs", "max_azs=7"):
        BatchNetwork(stack, "A", max_azs=7)
    with rejects("network-nat", "nat_gateways=3; allowed 0 to max_azs (2)"):
        BatchNetwork(stack, "B", nat_gateways=3)
    with rejects("network-egress", "nat_gateways=0 and no interface_endpoints"):
        BatchNetwork(stack, "C", nat_gateways=0)
    with rejects("network-existing-vpc", "max_azs"):
        BatchNetwork(stack, "D", vpc=existing_vpc(stack), max_azs=2)


def test_a_network_without_nat_needs_the_endpoints_of_image_pulls_logs_and_for_ec2_ecs() -> None:
    stack = cdk.Stack(new_app(), "Isolated")
    aws = ec2.InterfaceVpcEndpointAwsService
    # GIVEN no NAT: ECR (API and registry), Logs and the S3 gateway (image layers) are what every job needs
    with rejects("network-egress", "interface_endpoints without logs: jobs cannot pull their images or write"):
        BatchNetwork(stack, "NoLogs", nat_gateways=0, interface_endpoints=[aws.ECR, aws.ECR_DOCKER])
    with rejects("network-egress", "gateway_endpoints=False: ECR serves image layers from S3"):
        BatchNetwork(
            stack, "NoS3", nat_gateways=0, interface_endpoints=BATCH_INTERFACE_ENDPOINTS, gateway_endpoints=False
        )
    # WHEN a network has just those: Fargate jobs can run there, EC2 instances cannot register with ECS
    fargate_only = BatchNetwork(stack, "FargateOnly", nat_gateways=0,
                                interface_endpoints=[aws.ECR, aws.ECR_DOCKER, aws.CLOUDWATCH_LOGS])  # fmt: skip
    assert fargate_only.ec2_endpoints_missing == ("ecs", "ecs-agent", "ecs-telemetry")
    FargateEnvironment(stack, "Fargate", network=fargate_only)
    with rejects("network-egress", "Isolated/FargateOnly has no NAT and no interface endpoint for ecs, ecs-agent, ecs"):
        Ec2Environment(stack, "Ec2", network=fargate_only)
    with rejects("network-egress", "ecs-agent"):
        EfaEnvironment(stack, "Efa", network=fargate_only)
    # THEN with every endpoint (or a NAT) EC2 environments are fine
    full = BatchNetwork(stack, "Full", nat_gateways=0, interface_endpoints=BATCH_INTERFACE_ENDPOINTS)
    assert full.ec2_endpoints_missing == () and BatchNetwork(stack, "Nat").ec2_endpoints_missing == ()
    Ec2Environment(stack, "Ec2Full", network=full)


def test_a_job_reading_secrets_needs_their_endpoint_in_subnets_without_nat() -> None:
    from aws_cdk import aws_events as events
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_ssm as ssm
    from constructs import Construct

    from batch_constructs import ScheduledJob
    from batch_constructs.jobs._settings import secret_services

    stack = cdk.Stack(new_app(), "Secrets")
    aws = ec2.InterfaceVpcEndpointAwsService
    # GIVEN a queue in subnets without a NAT whose endpoints serve image pulls and logs only
    pulls_only = BatchNetwork(stack, "PullsOnly", nat_gateways=0,
                              interface_endpoints=[aws.ECR, aws.ECR_DOCKER, aws.CLOUDWATCH_LOGS])  # fmt: skip
    queue = BatchQueue(stack, "Queue", environments=[FargateEnvironment(stack, "Fargate", network=pulls_only)])
    secret = batch.Secret.from_secrets_manager(secretsmanager.Secret(stack, "Token"))
    by_name = batch.Secret.from_secrets_manager(secretsmanager.Secret.from_secret_name_v2(stack, "Named", "db"))
    parameter = batch.Secret.from_ssm_parameter(ssm.StringParameter(stack, "Setting", string_value="x"))
    image = ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:stable")
    # WHEN a job reads a Secrets Manager secret (made here or imported by name) or an SSM parameter, it is refused
    for name, secrets, needed in (
        ("Own", {"TOKEN": secret}, "secretsmanager"),
        ("ByName", {"DB": by_name}, "secretsmanager"),
        ("Param", {"SETTING": parameter}, "ssm"),
    ):
        with rejects("network-egress", f"without the {needed} interface endpoint: ECS cannot fetch them"):
            ContainerJob(stack, name, image=image, queue=queue, secrets=secrets)
    with rejects(
        "network-egress",
        "reads Secrets Manager secrets and SSM parameters before it starts, but Secrets/Fargate (queue Secrets/Queue)",
        "without the secretsmanager and ssm interface endpoints: ECS cannot fetch them",
        "InterfaceVpcEndpointAwsService.SECRETS_MANAGER and .SSM",
    ):
        ContainerJob(stack, "Both", image=image, queue=queue, secrets={"A": secret, "B": parameter})
    # THEN with the endpoints (BATCH_INTERFACE_ENDPOINTS has Secrets Manager), or with a NAT, the same jobs are fine
    full = BatchNetwork(stack, "Full", nat_gateways=0, interface_endpoints=[*BATCH_INTERFACE_ENDPOINTS, aws.SSM])
    with_endpoints = BatchQueue(stack, "Q2", environments=[FargateEnvironment(stack, "F2", network=full)])
    assert full.isolated_endpoints is not None and {"secretsmanager", "ssm", "ecs"} <= full.isolated_endpoints
    assert Ec2Environment(stack, "Ec2", network=full).capacity.isolated_endpoints == full.isolated_endpoints
    ContainerJob(stack, "Fine", image=image, queue=with_endpoints, secrets={"A": secret, "B": parameter})
    with rejects("network-egress", "the job reads SSM parameters"):  # the default endpoints have no SSM
        default = BatchNetwork(stack, "Default", nat_gateways=0, interface_endpoints=BATCH_INTERFACE_ENDPOINTS)
        queue3 = BatchQueue(stack, "Q3", environments=[FargateEnvironment(stack, "F3", network=default)])
        ContainerJob(stack, "NoSsm", image=image, queue=queue3, secrets={"A": secret, "B": parameter})
    nat = BatchQueue(stack, "Q4", environments=[FargateEnvironment(stack, "F4", network=BatchNetwork(stack, "Nat"))])
    ContainerJob(stack, "WithNat", image=image, queue=nat, secrets={"A": secret, "B": parameter})
    # (a multi-container job's containers count together)
    from batch_constructs import Container, MultiContainerJob

    with rejects("network-egress", "the job reads SSM parameters before it starts"):
        MultiContainerJob(stack, "Multi", queue=queue, containers=[
            Container("a", image), Container("b", image, secrets={"P": parameter})])  # fmt: skip
    # (a secret's JSON field or version is still its secret; a field named "ssm" does not make it a parameter)
    field = batch.Secret.from_secrets_manager(secretsmanager.Secret(stack, "Db"), "password")
    with rejects("network-egress", "the job reads Secrets Manager secrets before it starts"):
        ContainerJob(stack, "Field", image=image, queue=queue, secrets={"PASSWORD": field})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    ssm_field = batch.Secret.from_secrets_manager(
        secretsmanager.Secret.from_secret_complete_arn(stack, "C", arn), "ssm"
    )
    assert secret_services(stack, [ssm_field]) == {"secretsmanager"}
    ContainerJob(stack, "SsmField", image=image, queue=queue3, secrets={"X": ssm_field})  # needs no ssm endpoint
    # (a trigger submitting the job to such a queue is checked as the job's own queue is)
    elsewhere = ContainerJob(stack, "Elsewhere", image=image, queue=nat, secrets={"A": secret})
    with rejects("network-egress", "Secrets/Fargate (queue Secrets/Queue) runs in subnets without a NAT"):
        ScheduledJob(stack, "Nightly", job=elsewhere, queue=queue, schedule=events.Schedule.rate(Duration.hours(6)))
    # AND a secret whose ARN the library cannot read (a template parameter, here not at the top level) is not guessed at
    parameter_arn = cdk.CfnParameter(Construct(stack, "Inputs"), "SecretArn").value_as_string
    unknown = batch.Secret.from_secrets_manager(
        secretsmanager.Secret.from_secret_complete_arn(stack, "Arn", parameter_arn)
    )
    assert secret_services(stack, [unknown]) == frozenset()
    other_stack = cdk.Stack(stack.node.scope, "Other")  # a parameter of another stack of the app: not guessed at either
    foreign_arn = cdk.CfnParameter(other_stack, "Arn").value_as_string
    foreign = secretsmanager.Secret.from_secret_complete_arn(stack, "Foreign", foreign_arn)
    assert secret_services(stack, [batch.Secret.from_secrets_manager(foreign)]) == frozenset()
    assert secret_services(stack, [secret, parameter]) == {"secretsmanager", "ssm"}
    ContainerJob(stack, "Unknown", image=image, queue=queue, secrets={"X": unknown})


# ------------------------------------------------------------------------------------------------------------- tokens


def test_tokens_are_skipped() -> None:
    """One deploy-time value per rule family: none is validated."""
    stack = cdk.Stack(new_app(), "Tokens")
    number = cdk.CfnParameter(stack, "Number", type="Number").value_as_number
    text = cdk.CfnParameter(stack, "Text").value_as_string
    vpc = existing_vpc(stack)
    env = FargateEnvironment(stack, "Env", vpc=vpc, max_vcpus=number, compute_environment_name=text)
    ec2_env = Ec2Environment(stack, "Ec2", vpc=vpc, min_vcpus=number, max_vcpus=number, spot_bid_percentage=None)
    queue = BatchQueue(stack, "Queue", environments=[env], priority=number, job_queue_name=text)
    BatchQueue(stack, "Ec2Queue", environments=[ec2_env])
    ContainerJob(
        stack,
        "Job",
        image=IMAGE,
        queue=queue,
        vcpus=number,
        memory=Size.mebibytes(number),
        retry=RetryPolicy(number, [RetryCondition.retry(on_reason=text), RetryCondition.exit_on_anything()]),
        timeout=Duration.seconds(number),
        scheduling_priority=number,
        job_definition_name=text,
    )
    MultiNodeJob(
        stack,
        "Mnp",
        image=IMAGE,
        instance_type=ec2.InstanceType("c5n.18xlarge"),
        nodes=number,
        main_node=number,
    )


# ------------------------------------------------------------------------------------------- synth-time (validations)


def synth_errors(stack: cdk.Stack) -> str:
    with pytest.raises(RuntimeError) as caught:
        Template.from_stack(stack)
    return str(caught.value)


def test_queue_without_environments_fails_at_synth() -> None:
    stack = cdk.Stack(new_app(), "Empty")
    BatchQueue(stack, "Queue", environments=[])
    message = synth_errors(stack)
    assert "[Empty/Queue] [queue-environments] 0 compute environments" in message and "Fix:" in message


def test_queue_environments_added_later_are_checked() -> None:
    stack = cdk.Stack(new_app(), "Later")
    vpc = existing_vpc(stack)
    env = FargateEnvironment(stack, "Env", vpc=vpc)
    queue = BatchQueue(stack, "Queue", environments=[])
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue, platform="FARGATE", vcpus=16, memory=Size.gibibytes(32))
    queue.add_environment(env)
    Template.from_stack(stack)  # the job fits the environment added after it
    assert job.requirements[0].vcpus == 16


def test_job_checked_against_environments_added_later() -> None:
    stack = cdk.Stack(new_app(), "LateFit")
    env = FargateEnvironment(stack, "Env", vpc=existing_vpc(stack), max_vcpus=4)
    queue = BatchQueue(stack, "Queue", environments=[])
    ContainerJob(stack, "Job", image=IMAGE, queue=queue, platform="FARGATE", vcpus=8, memory=Size.gibibytes(16))
    queue.add_environment(env)
    message = synth_errors(stack)
    assert "[LateFit/Job] [job-fits-queue]" in message and "max_vcpus=4" in message


def test_a_trigger_to_another_queue_is_checked_against_environments_added_later() -> None:
    from aws_cdk import aws_events as events

    from batch_constructs import ScheduledJob

    stack = cdk.Stack(new_app(), "LateTrigger")
    vpc = existing_vpc(stack)
    own = BatchQueue(stack, "Own", environments=[FargateEnvironment(stack, "Big", vpc=vpc)])
    job = ContainerJob(stack, "Job", image=IMAGE, queue=own, platform="FARGATE", vcpus=8, memory=Size.gibibytes(16))
    # GIVEN a schedule that submits the job to another queue whose environments come after it
    later = BatchQueue(stack, "Later", environments=[])
    ScheduledJob(stack, "Nightly", job=job, queue=later, schedule=events.Schedule.rate(Duration.hours(6)))
    later.add_environment(FargateEnvironment(stack, "Small", vpc=vpc, max_vcpus=4))
    # THEN the synth fails on the schedule: the job fits no environment of that queue
    message = synth_errors(stack)
    assert "[LateTrigger/Nightly] [job-fits-queue]" in message and "max_vcpus=4" in message


def test_duplicate_order_on_the_l2_fails_at_synth() -> None:
    stack = cdk.Stack(new_app(), "Order")
    vpc = existing_vpc(stack)
    first = FargateEnvironment(stack, "First", vpc=vpc)
    second = FargateEnvironment(stack, "Second", vpc=vpc)
    queue = BatchQueue(stack, "Queue", environments=[first])
    queue.job_queue.add_compute_environment(second.compute_environment, 1)
    message = synth_errors(stack)
    assert "[queue-order] order 1 is given to 2 environments (Order/First, Order/Second)" in message


def test_more_than_50_tags_fail_at_synth() -> None:
    stack = cdk.Stack(new_app(), "Tagged")
    env = FargateEnvironment(stack, "Env", vpc=existing_vpc(stack))
    BatchQueue(stack, "Queue", environments=[env])
    for i in range(50):
        Tags.of(stack).add(f"k{i}", "v")
    Template.from_stack(stack)  # 50 is the limit
    stack2 = cdk.Stack(new_app(), "Tagged51")
    env2 = FargateEnvironment(stack2, "Env", vpc=existing_vpc(stack2))
    for i in range(51):
        Tags.of(env2).add(f"k{i}", "v")
    message = synth_errors(stack2)
    assert "Tagged51/Env/Resource/Resource: [tags] AWS::Batch::ComputeEnvironment carries 51 tags" in message


def test_spot_best_fit_gets_a_tagging_spot_fleet_role() -> None:
    stack = cdk.Stack(new_app(), "BestFit")
    SpotEnvironment(stack, "Spot", vpc=existing_vpc(stack), allocation_strategy=batch.AllocationStrategy.BEST_FIT)
    template = Template.from_stack(stack)
    roles = template.find_resources(
        "AWS::IAM::Role",
        Match.object_like(
            {
                "Properties": {
                    "AssumeRolePolicyDocument": Match.object_like(
                        {
                            "Statement": [
                                Match.object_like({"Principal": {"Service": "spotfleet.amazonaws.com"}}),
                            ]
                        }
                    ),
                    "ManagedPolicyArns": [
                        Match.object_like(
                            {"Fn::Join": ["", Match.array_with([Match.string_like_regexp("SpotFleetTaggingRole")])]}
                        )
                    ],
                }
            }
        ),
    )
    (role_id,) = roles
    template.has_resource_properties(
        "AWS::Batch::ComputeEnvironment",
        {"ComputeResources": Match.object_like({"SpotIamFleetRole": {"Fn::GetAtt": [role_id, "Arn"]}})},
    )


# ----------------------------------------------------------------------------------------------------------- warnings

WARNING_CASES = {
    "physical-name": "Warn/Named",
    "custom-service-role": "Warn/CustomRole",
    "best-fit": "Warn/BestFit",
    "al2-image": "Warn/Al2",
    "vcpus-units": "Warn/Units",
    "memory-headroom": "Warn/Headroom",
    "tags-replace": "Warn/Tagged/Resource/Resource",
    "required-parameters": "Warn/Params",
    "share-unlisted": "Warn/Unlisted",
    "fargate-update-policy": "Warn/RawFargate",
    "launch-template-unverified": "Warn/ImportedLt",
    "stack-resources": "Warn",
}


def build_warnings(stack: cdk.Stack, acknowledge: bool) -> None:
    vpc = existing_vpc(stack)
    named = FargateEnvironment(stack, "Named", vpc=vpc, compute_environment_name="nightly-ce")
    role = iam.Role(stack, "ServiceRole", assumed_by=iam.ServicePrincipal("batch.amazonaws.com"))
    custom = FargateEnvironment(stack, "CustomRole", vpc=vpc, service_role=role)
    best_fit = Ec2Environment(stack, "BestFit", vpc=vpc, allocation_strategy=batch.AllocationStrategy.BEST_FIT)
    al2 = Ec2Environment(
        stack, "Al2", vpc=vpc, images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2)]
    )
    small = Ec2Environment(stack, "Small", vpc=vpc, instance_types=[ec2.InstanceType("m7i.large")])
    small_queue = BatchQueue(stack, "SmallQueue", environments=[small])
    # a type the library does not know: no fit check, so only the warning speaks
    big = Ec2Environment(stack, "Big", vpc=vpc, instance_types=[ec2.InstanceType("x2iedn.32xlarge")], max_vcpus=2048)
    big_queue = BatchQueue(stack, "BigQueue", environments=[big])
    BatchQueue(stack, "BestFitQueue", environments=[best_fit])
    tagged = FargateEnvironment(stack, "Tagged", vpc=vpc)
    Tags.of(tagged).add("team", "data")
    fargate_queue = BatchQueue(stack, "FargateQueue", environments=[named, custom, tagged])
    units = ContainerJob(stack, "Units", image=IMAGE, queue=big_queue, vcpus=1024, memory=Size.gibibytes(2))
    headroom = ContainerJob(stack, "Headroom", image=IMAGE, queue=small_queue, vcpus=2, memory=Size.mebibytes(8000))
    params = ContainerJob(stack, "Params", image=IMAGE, queue=fargate_queue, command=["run", "Ref::input"])
    BatchQueue(stack, "Al2Queue", environments=[al2])
    shared = BatchQueue(stack, "SharedQueue", environments=[FargateEnvironment(stack, "Shared", vpc=vpc)],
                        fair_share={"teamA": 1})  # fmt: skip
    fair_job = ContainerJob(stack, "FairJob", image=IMAGE, queue=shared, command=["run"], scheduling_priority=1)
    unlisted = BatchJobStateMachine(stack, "Unlisted", job=fair_job, share_identifier="teamB")
    raw_fargate = batch.FargateComputeEnvironment(stack, "RawFargate", vpc=vpc)  # the aws-cdk-lib L2 itself
    BatchQueue(stack, "RawQueue", environments=[raw_fargate])
    template = ec2.LaunchTemplate.from_launch_template_attributes(stack, "Lt", launch_template_id="lt-0123456789abcdef")
    imported_lt = Ec2Environment(stack, "ImportedLt", vpc=vpc, launch_template=template)
    if acknowledge:
        for construct, warning in [
            (named, "physical-name"),
            (custom, "custom-service-role"),
            (best_fit, "best-fit"),
            (al2, "al2-image"),
            (units, "vcpus-units"),
            (headroom, "memory-headroom"),
            (tagged, "tags-replace"),
            (params, "required-parameters"),
            (unlisted, "share-unlisted"),
            (raw_fargate, "fargate-update-policy"),
            (imported_lt, "launch-template-unverified"),
            (stack, "stack-resources"),
        ]:
            Annotations.of(construct).acknowledge_warning(f"batch-constructs:{warning}", "reviewed")


@pytest.fixture(scope="module")
def warning_stacks() -> tuple[cdk.Stack, cdk.Stack]:
    original = _limits.RESOURCES_WARNING
    _limits.RESOURCES_WARNING = 20  # the stack check's threshold, lowered so that a small stack reaches it
    try:
        app = new_app()
        warned = cdk.Stack(app, "Warn")
        acknowledged = cdk.Stack(app, "Acked")
        build_warnings(warned, acknowledge=False)
        build_warnings(acknowledged, acknowledge=True)
        app.synth()
    finally:
        _limits.RESOURCES_WARNING = original
    return warned, acknowledged


def batch_warnings(stack: cdk.Stack, warning: str) -> list[str]:
    found = AnnotationsAssert.from_stack(stack).find_warning("*", Match.string_like_regexp(".*"))
    return [m.id for m in found if f"[ack: batch-constructs:{warning}]" in str(m.entry.data)]


@pytest.mark.parametrize("warning", sorted(WARNING_CASES))
def test_warning_is_emitted(warning_stacks: tuple[cdk.Stack, cdk.Stack], warning: str) -> None:
    warned, _ = warning_stacks
    assert f"/{WARNING_CASES[warning]}" in batch_warnings(warned, warning)


@pytest.mark.parametrize("warning", sorted(WARNING_CASES))
def test_warning_can_be_acknowledged(warning_stacks: tuple[cdk.Stack, cdk.Stack], warning: str) -> None:
    _, acknowledged = warning_stacks
    assert batch_warnings(acknowledged, warning) == []


def test_cdk_warns_about_template_size_itself() -> None:
    """The library relies on the CDK's exact template-size warning (80% of 1 MB) instead of estimating its own."""
    stack = cdk.Stack(new_app(), "Big")
    for i in range(9):
        cdk.CfnResource(stack, f"P{i}", type="AWS::SSM::Parameter", properties={"Type": "String", "Value": "v" * 90000})
    AnnotationsAssert.from_stack(stack).has_warning(
        "/Big", Match.string_like_regexp("Template size is approaching limit.*")
    )


def test_an_imported_launch_template_warning_names_imds_and_the_version(
    warning_stacks: tuple[cdk.Stack, cdk.Stack],
) -> None:
    warned, _ = warning_stacks
    found = AnnotationsAssert.from_stack(warned).find_warning("/Warn/ImportedLt", Match.string_like_regexp(".*"))
    (text,) = [str(m.entry.data) for m in found if "launch-template-unverified" in str(m.entry.data)]
    assert "IMDSv2 (HttpTokens required) with HttpPutResponseHopLimit 1" in text
    assert "version_number=" in text and "aws-cdk#28137" in text
