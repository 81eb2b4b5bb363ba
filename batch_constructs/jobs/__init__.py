"""Job definitions: container jobs on Fargate or EC2, multi-container jobs (sidecars, FireLens), multi-node parallel
jobs (optionally over EFA), retry policies.

:class:`BatchJob` is the public base the job constructs share (log group, roles, queue binding, scoped submit grants);
triggers accept any of its subclasses, and :class:`ImportedJob` (a definition the library did not create).
"""

from ..types import DependencyCondition
from .base import BatchJob
from .container import ContainerJob
from .imported import ImportedJob
from .multicontainer import FLUENT_BIT_IMAGE, Container, FireLens, MultiContainerJob
from .multinode import MultiNodeJob, NodeGroup
from .retry import RetryCondition, RetryPolicy

__all__ = [
    "FLUENT_BIT_IMAGE",
    "BatchJob",
    "Container",
    "ContainerJob",
    "DependencyCondition",
    "FireLens",
    "ImportedJob",
    "MultiContainerJob",
    "MultiNodeJob",
    "NodeGroup",
    "RetryCondition",
    "RetryPolicy",
]
