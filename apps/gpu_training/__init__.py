"""Example app 4: GPU and distributed training (one stack, ``GpuTraining``). See README.md next to this file."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import GpuTrainingStack

__all__ = ["GpuTrainingStack", "add_to"]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the ``GpuTraining`` stack (environment-agnostic) to ``app``."""
    return [
        GpuTrainingStack(
            app,
            "GpuTraining",
            description="batch-constructs example: GPU jobs and multi-node NCCL training over EFA on AWS Batch",
        )
    ]
