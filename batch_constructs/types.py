"""Type aliases shared by the construct modules: one home for each, so that every signature means the same thing.

``Environment`` is defined beside the environments (``compute.py``, which ``queue.py`` builds on) and re-exported here;
the others are defined here. The aliases are real unions, so ``typing.get_type_hints`` and the API reference resolve
them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from aws_cdk import aws_batch as batch

from .compute import Environment
from .queue import KnownQueue

__all__ = ["DependencyCondition", "Environment", "JobPlatform", "Queue"]

#: A job queue: one the library knows (a ``BatchQueue``, or an ``ImportedQueue`` from a platform's contract: jobs are
#: checked against its environments) or any L2 queue.
Queue: TypeAlias = KnownQueue | batch.IJobQueue
#: Where a container job runs.
JobPlatform: TypeAlias = Literal["FARGATE", "EC2"]
#: When a container of a multi-container job may start, relative to one it depends on (API_TaskContainerDependency).
DependencyCondition: TypeAlias = Literal["START", "COMPLETE", "SUCCESS"]
