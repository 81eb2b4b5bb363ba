"""Ways to start jobs: Step Functions state machines and pipelines, S3 fan-outs, schedules, S3 uploads and a Lambda
submitter.

A lazy package (PEP 562), like ``batch_constructs`` itself: ``from batch_constructs.triggers.schedule import
ScheduledJob`` loads the schedule module only, not the Lambda submitter (``aws_lambda`` and its event sources) or the
S3 trigger, and ``from batch_constructs.triggers import ScheduledJob`` imports the module that defines the name on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

#: Public name -> the submodule that defines it.
_EXPORTS: dict[str, str] = {
    "BatchJobStateMachine": ".stepfunctions",
    "BatchPipeline": ".stepfunctions",
    "JobOverrides": ".stepfunctions",
    "LambdaSubmitter": ".lambda_submitter",
    "PipelineStep": ".stepfunctions",
    "S3FanOut": ".fanout",
    "S3UploadTrigger": ".s3_upload",
    "ScheduledJob": ".schedule",
}

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

if TYPE_CHECKING:  # what mypy and IDEs see; at run time __getattr__ below imports on first use
    from .lambda_submitter import LambdaSubmitter
    from .s3_upload import S3UploadTrigger
    from .schedule import ScheduledJob
    from .stepfunctions import BatchJobStateMachine, BatchPipeline, JobOverrides, PipelineStep


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
