"""Job definitions: container jobs on Fargate or EC2, multi-container jobs (sidecars, FireLens), multi-node parallel
jobs (optionally over EFA), retry policies.

:class:`BatchJob` is the public base the job constructs share (log group, roles, queue binding, scoped submit grants);
triggers accept any of its subclasses.
"""

from ..types import DependencyCondition
from .base import BatchJob
from .container import ContainerJob
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
    "MultiContainerJob",
    "MultiNodeJob",
    "NodeGroup",
    "RetryCondition",
    "RetryPolicy",
]
