"""Ways to start jobs: Step Functions state machines and pipelines, S3 fan-outs, schedules, S3 uploads and a Lambda
submitter."""

from .fanout import S3FanOut
from .lambda_submitter import LambdaSubmitter
from .s3_upload import S3UploadTrigger
from .schedule import ScheduledJob
from .stepfunctions import BatchJobStateMachine, BatchPipeline, JobOverrides, PipelineStep

__all__ = [
    "BatchJobStateMachine",
    "BatchPipeline",
    "JobOverrides",
    "LambdaSubmitter",
    "PipelineStep",
    "S3FanOut",
    "S3UploadTrigger",
    "ScheduledJob",
]
