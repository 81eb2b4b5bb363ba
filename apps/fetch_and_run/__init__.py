"""Example app 5: fetch and run (one stack, ``FetchAndRun``). See README.md next to this file."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import FetchAndRunStack

__all__ = ["FetchAndRunStack", "add_to"]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add ``FetchAndRun`` and ``FetchAndRunNoNat`` (the same app in a VPC without NAT) to ``app``."""
    return [
        FetchAndRunStack(
            app,
            "FetchAndRun",
            description="batch-constructs example: a generic AWS Batch job that fetches a script from S3 and runs it",
        ),
        FetchAndRunStack(
            app,
            "FetchAndRunNoNat",
            nat=False,
            description=(
                "batch-constructs example: fetch and run in a VPC without NAT (interface and gateway endpoints only)"
            ),
        ),
    ]
