"""Type aliases shared by the construct modules: one home for each, so that every signature means the same thing.

The aliases are strings evaluated only by type checkers, so importing this module imports nothing else: modules at any
level of the construct layer can use them without import cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from aws_cdk import aws_batch as batch

    from .compute import BatchEnvironment
    from .jobs import ContainerJob, MultiNodeJob
    from .queue import BatchQueue

__all__ = ["Environment", "Job", "JobPlatform", "Queue"]

#: A job queue: one of the library's (its environments are known, so jobs are checked against them) or any L2 queue.
Queue: TypeAlias = "BatchQueue | batch.IJobQueue"
#: A compute environment: one of the library's (its capacity is known) or any L2 environment.
Environment: TypeAlias = "BatchEnvironment | batch.IComputeEnvironment"
#: A job the triggers can submit.
Job: TypeAlias = "ContainerJob | MultiNodeJob"
#: Where a container job runs.
JobPlatform = Literal["FARGATE", "EC2"]
