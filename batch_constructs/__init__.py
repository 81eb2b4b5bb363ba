"""batch-constructs: high-level AWS CDK constructs for AWS Batch.

Safe defaults, synth-time validation of what AWS would reject (or leave stuck in RUNNABLE), triggers and monitoring,
built on aws-cdk-lib's ``aws_batch`` L2.

The package is a lazy facade (PEP 562): ``from batch_constructs import BatchQueue`` imports the module that defines the
name on first use, so importing a module that needs no CDK (``batch_constructs.errors``, ``batch_constructs.model``, the
operations CLI) starts no jsii Node.js process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._internal.lazy import lazy_exports

__version__ = "0.1.0"

#: Public name -> the module that defines it (relative to this package).
_EXPORTS: dict[str, str] = {
    "NetworkOptions": ".platform",
    "MultiContainerJob": ".jobs",
    "InstanceShape": ".model.capacity",
    "FireLens": ".jobs",
    "EnvironmentCapacity": ".model.capacity",
    "DependencyCondition": ".types",
    "Container": ".jobs",
    "BATCH_INTERFACE_ENDPOINTS": ".network",
    "BatchAlerts": ".monitoring",
    "BatchConfigurationError": ".errors",
    "BatchEnvironment": ".compute",
    "BatchJob": ".jobs",
    "BatchJobMetrics": ".monitoring",
    "BatchJobStateMachine": ".triggers",
    "BatchNetwork": ".network",
    "BatchPipeline": ".triggers",
    "JobOverrides": ".triggers",
    "BatchPlatform": ".platform",
    "BatchQueue": ".queue",
    "ContainerJob": ".jobs",
    "ImportedJob": ".jobs",
    "CustomServiceRole": ".roles",
    "Ec2Environment": ".compute",
    "EfaEnvironment": ".compute",
    "ExecutionRole": ".roles",
    "ImportedQueue": ".queue",
    "KnownQueue": ".queue",
    "PlatformContract": ".model.contract",
    "QueueContract": ".model.contract",
    "FargateEnvironment": ".compute",
    "FargateSpotEnvironment": ".compute",
    "GpuEnvironment": ".compute",
    "InstanceRole": ".roles",
    "JobRole": ".roles",
    "LambdaSubmitter": ".triggers",
    "MultiNodeJob": ".jobs",
    "NodeGroup": ".jobs",
    "PipelineStep": ".triggers",
    "RetryCondition": ".jobs",
    "RetryPolicy": ".jobs",
    "S3FanOut": ".triggers",
    "S3UploadTrigger": ".triggers",
    "ScheduledJob": ".triggers",
    "SpotEnvironment": ".compute",
    "SpotFleetRole": ".roles",
    "access_logs_bucket": ".storage",
    "data_bucket": ".storage",
    "grant_read_objects": ".storage",
    "grant_write_objects": ".storage",
    "import_queue": ".contract",
    "publish_contract": ".contract",
    "stack_encryption_key": ".storage",
}

__all__ = [
    "BATCH_INTERFACE_ENDPOINTS",
    "BatchAlerts",
    "BatchConfigurationError",
    "BatchEnvironment",
    "BatchJob",
    "BatchJobMetrics",
    "BatchJobStateMachine",
    "BatchNetwork",
    "BatchPipeline",
    "BatchPlatform",
    "BatchQueue",
    "Container",
    "ContainerJob",
    "CustomServiceRole",
    "DependencyCondition",
    "Ec2Environment",
    "EfaEnvironment",
    "EnvironmentCapacity",
    "ExecutionRole",
    "FargateEnvironment",
    "FargateSpotEnvironment",
    "FireLens",
    "GpuEnvironment",
    "ImportedJob",
    "ImportedQueue",
    "InstanceRole",
    "InstanceShape",
    "JobOverrides",
    "JobRole",
    "KnownQueue",
    "LambdaSubmitter",
    "MultiContainerJob",
    "MultiNodeJob",
    "NetworkOptions",
    "NodeGroup",
    "PipelineStep",
    "PlatformContract",
    "QueueContract",
    "RetryCondition",
    "RetryPolicy",
    "S3FanOut",
    "S3UploadTrigger",
    "ScheduledJob",
    "SpotEnvironment",
    "SpotFleetRole",
    "__version__",
    "access_logs_bucket",
    "data_bucket",
    "grant_read_objects",
    "grant_write_objects",
    "import_queue",
    "publish_contract",
    "stack_encryption_key",
]

if TYPE_CHECKING:  # what mypy and IDEs see; at run time __getattr__ below imports on first use
    from .compute import (
        BatchEnvironment,
        Ec2Environment,
        EfaEnvironment,
        FargateEnvironment,
        FargateSpotEnvironment,
        GpuEnvironment,
        SpotEnvironment,
    )
    from .contract import import_queue, publish_contract
    from .errors import BatchConfigurationError
    from .jobs import (
        BatchJob,
        Container,
        ContainerJob,
        FireLens,
        ImportedJob,
        MultiContainerJob,
        MultiNodeJob,
        NodeGroup,
        RetryCondition,
        RetryPolicy,
    )
    from .model.capacity import EnvironmentCapacity, InstanceShape
    from .model.contract import PlatformContract, QueueContract
    from .monitoring import BatchAlerts, BatchJobMetrics
    from .network import BATCH_INTERFACE_ENDPOINTS, BatchNetwork
    from .platform import BatchPlatform, NetworkOptions
    from .queue import BatchQueue, ImportedQueue, KnownQueue
    from .roles import CustomServiceRole, ExecutionRole, InstanceRole, JobRole, SpotFleetRole
    from .storage import (
        access_logs_bucket,
        data_bucket,
        grant_read_objects,
        grant_write_objects,
        stack_encryption_key,
    )
    from .triggers import (
        BatchJobStateMachine,
        BatchPipeline,
        JobOverrides,
        LambdaSubmitter,
        PipelineStep,
        S3FanOut,
        S3UploadTrigger,
        ScheduledJob,
    )
    from .types import DependencyCondition


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
