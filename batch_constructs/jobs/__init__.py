"""Job definitions: container jobs on Fargate or EC2, multi-node parallel jobs (optionally over EFA), retry policies.

:class:`BatchJob` is the public base the job constructs share (log group, roles, queue binding, scoped submit grants);
triggers accept any of its subclasses, and :class:`ImportedJob` (a definition the library did not create).
"""

from .base import BatchJob
from .container import ContainerJob
from .imported import ImportedJob
from .multinode import MultiNodeJob, NodeGroup
from .retry import RetryCondition, RetryPolicy

__all__ = ["BatchJob", "ContainerJob", "ImportedJob", "MultiNodeJob", "NodeGroup", "RetryCondition", "RetryPolicy"]
