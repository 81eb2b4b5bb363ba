"""Job definitions: container jobs on Fargate or EC2, multi-container jobs (sidecars, FireLens), multi-node parallel
jobs (optionally over EFA), retry policies.

:class:`BatchJob` is the public base the job constructs share (log group, roles, queue binding, scoped submit grants);
triggers accept any of its subclasses, and :class:`ImportedJob` (a definition the library did not create).

A lazy package (PEP 562), like ``batch_constructs`` itself: ``from batch_constructs.jobs import ContainerJob`` loads the
container module and what it needs, not the multi-container or multi-node modules, which only their users pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "FLUENT_BIT_IMAGE": ".multicontainer",
    "BatchJob": ".base",
    "Container": ".multicontainer",
    "ContainerJob": ".container",
    "DependencyCondition": "..types",
    "FireLens": ".multicontainer",
    "ImportedJob": ".imported",
    "MultiContainerJob": ".multicontainer",
    "MultiNodeJob": ".multinode",
    "NodeGroup": ".multinode",
    "RetryCondition": ".retry",
    "RetryPolicy": ".retry",
}

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

if TYPE_CHECKING:  # what mypy and IDEs see; at run time __getattr__ below imports on first use
    from ..types import DependencyCondition
    from .base import BatchJob
    from .container import ContainerJob
    from .imported import ImportedJob
    from .multicontainer import FLUENT_BIT_IMAGE, Container, FireLens, MultiContainerJob
    from .multinode import MultiNodeJob, NodeGroup
    from .retry import RetryCondition, RetryPolicy


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
