"""One statement for a whole Batch platform: network, compute environments and queues."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._internal import defaults as _defaults
from ._internal.memo import adopt_stack
from ._internal.validation import raise_if_any
from .compute import (
    BatchEnvironment,
    Ec2Environment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    SpotEnvironment,
)
from .jobs import ContainerJob, RetryPolicy
from .model import registry
from .network import BatchNetwork
from .queue import BatchQueue
from .types import JobPlatform, Queue

__all__ = ["BatchPlatform", "NetworkOptions"]


class NetworkOptions(TypedDict, total=False):
    """Further :class:`BatchNetwork` arguments a :class:`BatchPlatform` passes on (each as documented there)."""

    vpc_subnets: ec2.SubnetSelection
    ip_addresses: ec2.IIpAddresses
    gateway_endpoints: bool
    interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService]
    flow_logs: bool


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
        network_options: NetworkOptions | None = None,
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
        adopt_stack(self, scope, construct_id)
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
        net = self.network
        if fargate_spot:
            self.environments["FargateSpot"] = FargateSpotEnvironment(
                self, "FargateSpot", network=net, max_vcpus=max_vcpus
            )
        if fargate:
            self.environments["Fargate"] = FargateEnvironment(self, "Fargate", network=net, max_vcpus=max_vcpus)
        if spot:
            self.environments["Spot"] = SpotEnvironment(self, "Spot", network=net, max_vcpus=max_vcpus)
        if on_demand:
            self.environments["OnDemand"] = Ec2Environment(self, "OnDemand", network=net, max_vcpus=max_vcpus)
        if gpu:
            self.environments["Gpu"] = GpuEnvironment(self, "Gpu", network=net, max_vcpus=max_vcpus)

        def queue(queue_id: str, names: tuple[str, ...]) -> BatchQueue | None:
            envs = [self.environments[n] for n in names if n in self.environments]
            return BatchQueue(self, queue_id, environments=envs) if envs else None

        self.fargate_queue = queue("FargateQueue", ("FargateSpot", "Fargate"))
        self.ec2_queue = queue("Ec2Queue", ("Spot", "OnDemand"))
        self.gpu_queue = queue("GpuQueue", ("Gpu",))
        default = self.fargate_queue or self.ec2_queue or self.gpu_queue
        assert default is not None
        self.queue: BatchQueue = default

    def add_job(
        self,
        construct_id: str,
        *,
        image: ecs.ContainerImage | str,
        queue: Queue | None = None,
        platform: JobPlatform | None = None,
        vcpus: float = _defaults.JOB_VCPUS,
        memory: Size = _defaults.JOB_MEMORY,
        gpus: int = 0,
        architecture: ecs.CpuArchitecture | None = None,
        command: Sequence[str] | None = None,
        parameters: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, batch.Secret] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = _defaults.JOB_TIMEOUT,
        scheduling_priority: int | None = None,
        readonly_root_filesystem: bool = False,
        user: str | None = None,
        ephemeral_storage: Size | None = None,
        volumes: Sequence[batch.EcsVolume] = (),
        linux_parameters: batch.LinuxParameters | None = None,
        privileged: bool = False,
        ulimits: Sequence[batch.Ulimit] = (),
        shared_memory_size: Size | None = None,
        tmpfs: Sequence[batch.Tmpfs] = (),
        init_process: bool = False,
        enable_execute_command: bool = False,
        consumable_resources: Mapping[batch.IConsumableResource | str, int] | None = None,
        fargate_platform_version: ecs.FargatePlatformVersion | None = None,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
        skip_deregister_on_update: bool = True,
    ) -> ContainerJob:
        """A :class:`ContainerJob` under this platform, on ``queue`` (default: the platform's ``queue``).

        Every other argument and default is :class:`ContainerJob`'s (a test keeps the two signatures equal).
        """
        return ContainerJob(
            self,
            construct_id,
            image=image,
            queue=queue or self.queue,
            platform=platform,
            vcpus=vcpus,
            memory=memory,
            gpus=gpus,
            architecture=architecture,
            command=command,
            parameters=parameters,
            environment=environment,
            secrets=secrets,
            retry=retry,
            timeout=timeout,
            scheduling_priority=scheduling_priority,
            readonly_root_filesystem=readonly_root_filesystem,
            user=user,
            ephemeral_storage=ephemeral_storage,
            volumes=volumes,
            linux_parameters=linux_parameters,
            privileged=privileged,
            ulimits=ulimits,
            shared_memory_size=shared_memory_size,
            tmpfs=tmpfs,
            init_process=init_process,
            enable_execute_command=enable_execute_command,
            consumable_resources=consumable_resources,
            fargate_platform_version=fargate_platform_version,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
            job_definition_name=job_definition_name,
            propagate_tags=propagate_tags,
            skip_deregister_on_update=skip_deregister_on_update,
        )
