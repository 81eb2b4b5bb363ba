"""One statement for a whole Batch platform: network, compute environments and queues."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._internal import defaults as _defaults
from ._internal.validation import raise_if_any
from .compute import (
    BatchEnvironment,
    Ec2Environment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    SpotEnvironment,
)
from .jobs import ContainerJob
from .model import registry
from .network import BatchNetwork
from .queue import BatchQueue

__all__ = ["BatchPlatform"]


class BatchPlatform(Construct):
    """Network + compute environments + queues, wired with the library's defaults, every part exposed.

    Environments are grouped into queues by platform, Spot first with On-Demand as fallback:

    * ``fargate_queue`` (child ``FargateQueue``): ``FargateSpot`` then ``Fargate`` environments;
    * ``ec2_queue`` (child ``Ec2Queue``): ``Spot`` then ``OnDemand``;
    * ``gpu_queue`` (child ``GpuQueue``): ``Gpu``.

    ``queue`` is the first of those that exists. Each part is also usable alone (see the ``compute``, ``queue`` and
    ``network`` modules) when a platform team needs another shape.

    Attributes:
        network: the :class:`BatchNetwork` (child ``Network``). vpc: its VPC.
        environments: construct id -> environment, in creation order.
        fargate_queue / ec2_queue / gpu_queue: the queues, or None. queue: the default queue.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc | None = None,
        max_azs: int | None = None,
        nat_gateways: int | None = None,
        fargate: bool = True,
        fargate_spot: bool = True,
        on_demand: bool = False,
        spot: bool = False,
        gpu: bool = False,
        max_vcpus: int = _defaults.MAX_VCPUS,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        network_options: dict[str, Any] | None = None,
    ) -> None:
        """Args:
        vpc: an existing VPC. Default: a new one (see :class:`BatchNetwork`).
        max_azs / nat_gateways: shape of a new VPC. Default: 2 AZs, 1 NAT gateway.
        fargate / fargate_spot: Fargate environments. Default: both (Spot first, On-Demand fallback).
        on_demand / spot: EC2 environments. Default: neither.
        gpu: an On-Demand GPU environment and queue. Default: False.
        max_vcpus: each environment's ceiling. Default: 256.
        log_retention / encryption_key: for the flow logs. Default: one year / the stack's shared key.
        network_options: further :class:`BatchNetwork` keyword arguments (e.g. ``interface_endpoints``).
        """
        super().__init__(scope, construct_id)
        if not (fargate or fargate_spot or on_demand or spot or gpu):
            raise_if_any(
                self,
                [
                    registry.QUEUE_ENVIRONMENTS.fix(
                        "every environment kind is turned off",
                        "enable at least one of fargate, fargate_spot, on_demand, spot, gpu",
                    )
                ],
            )
        self.network = BatchNetwork(
            self,
            "Network",
            vpc=vpc,
            max_azs=max_azs,
            nat_gateways=nat_gateways,
            log_retention=log_retention,
            encryption_key=encryption_key,
            **(network_options or {}),
        )
        self.vpc = self.network.vpc
        self.environments: dict[str, BatchEnvironment] = {}
        common = {"network": self.network, "max_vcpus": max_vcpus}
        if fargate_spot:
            self.environments["FargateSpot"] = FargateSpotEnvironment(self, "FargateSpot", **common)
        if fargate:
            self.environments["Fargate"] = FargateEnvironment(self, "Fargate", **common)  # type: ignore[arg-type]
        if spot:
            self.environments["Spot"] = SpotEnvironment(self, "Spot", **common)
        if on_demand:
            self.environments["OnDemand"] = Ec2Environment(self, "OnDemand", **common)  # type: ignore[arg-type]
        if gpu:
            self.environments["Gpu"] = GpuEnvironment(self, "Gpu", **common)

        def queue(queue_id: str, names: tuple[str, ...]) -> BatchQueue | None:
            envs = [self.environments[n] for n in names if n in self.environments]
            return BatchQueue(self, queue_id, environments=envs) if envs else None

        self.fargate_queue = queue("FargateQueue", ("FargateSpot", "Fargate"))
        self.ec2_queue = queue("Ec2Queue", ("Spot", "OnDemand"))
        self.gpu_queue = queue("GpuQueue", ("Gpu",))
        default = self.fargate_queue or self.ec2_queue or self.gpu_queue
        assert default is not None
        self.queue: BatchQueue = default

    def add_job(self, construct_id: str, **kwargs: Any) -> ContainerJob:
        """A :class:`ContainerJob` under this platform, on ``queue`` unless another is passed."""
        kwargs.setdefault("queue", self.queue)
        return ContainerJob(self, construct_id, **kwargs)
