"""The platform team's stack: one Batch platform (network, Fargate Spot + Fargate environments, one queue) that every
workload team submits to. It publishes the queue's contract (what the library checks jobs against) as an SSM parameter
and exports the queue ARN under a stable name, for workloads deployed from other apps."""

from __future__ import annotations

from typing import Any, Final

import aws_cdk as cdk
from constructs import Construct

from batch_constructs import BatchPlatform, BatchQueue, publish_contract

#: The CloudFormation export other apps import (``Fn.import_value(QUEUE_ARN_EXPORT)``). It is the platform's public
#: contract: renaming it breaks every workload that imports it, so it never changes.
QUEUE_ARN_EXPORT: Final = "SharedPlatform-JobQueueArn"
#: The SSM parameter holding the queue contract (JSON), and the queue's name in it: public API like the export.
CONTRACT_PARAMETER: Final = "/batch-constructs/shared-platform/queue-contract"
CONTRACT_QUEUE: Final = "default"


class SharedPlatformStack(cdk.Stack):
    """Network, Fargate Spot then Fargate On-Demand, and the shared job queue.

    Attributes:
        platform: the :class:`BatchPlatform` (child ``Platform``).
        queue: the shared queue workloads submit to.
        contract: the SSM parameter :data:`CONTRACT_PARAMETER` (child ``QueueContract``).
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: a Batch platform (network, environments, queue) shared by teams",
            **kwargs,
        )
        # Fargate Spot first, Fargate On-Demand as fallback; 2 AZs, 1 NAT gateway, flow logs, S3/DynamoDB endpoints.
        self.platform = BatchPlatform(self, "Platform")
        self.queue: BatchQueue = self.platform.queue
        cdk.CfnOutput(
            self,
            "JobQueueArn",
            value=self.queue.job_queue_arn,
            export_name=QUEUE_ARN_EXPORT,
            description="The shared job queue; workloads in other apps import it with Fn::ImportValue",
        )
        # What workloads in other apps check their jobs against (platform, sizes, GPUs, fair share), read at synth.
        self.contract = publish_contract(
            self, "QueueContract", parameter_name=CONTRACT_PARAMETER, queues={CONTRACT_QUEUE: self.queue}
        )
