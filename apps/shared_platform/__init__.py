"""Example app 6, platform and workloads in separate stacks: ``SharedPlatform`` (the platform team's network,
environments and queue) and ``SharedWorkload`` (a team's job definition and schedule on that queue). See README.md."""

from __future__ import annotations

import aws_cdk as cdk

from .platform_stack import QUEUE_ARN_EXPORT, SharedPlatformStack
from .workload_stack import SharedWorkloadStack, import_platform_queue

__all__ = ["QUEUE_ARN_EXPORT", "SharedPlatformStack", "SharedWorkloadStack", "add_to", "import_platform_queue"]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add ``SharedPlatform`` and ``SharedWorkload`` (which references the platform's queue object) to ``app``."""
    platform = SharedPlatformStack(app, "SharedPlatform")
    workload = SharedWorkloadStack(app, "SharedWorkload", queue=platform.queue)
    return [platform, workload]
