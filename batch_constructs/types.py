"""Type aliases shared by the construct modules: one home for each, so that every signature means the same thing.

``Environment`` is defined beside the environments (``compute.py``, which ``queue.py`` builds on) and re-exported here;
the others are defined here. The aliases are real unions, so ``typing.get_type_hints`` and the API reference resolve
them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from aws_cdk import aws_batch as batch

from .compute import Environment
from .queue import BatchQueue

__all__ = ["Environment", "JobPlatform", "Queue"]

#: A job queue: one of the library's (its environments are known, so jobs are checked against them) or any L2 queue.
Queue: TypeAlias = BatchQueue | batch.IJobQueue
#: Where a container job runs.
JobPlatform: TypeAlias = Literal["FARGATE", "EC2"]
