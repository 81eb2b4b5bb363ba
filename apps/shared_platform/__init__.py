"""Example app 6, platform and workloads in separate stacks: ``SharedPlatform`` (the platform team's network,
environments and queue) and ``SharedWorkload`` (a team's job definition and schedule on that queue). See README.md."""

from __future__ import annotations

import aws_cdk as cdk

from .platform_stack import CONTRACT_PARAMETER, CONTRACT_QUEUE, QUEUE_ARN_EXPORT, SharedPlatformStack
from .workload_stack import CONTEXT_FILE, SharedWorkloadStack, import_platform_queue

__all__ = [
    "CONTEXT_FILE",
    "CONTRACT_PARAMETER",
    "CONTRACT_QUEUE",
    "QUEUE_ARN_EXPORT",
    "SharedPlatformStack",
    "SharedWorkloadStack",
    "add_to",
    "import_platform_queue",
]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add ``SharedPlatform`` and ``SharedWorkload`` to ``app``.

    The workload uses the platform as a workload in ANOTHER app would: the queue's contract from the committed
    context file, its ARN from the platform's export; nothing of the platform stack's objects. The explicit dependency
    only orders ``cdk deploy`` here (another app deploys after the platform by itself).
    """
    platform = SharedPlatformStack(app, "SharedPlatform")
    workload = SharedWorkloadStack(app, "SharedWorkload")
    workload.add_stack_dependency(platform)
    return [platform, workload]
