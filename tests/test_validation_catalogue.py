"""A catalogue of configurations as a new user writes them: the invalid ones fail at synth with a message that names
the rule and the fix; the valid ones at the edge of each limit synthesize.

Every invalid entry is something AWS would reject at deploy time or that would leave jobs in RUNNABLE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size, Tags
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from batch_constructs import (
    BATCH_INTERFACE_ENDPOINTS,
    BatchAlerts,
    BatchConfigurationError,
    BatchJobStateMachine,
    BatchNetwork,
    BatchPipeline,
    BatchPlatform,
    BatchQueue,
    Container,
    ContainerJob,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    ImportedJob,
    JobOverrides,
    LambdaSubmitter,
    MultiContainerJob,
    MultiNodeJob,
    NodeGroup,
    PipelineStep,
    PlatformContract,
    RetryCondition,
    RetryPolicy,
    S3FanOut,
    S3UploadTrigger,
    ScheduledJob,
    SpotEnvironment,
    SpotFleetRole,
    access_logs_bucket,
    data_bucket,
    testing,
)
from batch_constructs.model import registry

from .helpers import new_app
from .unit_stacks import synthesized_cases

_NOFILE = batch.Ulimit(name=batch.UlimitName.NOFILE, soft_limit=1024, hard_limit=1024)

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"


def existing_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        private_subnet_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
    )


@dataclass
class Ctx:
    """A stack with a default platform (Fargate queue) and an existing VPC, shared by the invalid entries."""

    stack: cdk.Stack
    platform: BatchPlatform
    vpc: ec2.IVpc
    counter: count[int]

    def id(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def job(self, **kwargs: Any) -> ContainerJob:
        kwargs.setdefault("image", IMAGE)
        kwargs.setdefault("queue", self.platform.queue)
        return ContainerJob(self.stack, self.id("Job"), **kwargs)

    def queue_of(self, *envs: Any, **kwargs: Any) -> BatchQueue:
        return BatchQueue(self.stack, self.id("Queue"), environments=list(envs), **kwargs)

    def ec2_env(self, **kwargs: Any) -> Ec2Environment:
        return Ec2Environment(self.stack, self.id("Ec2"), vpc=self.vpc, **kwargs)


@pytest.fixture(scope="module")
def ctx() -> Ctx:
    stack = cdk.Stack(new_app(), "Catalogue")
    return Ctx(stack, BatchPlatform(stack, "Platform"), existing_vpc(stack), count())


def mnp_on(ctx: Ctx, env: Any, **kwargs: Any) -> MultiNodeJob:
    kwargs.setdefault("image", IMAGE)
    return MultiNodeJob(ctx.stack, ctx.id("Mnp"), queue=ctx.queue_of(env), **kwargs)


INVALID: dict[str, tuple[str, Callable[[Ctx], object]]] = {
    "Fargate job with 1 vCPU and 1 GiB": (
        "fargate-resources",
        lambda c: c.job(vcpus=1, memory=Size.gibibytes(1)),
    ),
    "Fargate job with 3 vCPUs": ("fargate-resources", lambda c: c.job(vcpus=3, memory=Size.gibibytes(6))),
    "Fargate memory written as 1000 MiB (thinking of 1 GB)": (
        "fargate-resources",
        lambda c: c.job(vcpus=0.5, memory=Size.mebibytes(1000)),
    ),
    "ECS CPU units instead of vCPUs": ("fargate-resources", lambda c: c.job(vcpus=1024, memory=Size.gibibytes(2))),
    "GPU job on the Fargate queue": ("fargate-gpu", lambda c: c.job(gpus=1)),
    "16 vCPU job on an environment of m7i.large only": (
        "job-fits-queue",
        lambda c: c.job(
            queue=c.queue_of(c.ec2_env(instance_types=[ec2.InstanceType("m7i.large")])),
            vcpus=16,
            memory=Size.gibibytes(4),
        ),
    ),
    "64 GiB job on c7i.large and c7i.xlarge": (
        "job-fits-queue",
        lambda c: c.job(
            queue=c.queue_of(c.ec2_env(instance_types=[ec2.InstanceType("c7i.large"), ec2.InstanceType("c7i.xlarge")])),
            vcpus=2,
            memory=Size.gibibytes(64),
        ),
    ),
    "GPU job on a CPU-only EC2 queue": (
        "job-fits-queue",
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), vcpus=4, memory=Size.gibibytes(16), gpus=1),
    ),
    "job bigger than the environment's max vCPUs": (
        "job-fits-queue",
        lambda c: c.job(
            queue=c.queue_of(FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc, max_vcpus=2)),
            vcpus=4,
            memory=Size.gibibytes(8),
        ),
    ),
    "platform=EC2 on the Fargate queue": ("job-fits-queue", lambda c: c.job(platform="EC2")),
    "queue with Fargate and EC2 environments": (
        "queue-mixed-platform",
        lambda c: c.queue_of(FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc), c.ec2_env()),
    ),
    "queue with four environments": (
        "queue-environments",
        lambda c: c.queue_of(*(FargateSpotEnvironment(c.stack, c.id("F"), vpc=c.vpc) for _ in range(4))),
    ),
    "queue with Graviton and Intel environments": (
        "queue-mixed-architecture",
        lambda c: c.queue_of(c.ec2_env(instance_classes=[ec2.InstanceClass.M7G]), c.ec2_env()),
    ),
    "queue priority -1": (
        "queue-priority",
        lambda c: c.queue_of(FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc), priority=-1),
    ),
    "fair-share weight 0": (
        "fair-share-shares",
        lambda c: c.queue_of(FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc), fair_share={"analytics": 0}),
    ),
    "retry on Spot reclaim without a catch-all": (
        "retry-catch-all",
        lambda c: c.job(retry=RetryPolicy(3, [RetryCondition.retry(on_status_reason="Host EC2*")])),
    ),
    "retry attempts 0": ("retry-attempts", lambda c: c.job(retry=RetryPolicy(0))),
    "retry conditions with a single attempt": (
        "retry-conditions",
        lambda c: c.job(retry=RetryPolicy.spot_aware(attempts=1)),
    ),
    "retry pattern written as a regular expression": (
        "retry-pattern",
        lambda c: c.job(
            retry=RetryPolicy(3, [RetryCondition.retry(on_reason=".*OutOfMemory.*"), RetryCondition.exit_on_anything()])
        ),
    ),
    "30 second timeout": ("timeout", lambda c: c.job(timeout=Duration.seconds(30))),
    "scheduling priority 10000": ("scheduling-priority", lambda c: c.job(scheduling_priority=10_000)),
    "fair-share queue, job without scheduling priority": (
        "fair-share-priority",
        lambda c: c.job(
            queue=c.queue_of(FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc), fair_share={"analytics": 1})
        ),
    ),
    "job definition name with spaces": ("name", lambda c: c.job(job_definition_name="nightly report v2")),
    "Fargate ephemeral storage of 500 GiB": (
        "ephemeral-storage",
        lambda c: c.job(ephemeral_storage=Size.gibibytes(500)),
    ),
    "ephemeral storage on an EC2 job": (
        "platform-props",
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), ephemeral_storage=Size.gibibytes(50)),
    ),
    "multi-node job on Spot": (
        "multinode-environment",
        lambda c: mnp_on(
            c, SpotEnvironment(c.stack, c.id("S"), vpc=c.vpc), instance_type=ec2.InstanceType("c5.xlarge")
        ),
    ),
    "multi-node job on Fargate": (
        "multinode-environment",
        lambda c: mnp_on(
            c, FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc), instance_type=ec2.InstanceType("c5.xlarge")
        ),
    ),
    "multi-node job whose node groups skip a node": (
        "multinode-ranges",
        lambda c: mnp_on(
            c,
            EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc),
            nodes=4,
            node_groups=[NodeGroup(0, 0), NodeGroup(2, 3)],
        ),
    ),
    "multi-node main node 4 of 4": (
        "multinode-main-node",
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=4, main_node=4),
    ),
    "EFA on t3.micro": (
        "efa-instance-type",
        lambda c: EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc, instance_type=ec2.InstanceType("t3.micro")),
    ),
    "EFA job on a plain EC2 queue": (
        "efa-environment",
        lambda c: mnp_on(c, c.ec2_env(), instance_type=ec2.InstanceType("m7i.48xlarge"), efa=True),
    ),
    "Spot allocation strategy on On-Demand": (
        "spot-strategy",
        lambda c: c.ec2_env(allocation_strategy=batch.AllocationStrategy.SPOT_CAPACITY_OPTIMIZED),
    ),
    "Spot bid of 150%": (
        "spot-bid",
        lambda c: SpotEnvironment(c.stack, c.id("S"), vpc=c.vpc, spot_bid_percentage=150),
    ),
    "GPU environment of m7i instances": (
        "gpu-instances",
        lambda c: GpuEnvironment(c.stack, c.id("G"), vpc=c.vpc, instance_classes=[ec2.InstanceClass.M7I]),
    ),
    "GPU environment with the plain AL2023 image": (
        "gpu-image",
        lambda c: GpuEnvironment(
            c.stack,
            c.id("G"),
            vpc=c.vpc,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)],
        ),
    ),
    "environment with min vCPUs above max": ("environment-vcpus", lambda c: c.ec2_env(min_vcpus=64, max_vcpus=32)),
    "environment mixing m7g and m7i": (
        "environment-architecture",
        lambda c: c.ec2_env(instance_types=[ec2.InstanceType("m7g.large"), ec2.InstanceType("m7i.large")]),
    ),
    "network without NAT or endpoints": ("network-egress", lambda c: BatchNetwork(c.stack, c.id("N"), nat_gateways=0)),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configuration_fails_with_a_fix(ctx: Ctx, case: str) -> None:
    rule, build = INVALID[case]
    with pytest.raises(BatchConfigurationError) as caught:
        build(ctx)
    message = str(caught.value)
    assert f"[{rule}]" in message, message
    assert "Fix:" in message, message
    assert message.startswith("Catalogue/"), message


def test_catalogue_size() -> None:
    assert len(INVALID) >= 25
    assert len(VALID) >= 8


# --------------------------------------------------------------------------------------------------------- valid ones


def fargate_smallest(stack: cdk.Stack) -> None:
    platform = BatchPlatform(stack, "Platform")
    platform.add_job("Tiny", image=IMAGE, vcpus=0.25, memory=Size.mebibytes(512))


def fargate_largest(stack: cdk.Stack) -> None:
    env = FargateEnvironment(stack, "Fargate", vpc=existing_vpc(stack), max_vcpus=16)
    queue = BatchQueue(stack, "Queue", environments=[env])
    ContainerJob(
        stack,
        "Huge",
        image=IMAGE,
        queue=queue,
        vcpus=16,
        memory=Size.gibibytes(120),
        ephemeral_storage=Size.gibibytes(200),
    )


def ec2_at_the_headroom_limit(stack: cdk.Stack) -> None:
    env = Ec2Environment(stack, "Small", vpc=existing_vpc(stack), instance_types=[ec2.InstanceType("m7i.large")])
    queue = BatchQueue(stack, "Queue", environments=[env])
    ContainerJob(stack, "Exact", image=IMAGE, queue=queue, vcpus=2, memory=Size.mebibytes(7782))


def retries_at_their_limits(stack: cdk.Stack) -> None:
    env = FargateEnvironment(stack, "Fargate", vpc=existing_vpc(stack))
    queue = BatchQueue(stack, "Queue", environments=[env])
    conditions = [
        RetryCondition.retry(on_status_reason="Host EC2*"),
        RetryCondition.retry(on_status_reason="Your Spot Task was interrupted*"),
        RetryCondition.retry(on_exit_code="137"),
        RetryCondition.exit(on_reason="CannotPullContainerError:*"),
        RetryCondition.exit_on_anything(),
    ]
    ContainerJob(
        stack,
        "Job",
        image=IMAGE,
        queue=queue,
        retry=RetryPolicy(10, conditions),
        timeout=Duration.seconds(60),
        scheduling_priority=9999,
        job_definition_name="j" * 128,
    )


def fair_share_at_its_limits(stack: cdk.Stack) -> None:
    env = FargateEnvironment(stack, "Fargate", vpc=existing_vpc(stack))
    queue = BatchQueue(stack, "Queue", environments=[env], fair_share={"urgent": 0.0001, "batch": 999.9999, "team*": 1})
    ContainerJob(stack, "Job", image=IMAGE, queue=queue, scheduling_priority=0)


def queue_at_its_limits(stack: cdk.Stack) -> None:
    vpc = existing_vpc(stack)
    envs = [
        FargateSpotEnvironment(stack, "Spot", vpc=vpc),
        FargateEnvironment(stack, "OnDemand", vpc=vpc),
        FargateEnvironment(stack, "Reserve", vpc=vpc),
    ]
    queue = BatchQueue(
        stack,
        "Queue",
        environments=envs,
        priority=1000,
        misconfiguration_timeout=Duration.seconds(600),
        capacity_timeout=Duration.seconds(86400),
    )
    for i in range(50):
        Tags.of(queue).add(f"tag{i}", "value")


def multinode_at_its_limits(stack: cdk.Stack) -> None:
    efa = EfaEnvironment(stack, "Efa", vpc=existing_vpc(stack), max_vcpus=5 * 72)
    queue = BatchQueue(stack, "Queue", environments=[efa])
    MultiNodeJob(
        stack,
        "Mpi",
        image=IMAGE,
        queue=queue,
        nodes=5,
        main_node=4,
        vcpus=72,
        memory=Size.gibibytes(180),
        node_groups=[NodeGroup(i, i) for i in range(5)],
    )


def spot_best_fit(stack: cdk.Stack) -> None:
    spot = SpotEnvironment(
        stack,
        "Spot",
        vpc=existing_vpc(stack),
        allocation_strategy=batch.AllocationStrategy.BEST_FIT,
        spot_bid_percentage=100,
    )
    BatchQueue(stack, "Queue", environments=[spot])


def eight_gpus(stack: cdk.Stack) -> None:
    gpu = GpuEnvironment(stack, "Gpu", vpc=existing_vpc(stack), max_vcpus=192)
    queue = BatchQueue(stack, "Queue", environments=[gpu])
    ContainerJob(stack, "Train", image=IMAGE, queue=queue, vcpus=188, memory=Size.gibibytes(700), gpus=8)


def unknown_instance_type(stack: cdk.Stack) -> None:
    env = Ec2Environment(
        stack, "HighMem", vpc=existing_vpc(stack), instance_types=[ec2.InstanceType("x2iedn.32xlarge")]
    )
    queue = BatchQueue(stack, "Queue", environments=[env])
    ContainerJob(stack, "Big", image=IMAGE, queue=queue, vcpus=128, memory=Size.gibibytes(3900))


VALID: dict[str, Callable[[cdk.Stack], None]] = {
    "FargateSmallest": fargate_smallest,
    "FargateLargest": fargate_largest,
    "Ec2Headroom": ec2_at_the_headroom_limit,
    "Retries": retries_at_their_limits,
    "FairShare": fair_share_at_its_limits,
    "QueueLimits": queue_at_its_limits,
    "MultiNode": multinode_at_its_limits,
    "SpotBestFit": spot_best_fit,
    "EightGpus": eight_gpus,
    "UnknownType": unknown_instance_type,
}


@pytest.fixture(scope="module")
def valid_stacks() -> dict[str, cdk.Stack]:
    return synthesized_cases(VALID)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_boundary_configuration_synthesizes(valid_stacks: dict[str, cdk.Stack], name: str) -> None:
    template = Template.from_stack(valid_stacks[name]).to_json()
    assert any(r["Type"].startswith("AWS::Batch::") for r in template["Resources"].values())


# ------------------------------------------------------------------------------ one pair per rule of the registry
# For every rule declared in batch_constructs/model/registry.py: a configuration that breaks it (and must fail naming
# the rule) and its nearest neighbour that keeps it (and must build). A rule without a pair fails the test below, so a
# new rule cannot land untested.


def fargate_env(c: Ctx, **kwargs: Any) -> FargateEnvironment:
    return FargateEnvironment(c.stack, c.id("F"), vpc=c.vpc, **kwargs)


def fair_share_queue(c: Ctx) -> BatchQueue:
    return c.queue_of(fargate_env(c), fair_share={"analytics": 1})


def synth_fresh(build: Callable[[cdk.Stack], object]) -> None:
    """Build in a stack of its own and synthesize: for the rules that run at synth (tags, later add_* calls)."""
    app = new_app()
    build(cdk.Stack(app, "Catalogue"))
    app.synth()


def tagged_queue(count: int) -> Callable[[Ctx], object]:
    def build(stack: cdk.Stack) -> None:
        queue = BatchQueue(stack, "Queue", environments=[FargateEnvironment(stack, "F", vpc=existing_vpc(stack))])
        for i in range(count):
            Tags.of(queue).add(f"tag{i}", "value")

    return lambda c: synth_fresh(build)


def ordered_twice(second_order: int) -> Callable[[Ctx], object]:
    """A second environment attached through the L2 with ``second_order`` (the first has order 1): checked at synth."""

    def build(stack: cdk.Stack) -> None:
        vpc = existing_vpc(stack)
        queue = BatchQueue(stack, "Queue", environments=[FargateEnvironment(stack, "First", vpc=vpc)])
        queue.job_queue.add_compute_environment(
            FargateEnvironment(stack, "Second", vpc=vpc).compute_environment, second_order
        )

    return lambda c: synth_fresh(build)


def imported_by_arn(c: Ctx) -> batch.IJobQueue:
    return batch.JobQueue.from_job_queue_arn(c.stack, c.id("Q"), "arn:aws:batch:us-east-1:111122223333:job-queue/q")


def granted(queue: bool) -> Callable[[Ctx], object]:
    def build(c: Ctx) -> object:
        job = ContainerJob(c.stack, c.id("Loose"), image=IMAGE, queue=c.platform.queue if queue else None)
        return job.grant_submit_job(iam.Role(c.stack, c.id("R"), assumed_by=iam.AccountRootPrincipal()))

    return build


def schedule(c: Ctx, **kwargs: Any) -> ScheduledJob:
    return ScheduledJob(c.stack, c.id("Sched"), schedule=events.Schedule.rate(Duration.hours(1)), **kwargs)


def upload(c: Ctx, **kwargs: Any) -> S3UploadTrigger:
    kwargs.setdefault("prefixes", ["in/"])
    return S3UploadTrigger(c.stack, c.id("Upload"), bucket=s3.Bucket(c.stack, c.id("B")), job=c.job(), **kwargs)


def ref_job(c: Ctx) -> ContainerJob:
    """A job whose command reads ``Ref::input``, with no default for it."""
    return c.job(command=["python", "-m", "work", "Ref::input"])


def fan_out(c: Ctx, **kwargs: Any) -> S3FanOut:
    """An S3FanOut of a job that reads ``Ref::bucket`` and ``Ref::key`` (``Ref::keys`` when batched)."""
    command = ["convert", "Ref::keys"] if "items_per_job" in kwargs else ["convert", "Ref::bucket", "Ref::key"]
    bucket = s3.Bucket.from_bucket_name(c.stack, c.id("Data"), "my-data")
    return S3FanOut(c.stack, c.id("FanOut"), job=c.job(command=command), bucket=bucket, **kwargs)


def pipeline(c: Ctx, steps: list[PipelineStep]) -> BatchPipeline:
    return BatchPipeline(c.stack, c.id("Pipe"), steps=steps)


Build = Callable[[Ctx], object]


def logged_bucket(app: cdk.App) -> Callable[[Ctx], object]:
    """A data bucket logging to an access-logs bucket, in its own stack of ``app`` (plain, or with the flags)."""

    def build(c: Ctx) -> object:
        stack = cdk.Stack(app, c.id("Logged"))
        return data_bucket(stack, "Data", access_logs=access_logs_bucket(stack, "Logs"))

    return build


PAIRS: dict[str, tuple[Build, Build]] = {
    "network-existing-vpc": (
        lambda c: BatchNetwork(c.stack, c.id("N"), vpc=c.vpc, max_azs=2),
        lambda c: BatchNetwork(c.stack, c.id("N"), vpc=c.vpc),
    ),
    "network-azs": (
        lambda c: BatchNetwork(c.stack, c.id("N"), max_azs=7),
        lambda c: BatchNetwork(c.stack, c.id("N"), max_azs=1),
    ),
    "network-nat": (
        lambda c: BatchNetwork(c.stack, c.id("N"), max_azs=2, nat_gateways=3),
        lambda c: BatchNetwork(c.stack, c.id("N"), max_azs=2, nat_gateways=2),
    ),
    "network-egress": (
        lambda c: BatchNetwork(c.stack, c.id("N"), nat_gateways=0),
        lambda c: BatchNetwork(c.stack, c.id("N"), nat_gateways=0, interface_endpoints=BATCH_INTERFACE_ENDPOINTS),
    ),
    "environment-network": (lambda c: FargateEnvironment(c.stack, c.id("F")), fargate_env),
    "environment-vcpus": (
        lambda c: c.ec2_env(min_vcpus=64, max_vcpus=32),
        lambda c: c.ec2_env(min_vcpus=32, max_vcpus=32),
    ),
    "environment-instances": (
        lambda c: c.ec2_env(instance_classes=[]),
        lambda c: c.ec2_env(instance_classes=[ec2.InstanceClass.M7I]),
    ),
    "environment-architecture": (
        lambda c: c.ec2_env(instance_types=[ec2.InstanceType("m7g.large"), ec2.InstanceType("m7i.large")]),
        lambda c: c.ec2_env(instance_types=[ec2.InstanceType("m7g.large"), ec2.InstanceType("m7g.xlarge")]),
    ),
    "spot-strategy": (
        lambda c: c.ec2_env(allocation_strategy=batch.AllocationStrategy.SPOT_CAPACITY_OPTIMIZED),
        lambda c: c.ec2_env(spot=True, allocation_strategy=batch.AllocationStrategy.SPOT_CAPACITY_OPTIMIZED),
    ),
    "spot-bid": (
        lambda c: SpotEnvironment(c.stack, c.id("S"), vpc=c.vpc, spot_bid_percentage=101),
        lambda c: SpotEnvironment(c.stack, c.id("S"), vpc=c.vpc, spot_bid_percentage=100),
    ),
    "spot-fleet-role": (
        lambda c: c.ec2_env(spot_fleet_role=SpotFleetRole(c.stack, c.id("Fleet"))),
        lambda c: c.ec2_env(
            spot=True,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT,
            spot_fleet_role=SpotFleetRole(c.stack, c.id("Fleet")),
        ),
    ),
    "gpu-instances": (
        lambda c: GpuEnvironment(c.stack, c.id("G"), vpc=c.vpc, instance_classes=[ec2.InstanceClass.M7I]),
        lambda c: GpuEnvironment(c.stack, c.id("G"), vpc=c.vpc, instance_classes=[ec2.InstanceClass.G5]),
    ),
    "gpu-image": (
        lambda c: GpuEnvironment(
            c.stack,
            c.id("G"),
            vpc=c.vpc,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)],
        ),
        lambda c: GpuEnvironment(
            c.stack,
            c.id("G"),
            vpc=c.vpc,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023_NVIDIA)],
        ),
    ),
    "efa-instance-type": (
        lambda c: EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc, instance_type=ec2.InstanceType("t3.micro")),
        lambda c: EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc, instance_type=ec2.InstanceType("c5n.18xlarge")),
    ),
    "efa-interfaces": (
        lambda c: EfaEnvironment(
            c.stack, c.id("E"), vpc=c.vpc, instance_type=ec2.InstanceType("p4d.24xlarge"), efa_interfaces=5
        ),
        lambda c: EfaEnvironment(
            c.stack, c.id("E"), vpc=c.vpc, instance_type=ec2.InstanceType("p4d.24xlarge"), efa_interfaces=4
        ),
    ),
    "launch-template-merge": (
        lambda c: c.ec2_env(
            launch_template=ec2.LaunchTemplate(c.stack, c.id("Lt"), http_tokens=ec2.LaunchTemplateHttpTokens.OPTIONAL)
        ),
        lambda c: c.ec2_env(
            launch_template=ec2.LaunchTemplate(c.stack, c.id("Lt"), http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED)
        ),
    ),
    "update-timeout": (
        lambda c: c.ec2_env(job_execution_timeout=cdk.Duration.days(6)),
        lambda c: c.ec2_env(job_execution_timeout=cdk.Duration.minutes(7200)),
    ),
    "queue-environments": (
        lambda c: c.queue_of(*(fargate_env(c) for _ in range(4))),
        lambda c: c.queue_of(*(fargate_env(c) for _ in range(3))),
    ),
    "queue-order": (ordered_twice(second_order=1), ordered_twice(second_order=2)),
    "queue-mixed-platform": (
        lambda c: c.queue_of(fargate_env(c), c.ec2_env()),
        lambda c: c.queue_of(fargate_env(c), fargate_env(c, spot=True)),
    ),
    "queue-mixed-architecture": (
        lambda c: c.queue_of(c.ec2_env(instance_classes=[ec2.InstanceClass.M7G]), c.ec2_env()),
        lambda c: c.queue_of(
            c.ec2_env(instance_classes=[ec2.InstanceClass.M7G]), c.ec2_env(instance_classes=[ec2.InstanceClass.C7G])
        ),
    ),
    "queue-priority": (
        lambda c: c.queue_of(fargate_env(c), priority=1001),
        lambda c: c.queue_of(fargate_env(c), priority=1000),
    ),
    "queue-time-limit": (
        lambda c: c.queue_of(fargate_env(c), misconfiguration_timeout=Duration.seconds(599)),
        lambda c: c.queue_of(fargate_env(c), misconfiguration_timeout=Duration.seconds(600)),
    ),
    "fair-share-shares": (
        lambda c: c.queue_of(fargate_env(c), fair_share={"analytics": 0}),
        lambda c: c.queue_of(fargate_env(c), fair_share={"analytics": 0.0001}),
    ),
    "fair-share-policy": (
        lambda c: c.queue_of(fargate_env(c), fair_share={"analytics": 1}, compute_reservation=100),
        lambda c: c.queue_of(
            fargate_env(c), fair_share={"analytics": 1}, compute_reservation=99, share_decay=Duration.days(7)
        ),
    ),
    "fair-share-priority": (
        lambda c: c.job(queue=fair_share_queue(c)),
        lambda c: c.job(queue=fair_share_queue(c), scheduling_priority=1),
    ),
    "share-identifier": (
        lambda c: LambdaSubmitter(c.stack, c.id("L"), job=c.job(queue=fair_share_queue(c), scheduling_priority=1)),
        lambda c: LambdaSubmitter(
            c.stack,
            c.id("L"),
            job=c.job(queue=fair_share_queue(c), scheduling_priority=1),
            share_identifier="analytics",
        ),
    ),
    "fargate-resources": (
        lambda c: c.job(vcpus=1, memory=Size.gibibytes(1)),
        lambda c: c.job(vcpus=1, memory=Size.gibibytes(2)),
    ),
    "fargate-gpu": (lambda c: c.job(gpus=1), lambda c: c.job(gpus=0)),
    "platform-props": (
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), ephemeral_storage=Size.gibibytes(50)),
        lambda c: c.job(ephemeral_storage=Size.gibibytes(50)),
    ),
    "container-settings": (
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), ulimits=[_NOFILE, _NOFILE]),
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), ulimits=[_NOFILE]),
    ),
    "multi-container": (
        lambda c: MultiContainerJob(c.stack, c.id("Multi"), containers=[Container("a", IMAGE, essential=False)]),
        lambda c: MultiContainerJob(
            c.stack, c.id("Multi"), containers=[Container("a", IMAGE, vcpus=0.25, memory=Size.mebibytes(512))]
        ),
    ),
    "argument-type": (
        lambda c: c.job(memory=2048),
        lambda c: c.job(memory=Size.mebibytes(2048)),
    ),
    "job-resources": (
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), vcpus=0.5, memory=Size.gibibytes(1)),
        lambda c: c.job(queue=c.queue_of(c.ec2_env()), vcpus=1, memory=Size.gibibytes(1)),
    ),
    "job-fits-queue": (
        lambda c: c.job(queue=c.queue_of(c.ec2_env(instance_types=[ec2.InstanceType("m7i.large")])), vcpus=16),
        lambda c: c.job(queue=c.queue_of(c.ec2_env(instance_types=[ec2.InstanceType("m7i.large")])), vcpus=2),
    ),
    "scheduling-priority": (
        lambda c: c.job(scheduling_priority=10_000),
        lambda c: c.job(scheduling_priority=9_999),
    ),
    "retry-attempts": (lambda c: c.job(retry=RetryPolicy(11)), lambda c: c.job(retry=RetryPolicy(10))),
    "retry-conditions": (
        lambda c: c.job(retry=RetryPolicy.spot_aware(attempts=1)),
        lambda c: c.job(retry=RetryPolicy.spot_aware(attempts=2)),
    ),
    "retry-pattern": (
        lambda c: c.job(
            retry=RetryPolicy(3, [RetryCondition.retry(on_reason=".*OOM*"), RetryCondition.exit_on_anything()])
        ),
        lambda c: c.job(
            retry=RetryPolicy(3, [RetryCondition.retry(on_reason="OOM*"), RetryCondition.exit_on_anything()])
        ),
    ),
    "retry-catch-all": (
        lambda c: c.job(retry=RetryPolicy(3, [RetryCondition.retry(on_status_reason="Host EC2*")])),
        lambda c: c.job(
            retry=RetryPolicy(
                3, [RetryCondition.retry(on_status_reason="Host EC2*"), RetryCondition.exit_on_anything()]
            )
        ),
    ),
    "timeout": (lambda c: c.job(timeout=Duration.seconds(59)), lambda c: c.job(timeout=Duration.seconds(60))),
    "array-size": (
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), array_size=1),
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), array_size=2),
    ),
    "dependencies": (
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), depends_on=[f"job-{i}" for i in range(21)]),
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), depends_on=[f"job-{i}" for i in range(20)]),
    ),
    "target-retry": (
        lambda c: schedule(c, job=c.job(), retry_attempts=186),
        lambda c: schedule(c, job=c.job(), retry_attempts=185),
    ),
    "name": (
        lambda c: c.job(job_definition_name="nightly report"),
        lambda c: c.job(job_definition_name="nightly-report"),
    ),
    "tags": (tagged_queue(51), tagged_queue(50)),
    "ephemeral-storage": (
        lambda c: c.job(ephemeral_storage=Size.gibibytes(201)),
        lambda c: c.job(ephemeral_storage=Size.gibibytes(200)),
    ),
    "multinode-environment": (
        lambda c: mnp_on(
            c, SpotEnvironment(c.stack, c.id("S"), vpc=c.vpc), instance_type=ec2.InstanceType("c5.xlarge")
        ),
        lambda c: mnp_on(
            c, c.ec2_env(instance_types=[ec2.InstanceType("c5.xlarge")]), instance_type=ec2.InstanceType("c5.xlarge")
        ),
    ),
    "multinode-nodes": (
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=0),
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=1),
    ),
    "multinode-ranges": (
        lambda c: mnp_on(
            c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=4, node_groups=[NodeGroup(0, 0), NodeGroup(2, 3)]
        ),
        lambda c: mnp_on(
            c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=4, node_groups=[NodeGroup(0, 1), NodeGroup(2, 3)]
        ),
    ),
    "multinode-main-node": (
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=4, main_node=4),
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), nodes=4, main_node=3),
    ),
    "efa-environment": (
        lambda c: mnp_on(c, c.ec2_env(), instance_type=ec2.InstanceType("m7i.48xlarge"), efa=True),
        lambda c: mnp_on(c, EfaEnvironment(c.stack, c.id("E"), vpc=c.vpc), efa=True),
    ),
    "trigger-filters": (lambda c: upload(c, prefixes=["/in/"]), lambda c: upload(c, prefixes=["in/"])),
    "trigger-parameters": (
        lambda c: upload(c, bucket_parameter="the-bucket"),
        lambda c: upload(c, bucket_parameter="the_bucket"),
    ),
    "trigger-queue": (
        lambda c: schedule(c, job=ContainerJob(c.stack, c.id("Loose"), image=IMAGE)),
        lambda c: schedule(c, job=ContainerJob(c.stack, c.id("Loose"), image=IMAGE), queue=c.platform.queue),
    ),
    "lambda-submitter": (
        lambda c: LambdaSubmitter(c.stack, c.id("L"), job=c.job(), timeout=Duration.seconds(901)),
        lambda c: LambdaSubmitter(c.stack, c.id("L"), job=c.job(), timeout=Duration.seconds(900)),
    ),
    "monitoring-queues": (
        lambda c: BatchAlerts(c.stack, c.id("A"), queues=[]),
        lambda c: BatchAlerts(c.stack, c.id("A"), queues=[c.platform.queue]),
    ),
    "monitoring-options": (
        lambda c: BatchAlerts(c.stack, c.id("A"), queues=[c.platform.queue], email="ops at example.com"),
        lambda c: BatchAlerts(c.stack, c.id("A"), queues=[c.platform.queue], email="ops@example.com"),
    ),
    "pipeline-steps": (lambda c: pipeline(c, []), lambda c: pipeline(c, [PipelineStep(c.job())])),
    "state-machine-timeout": (
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), timeout=Duration.seconds(59)),
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), timeout=Duration.seconds(60)),
    ),
    "state-name": (
        lambda c: pipeline(c, [PipelineStep(c.job(), name="s" * 81)]),
        lambda c: pipeline(c, [PipelineStep(c.job(), name="s" * 80)]),
    ),
    "job-queue": (granted(queue=False), granted(queue=True)),
    "queue-contract": (
        lambda c: PlatformContract.from_json('{"queues": {}}'),
        lambda c: PlatformContract.from_json('{"schemaVersion": 1, "queues": {}}'),
    ),
    "imported-queue": (
        lambda c: ContainerJob(c.stack, c.id("J"), image=IMAGE, queue=imported_by_arn(c)),
        lambda c: ContainerJob(c.stack, c.id("J"), image=IMAGE, queue=imported_by_arn(c), platform="EC2"),
    ),
    "schedule-target": (schedule, lambda c: schedule(c, job=c.job())),
    "imported-job": (
        lambda c: ImportedJob(c.stack, c.id("Imp"), job_definition="legacy"),
        lambda c: ImportedJob(
            c.stack, c.id("Imp"), job_definition="arn:aws:batch:us-east-1:123456789012:job-definition/legacy:1"
        ),
    ),
    "job-overrides": (
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), overrides=JobOverrides(attempts=11)),
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=c.job(), overrides=JobOverrides(attempts=10)),
    ),
    "trigger-unread-parameter": (
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=ref_job(c), parameters={"inptu": "x"}),
        lambda c: BatchJobStateMachine(c.stack, c.id("Sm"), job=ref_job(c), parameters={"input": "x"}),
    ),
    "trigger-unset-parameter": (
        lambda c: schedule(c, job=ref_job(c)),
        lambda c: schedule(c, job=ref_job(c), parameters={"input": "s3://b/k"}),
    ),
    "schedule-time-zone": (
        lambda c: schedule(c, job=c.job(), time_zone="Europe/Pariss"),
        lambda c: schedule(c, job=c.job(), time_zone="Europe/Paris"),
    ),
    "schedule-flexible-window": (
        lambda c: schedule(c, job=c.job(), flexible_window=Duration.minutes(1441)),
        lambda c: schedule(c, job=c.job(), flexible_window=Duration.minutes(1440)),
    ),
    "fan-out-source": (
        lambda c: fan_out(c, prefix="in/", manifest_key="list.csv", manifest_format="csv"),
        lambda c: fan_out(c, manifest_key="list.csv", manifest_format="csv"),
    ),
    "fan-out-concurrency": (
        lambda c: fan_out(c, max_concurrency=10_001),
        lambda c: fan_out(c, max_concurrency=10_000),
    ),
    "fan-out-tolerated-failures": (
        lambda c: fan_out(c, tolerated_failure_percentage=100.5),
        lambda c: fan_out(c, tolerated_failure_percentage=100, tolerated_failure_count=0),
    ),
    "fan-out-batching": (
        lambda c: fan_out(c, items_per_job=0),
        lambda c: fan_out(c, items_per_job=1),
    ),
    "access-logs-flag": (logged_bucket(cdk.App()), logged_bucket(testing.new_app(validate=False))),
}


def test_every_registered_rule_has_a_pair() -> None:
    missing = sorted(set(registry.RULES) - set(PAIRS))
    unknown = sorted(set(PAIRS) - set(registry.RULES))
    assert not missing, f"rules without a failing and a passing case in PAIRS: {missing}"
    assert not unknown, f"PAIRS names rules the registry does not declare: {unknown}"


@pytest.mark.parametrize("rule", sorted(PAIRS))
def test_the_rule_rejects_its_failing_case(ctx: Ctx, rule: str) -> None:
    bad, _ = PAIRS[rule]
    with pytest.raises((BatchConfigurationError, RuntimeError)) as caught:
        bad(ctx)
    assert f"[{rule}]" in str(caught.value), str(caught.value)
    assert "Fix:" in str(caught.value)


@pytest.mark.parametrize("rule", sorted(PAIRS))
def test_the_rule_accepts_its_passing_case(ctx: Ctx, rule: str) -> None:
    _, good = PAIRS[rule]
    good(ctx)
