"""batch-constructs: high-level AWS CDK constructs for AWS Batch.

Safe defaults, synth-time validation of what AWS would reject (or leave stuck in RUNNABLE), triggers and monitoring,
built on aws-cdk-lib's ``aws_batch`` L2.
"""

from .compute import (
    BatchEnvironment,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    SpotEnvironment,
)
from .errors import BatchConfigurationError
from .job_definition import ContainerJob, MultiNodeJob, NodeGroup, RetryCondition, RetryPolicy
from .lambda_submitter import LambdaSubmitter
from .monitoring import BatchAlerts, BatchJobMetrics
from .network import BATCH_INTERFACE_ENDPOINTS, BatchNetwork
from .platform import BatchPlatform
from .queue import BatchQueue
from .roles import CustomServiceRole, ExecutionRole, InstanceRole, JobRole, SpotFleetRole
from .s3_trigger import S3UploadTrigger
from .schedule import ScheduledJob
from .stepfunctions import BatchJobStateMachine, BatchPipeline, PipelineStep
from .storage import (
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    grant_write_objects,
    stack_encryption_key,
)

__version__ = "0.1.0"

__all__ = [
    "BATCH_INTERFACE_ENDPOINTS",
    "BatchAlerts",
    "BatchConfigurationError",
    "BatchEnvironment",
    "BatchJobMetrics",
    "BatchJobStateMachine",
    "BatchNetwork",
    "BatchPipeline",
    "BatchPlatform",
    "BatchQueue",
    "ContainerJob",
    "CustomServiceRole",
    "Ec2Environment",
    "EfaEnvironment",
    "ExecutionRole",
    "FargateEnvironment",
    "FargateSpotEnvironment",
    "GpuEnvironment",
    "InstanceRole",
    "JobRole",
    "LambdaSubmitter",
    "MultiNodeJob",
    "NodeGroup",
    "PipelineStep",
    "RetryCondition",
    "RetryPolicy",
    "S3UploadTrigger",
    "ScheduledJob",
    "SpotEnvironment",
    "SpotFleetRole",
    "__version__",
    "access_logs_bucket",
    "data_bucket",
    "grant_read_objects",
    "grant_write_objects",
    "stack_encryption_key",
]
