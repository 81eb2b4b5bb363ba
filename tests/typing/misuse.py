"""Deliberate misuses of the public API: ``mypy --strict`` must report an error on every line marked ``# error``.

tests/test_typed_api.py runs mypy on this file and checks each marked line; the file is never imported.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Size

from batch_constructs import (
    BatchPlatform,
    Container,
    ContainerJob,
    Ec2Environment,
    FargateSpotEnvironment,
    GpuEnvironment,
    MultiContainerJob,
    MultiNodeJob,
    SpotEnvironment,
)


def misuse(stack: cdk.Stack, platform: BatchPlatform) -> None:
    SpotEnvironment(stack, "A", network=platform.network, max_vcpu=64)  # error
    GpuEnvironment(stack, "B", network=platform.network, instance_class=[])  # error
    FargateSpotEnvironment(stack, "C", network=platform.network, spot=False)  # error
    SpotEnvironment(stack, "D", network=platform.network, spot=False)  # error
    Ec2Environment(stack, "E", network=platform.network, max_vcpus="64")  # error
    platform.add_job("F", image="x", memmory=Size.gibibytes(2))  # error
    platform.add_job("G", image="x", memory=2048)  # error
    ContainerJob(stack, "H", image="x", timeout=60)  # error
    ContainerJob(stack, "I", image="x", platform="fargate")  # error
    ContainerJob(stack, "K", image="x", shared_memory_size=1024)  # error
    MultiNodeJob(stack, "L", image="x", init_proces=True)  # error
    MultiContainerJob(stack, "M", containers=[Container("a", "x", depends_on={"b": "STARTED"})])  # error
    BatchPlatform(stack, "N", network_options={"max_azz": 3})  # error
