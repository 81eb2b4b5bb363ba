"""BatchPlatform: the one-statement platform, its queue layout and every part exposed."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Size

from batch_constructs import (
    BatchConfigurationError,
    BatchEnvironment,
    BatchNetwork,
    BatchPlatform,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    SpotEnvironment,
)

from .core_stacks import IMAGE, Built, _build, default_platform, ec2_platform
from .helpers import new_app


@pytest.fixture(scope="module")
def default() -> Built:
    # GIVEN a stack WHEN BatchPlatform is created with every default (and a job added)
    return default_platform()


@pytest.fixture(scope="module")
def ec2() -> Built:
    # GIVEN a stack WHEN BatchPlatform is asked for EC2 Spot and On-Demand only
    return ec2_platform()


@pytest.fixture(scope="module")
def gpu() -> Built:
    # GIVEN a stack WHEN BatchPlatform adds a GPU environment and a GPU job is added on the GPU queue
    stack = cdk.Stack(new_app(), "GpuPlatform")
    platform = BatchPlatform(stack, "Platform", gpu=True)
    assert platform.gpu_queue is not None
    job = platform.add_job("Train", image=IMAGE, queue=platform.gpu_queue, gpus=1, vcpus=4, memory=Size.gibibytes(16))
    return _build(stack, platform=platform, job=job)


def _order(built: Built, queue: BatchQueue) -> list[tuple[str, int]]:
    entries = built.resource(queue.job_queue)["Properties"]["ComputeEnvironmentOrder"]
    return [(e["ComputeEnvironment"]["Fn::GetAtt"][0], e["Order"]) for e in entries]


def _type(built: Built, environment: BatchEnvironment) -> str:
    resource: dict[str, Any] = built.resource(environment.compute_environment)
    return str(resource["Properties"]["ComputeResources"]["Type"])


# --- defaults -------------------------------------------------------------------------------------------------------


def test_default_is_fargate_spot_then_fargate_in_one_queue(default: Built) -> None:
    platform: BatchPlatform = default.parts["platform"]
    assert list(platform.environments) == ["FargateSpot", "Fargate"]
    spot, on_demand = platform.environments["FargateSpot"], platform.environments["Fargate"]
    assert isinstance(spot, FargateSpotEnvironment)
    assert type(on_demand) is FargateEnvironment
    assert [_type(default, spot), _type(default, on_demand)] == ["FARGATE_SPOT", "FARGATE"]
    assert platform.fargate_queue is not None
    assert _order(default, platform.fargate_queue) == [
        (default.logical_id(spot.compute_environment), 1),
        (default.logical_id(on_demand.compute_environment), 2),
    ]
    assert len(default.of_type("AWS::Batch::JobQueue")) == 1
    assert len(default.of_type("AWS::Batch::ComputeEnvironment")) == 2


def test_default_exposes_every_part(default: Built) -> None:
    platform: BatchPlatform = default.parts["platform"]
    assert isinstance(platform.network, BatchNetwork)
    assert platform.network.node.path == "DefaultPlatform/Platform/Network"
    assert platform.vpc is platform.network.vpc
    assert platform.queue is platform.fargate_queue
    assert platform.ec2_queue is None
    assert platform.gpu_queue is None
    assert platform.fargate_queue is not None
    assert platform.fargate_queue.node.path == "DefaultPlatform/Platform/FargateQueue"
    assert len(default.of_type("AWS::EC2::VPC")) == 1
    assert len(default.of_type("AWS::EC2::NatGateway")) == 1


def test_environments_use_the_platform_network(default: Built) -> None:
    platform: BatchPlatform = default.parts["platform"]
    group = {"Fn::GetAtt": [default.logical_id(platform.network.security_group), "GroupId"]}
    for environment in platform.environments.values():
        resources = default.resource(environment.compute_environment)["Properties"]["ComputeResources"]
        assert resources["SecurityGroupIds"] == [group]
        assert resources["MaxvCpus"] == 256


def test_add_job_uses_the_default_queue(default: Built) -> None:
    platform: BatchPlatform = default.parts["platform"]
    job: ContainerJob = default.parts["job"]
    assert job.queue is platform.queue
    assert job.node.path == "DefaultPlatform/Platform/Job"
    assert job.platform == "FARGATE"
    assert default.resource(job.job_definition)["Properties"]["PlatformCapabilities"] == ["FARGATE"]


# --- EC2 Spot + On-Demand -------------------------------------------------------------------------------------------


def test_spot_and_on_demand_share_the_ec2_queue_spot_first(ec2: Built) -> None:
    platform: BatchPlatform = ec2.parts["platform"]
    assert list(platform.environments) == ["Spot", "OnDemand"]
    spot, on_demand = platform.environments["Spot"], platform.environments["OnDemand"]
    assert isinstance(spot, SpotEnvironment)
    assert type(on_demand) is Ec2Environment
    assert [_type(ec2, spot), _type(ec2, on_demand)] == ["SPOT", "EC2"]
    assert platform.ec2_queue is not None
    assert platform.queue is platform.ec2_queue
    assert platform.fargate_queue is None
    assert _order(ec2, platform.ec2_queue) == [
        (ec2.logical_id(spot.compute_environment), 1),
        (ec2.logical_id(on_demand.compute_environment), 2),
    ]
    assert len(ec2.of_type("AWS::Batch::JobQueue")) == 1


def test_add_job_on_an_ec2_platform_is_an_ec2_job(ec2: Built) -> None:
    job: ContainerJob = ec2.parts["job"]
    assert job.platform == "EC2"
    assert ec2.resource(job.job_definition)["Properties"]["PlatformCapabilities"] == ["EC2"]


# --- GPU ------------------------------------------------------------------------------------------------------------


def test_gpu_gets_its_own_queue_with_the_nvidia_image(gpu: Built) -> None:
    platform: BatchPlatform = gpu.parts["platform"]
    environment = platform.environments["Gpu"]
    assert isinstance(environment, GpuEnvironment)
    assert platform.gpu_queue is not None
    assert _order(gpu, platform.gpu_queue) == [(gpu.logical_id(environment.compute_environment), 1)]
    resources = gpu.resource(environment.compute_environment)["Properties"]["ComputeResources"]
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    assert resources["Type"] == "EC2"
    # the Fargate queue stays the default one
    assert platform.queue is platform.fargate_queue
    assert len(gpu.of_type("AWS::Batch::JobQueue")) == 2


def test_a_gpu_job_on_the_gpu_queue(gpu: Built) -> None:
    job: ContainerJob = gpu.parts["job"]
    assert job.platform == "EC2"
    container = gpu.resource(job.job_definition)["Properties"]["ContainerProperties"]
    assert {"Type": "GPU", "Value": "1"} in container["ResourceRequirements"]


def test_a_platform_with_no_environment_is_an_error() -> None:
    stack = cdk.Stack(new_app(), "Empty")
    with pytest.raises(BatchConfigurationError, match=r"(?s)Empty/Platform.*\[queue-environments\]"):
        BatchPlatform(stack, "Platform", fargate=False, fargate_spot=False)
