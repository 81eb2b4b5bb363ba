"""Correct uses of the public API: ``mypy --strict`` must accept every line (tests/test_typed_api.py runs it)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs

from batch_constructs import (
    BatchPlatform,
    Container,
    ContainerJob,
    EnvironmentCapacity,
    FargateSpotEnvironment,
    FireLens,
    GpuEnvironment,
    MultiContainerJob,
    NetworkOptions,
    SpotEnvironment,
)


def build(stack: cdk.Stack) -> EnvironmentCapacity:
    options: NetworkOptions = {"flow_logs": False}
    platform = BatchPlatform(stack, "Platform", spot=True, max_vcpus=64, network_options=options)
    spot = SpotEnvironment(stack, "Spot", network=platform.network, max_vcpus=64, min_vcpus=0)
    GpuEnvironment(stack, "Gpu", network=platform.network, spot=True)
    FargateSpotEnvironment(stack, "FargateSpot", network=platform.network, container_insights="ENABLED")
    platform.add_job(
        "Job",
        image="python:3.12",
        memory=Size.gibibytes(4),
        timeout=Duration.minutes(30),
        init_process=True,
        enable_execute_command=True,
    )
    ContainerJob(
        stack,
        "Big",
        image="python:3.12",
        vcpus=32,
        memory=Size.mebibytes(249856),
        architecture=ecs.CpuArchitecture.ARM64,
        fargate_platform_version=ecs.FargatePlatformVersion.LATEST,
    )
    ContainerJob(
        stack,
        "Ec2",
        image="python:3.12",
        platform="EC2",
        ulimits=[batch.Ulimit(name=batch.UlimitName.NOFILE, soft_limit=1024, hard_limit=4096)],
        shared_memory_size=Size.gibibytes(1),
        tmpfs=[batch.Tmpfs(container_path="/scratch", size=Size.gibibytes(1))],
    )
    MultiContainerJob(
        stack,
        "Multi",
        containers=[
            Container("main", "app:1", vcpus=0.75, memory=Size.mebibytes(1536), depends_on={"log_router": "START"}),
            Container("log_router", "fluent-bit:stable", essential=False, firelens=FireLens()),
        ],
    )
    return spot.capacity
