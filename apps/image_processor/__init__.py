"""Example app 2: the image processor (one stack, ``ImageProcessor``). See README.md next to this file."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import ImageProcessorStack

__all__ = ["ImageProcessorStack", "add_to"]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the ``ImageProcessor`` stack (environment-agnostic) to ``app``."""
    return [
        ImageProcessorStack(
            app,
            "ImageProcessor",
            description="batch-constructs example: labels images uploaded to S3 with Rekognition, in Batch jobs on EC2",
        )
    ]
