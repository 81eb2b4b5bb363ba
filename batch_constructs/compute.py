"""Compute environments, one documented entry point per kind, each wrapping the aws-cdk-lib L2.

=======================  =====================================================================================
Kind                     Defaults
=======================  =====================================================================================
FargateEnvironment       FARGATE, max 256 vCPUs, jobs' security group, private subnets
FargateSpotEnvironment   FARGATE_SPOT (up to 70% cheaper, may be interrupted: pair with the Spot-aware retries)
Ec2Environment           EC2 On-Demand, m7i/c7i/r7i, BEST_FIT_PROGRESSIVE, AL2023, min 0 / max 256 vCPUs
SpotEnvironment          EC2 Spot, nine diversified families, SPOT_PRICE_CAPACITY_OPTIMIZED, AL2023
GpuEnvironment           EC2 On-Demand (or Spot) g5/g6, ECS_AL2023_NVIDIA
EfaEnvironment           EC2 On-Demand, one EFA-capable type (c5n.18xlarge), cluster placement group, EFA launch
                         template with a pinned version, self-referencing security group, one subnet
=======================  =====================================================================================

Every environment: no physical name (so CloudFormation can replace it), the Batch service-linked role (so
infrastructure updates happen in place), min vCPUs 0 (nothing runs, nothing is billed). The L2 resource is the child
``Resource`` and the attribute ``compute_environment``; ``capacity`` describes what it can run, for the fit rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import jsii
from aws_cdk import Duration, IResolveContext, IStableNumberProducer, Lazy
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces.aws_batch import IComputeEnvironmentRef
from constructs import Construct

from ._internal import defaults as _defaults
from ._internal import launch_template as _lt
from ._internal.compliance import acknowledge_in_packs
from ._internal.limits import register_stack_checks
from ._internal.memo import path_of, seconds_of
from ._internal.types_check import OneOf, SeqOf, check_types
from ._internal.validation import is_known, raise_if_any, warn
from .model import registry
from .model import rules as _rules
from .model.capacity import FARGATE_SHAPES, EnvironmentCapacity, architecture_of, shapes_of
from .model.capacity import efa_interfaces as _efa_interfaces_of
from .network import BatchNetwork
from .roles import InstanceRole, SpotFleetRole

__all__ = [
    "GPU_CLASSES",
    "ON_DEMAND_CLASSES",
    "SPOT_CLASSES",
    "BatchEnvironment",
    "ContainerInsights",
    "Ec2Environment",
    "EfaEnvironment",
    "Environment",
    "FargateEnvironment",
    "FargateSpotEnvironment",
    "GpuEnvironment",
    "SpotEnvironment",
]

#: On-Demand default: current-generation general purpose, compute and memory optimised Intel families.
ON_DEMAND_CLASSES: tuple[ec2.InstanceClass, ...] = (ec2.InstanceClass.M7I, ec2.InstanceClass.C7I, ec2.InstanceClass.R7I)
#: Spot default: nine families over three generations, so SPOT_PRICE_CAPACITY_OPTIMIZED has many pools to choose from.
SPOT_CLASSES: tuple[ec2.InstanceClass, ...] = (
    ec2.InstanceClass.M5,
    ec2.InstanceClass.M6I,
    ec2.InstanceClass.M7I,
    ec2.InstanceClass.C5,
    ec2.InstanceClass.C6I,
    ec2.InstanceClass.C7I,
    ec2.InstanceClass.R5,
    ec2.InstanceClass.R6I,
    ec2.InstanceClass.R7I,
)
#: CloudWatch Container Insights modes of a compute environment's ECS cluster (API_EcsSettings).
ContainerInsights = Literal["ENABLED", "ENHANCED", "DISABLED"]

#: GPU default: NVIDIA A10G (g5) and L4 (g6) families.
GPU_CLASSES: tuple[ec2.InstanceClass, ...] = (ec2.InstanceClass.G5, ec2.InstanceClass.G6)


class BatchEnvironment(Construct):
    """Base of the library's compute environments: the L2 as ``compute_environment``, and its ``capacity``."""

    compute_environment: batch.IComputeEnvironment
    capacity: EnvironmentCapacity

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        register_stack_checks(self, scope, construct_id)

    def _set_container_insights(self, mode: ContainerInsights | None) -> None:
        """Set ``EcsSettings.ContainerInsights`` on the L1 (the L2 has no prop for it); None leaves it unset."""
        if mode is None:
            return
        cfn = self.compute_environment.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        cfn.ecs_settings = batch.CfnComputeEnvironment.EcsSettingsProperty(container_insights=mode)

    @staticmethod
    def _placement(
        scope: Construct,
        network: BatchNetwork | None,
        vpc: ec2.IVpc | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
        *,
        ec2_instances: bool = False,
    ) -> tuple[ec2.IVpc, ec2.SubnetSelection | None, list[ec2.ISecurityGroup] | None, list[str]]:
        problems: list[str] = []
        if ec2_instances and network is not None and network.ec2_endpoints_missing:
            problems.append(
                registry.NETWORK_EGRESS.fix(
                    f"network {path_of(network)} has no NAT and no interface endpoint for "
                    f"{', '.join(network.ec2_endpoints_missing)}: the ECS agent of the environment's EC2 instances "
                    "cannot register, so the environment never runs a job (they stay RUNNABLE)",
                    "add those endpoints to the network's interface_endpoints (BATCH_INTERFACE_ENDPOINTS has them), "
                    "or give it a NAT gateway",
                )
            )
        if (network is None) == (vpc is None):
            problems.append(
                registry.ENVIRONMENT_NETWORK.fix(
                    "got " + ("both network and vpc" if network else "neither network nor vpc"),
                    "pass network=BatchNetwork(...) (or a BatchPlatform's network), or vpc= with your own VPC",
                )
            )
            raise_if_any(scope, problems)
        if network is not None:
            return (
                network.vpc,
                vpc_subnets or network.subnet_selection,
                list(security_groups) if security_groups else [network.security_group],
                problems,
            )
        assert vpc is not None
        return vpc, vpc_subnets, list(security_groups) if security_groups else None, problems

    @staticmethod
    def _common_warnings(
        scope: Construct, name: str | None, service_role: iam.IRole | None, problems: list[str]
    ) -> None:
        problems.extend(_rules.name("compute_environment_name", name))
        if name is not None:
            warn(
                scope,
                registry.PHYSICAL_NAME_WARNING,
                f"compute_environment_name={name!r}: CloudFormation cannot replace a custom-named resource, so a "
                "later change that needs replacement fails the deploy. Leave it unset unless something outside "
                "the stack needs the name.",
            )
        if service_role is not None:
            warn(
                scope,
                registry.CUSTOM_SERVICE_ROLE_WARNING,
                "a custom service_role disables in-place infrastructure updates: CloudFormation replaces the compute "
                "environment instead. Leave it unset to use the AWSServiceRoleForBatch service-linked role.",
            )

    @staticmethod
    def _image_checks(
        scope: Construct, images: Sequence[batch.EcsMachineImage], instance_names: Sequence[str], problems: list[str]
    ) -> None:
        """AL2 images warn; GPU instances without an NVIDIA image (or a custom AMI) are an error."""
        for image in images:
            if image.image_type in (batch.EcsMachineImageType.ECS_AL2, batch.EcsMachineImageType.ECS_AL2_NVIDIA):
                warn(
                    scope,
                    registry.AL2_IMAGE_WARNING,
                    f"image type {image.image_type.value}: Amazon Linux 2 ECS images are being retired. Fix: use "
                    "ECS_AL2023 (ECS_AL2023_NVIDIA for GPUs).",
                )
        problems += _rules.gpu_image(
            instance_names,
            [(i.image_type.value if i.image_type else None, i.image is not None) for i in images],
        )

    def _update_controls(
        self,
        env: batch.ManagedEc2EcsComputeEnvironment,
        terminate_jobs_on_update: bool,
        job_execution_timeout: Duration | None,
        update_to_latest_image_version: bool,
    ) -> None:
        """Write ``UpdatePolicy`` and ``UpdateToLatestImageVersion`` on the L1 (EC2 environments only).

        Without ``job_execution_timeout`` the timeout is derived at synth time from the longest timeout of the jobs
        submitted to queues that use this environment (:func:`~batch_constructs.model.rules.derived_update_timeout`).
        """
        cfn = env.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        minutes: float | str
        if job_execution_timeout is not None:
            minutes = job_execution_timeout.to_minutes()
        else:
            minutes = Lazy.number(_DerivedUpdateTimeout(self))
        cfn.add_property_override(
            "UpdatePolicy",
            {"TerminateJobsOnUpdate": terminate_jobs_on_update, "JobExecutionTimeoutMinutes": minutes},
        )
        cfn.add_property_override("ComputeResources.UpdateToLatestImageVersion", update_to_latest_image_version)

    @staticmethod
    def _update_checks(job_execution_timeout: Duration | None) -> list[str]:
        if job_execution_timeout is None:
            return []
        seconds = seconds_of(job_execution_timeout)
        if not is_known(seconds):
            return []
        return _rules.update_timeout(seconds / 60)

    def job_timeouts_seconds(self) -> list[float]:
        """Timeouts (seconds) of the app's jobs whose queue uses this environment: what the derived
        ``job_execution_timeout`` is computed from. Jobs without a timeout do not count."""
        found: list[float] = []
        own = self.compute_environment.node.path
        for construct in self.node.root.node.find_all():
            queue = getattr(construct, "queue", None)
            definition = getattr(construct, "job_definition", None)
            job_queue = getattr(queue, "job_queue", None)
            if definition is None or not isinstance(job_queue, batch.JobQueue):
                continue
            paths = {o.compute_environment.node.path for o in job_queue.compute_environments}
            timeout = getattr(definition, "timeout", None)
            if own in paths and isinstance(timeout, Duration) and is_known(seconds_of(timeout)):
                found.append(seconds_of(timeout))
        return found


@jsii.implements(IStableNumberProducer)
class _DerivedUpdateTimeout:
    """Produces an environment's JobExecutionTimeoutMinutes when the template is resolved (every job exists then)."""

    def __init__(self, environment: BatchEnvironment) -> None:
        self._environment = environment

    def produce(self, context: IResolveContext | None = None) -> float:
        return _rules.derived_update_timeout(self._environment.job_timeouts_seconds())


class _LockedLaunchTemplate:
    """Merges the library's instance-metadata lock-down and user data with what the user passes (Ec2Environment)."""

    @staticmethod
    def check(
        scope: Construct, launch_template: ec2.ILaunchTemplate | None, user_data: ec2.UserData | None
    ) -> list[str]:
        if launch_template is None:
            return []
        problems: list[str] = []
        if isinstance(launch_template, ec2.LaunchTemplate):
            data = _lt.resolved_data(launch_template)
            conflicts = _lt.metadata_conflicts(data)
            if conflicts:
                problems.append(
                    registry.LAUNCH_TEMPLATE_MERGE.fix(
                        f"launch_template sets {', '.join(conflicts)}; every EC2 environment requires IMDSv2 with "
                        "hop limit 1 so that job containers cannot read the instance role's credentials",
                        "drop those metadata options from the launch template (the library sets them)",
                    )
                )
            if data.get("networkInterfaces"):
                # AWS Batch refuses a compute environment with security groups whose launch template has network
                # interfaces ("Either compute environment Security Groups or Network Interfaces in Launch template
                # are exclusively allowed", aws-cdk#21577); every Ec2Environment has security groups.
                problems.append(
                    registry.LAUNCH_TEMPLATE_MERGE.fix(
                        "launch_template has network interfaces (NetworkInterfaces, also written by "
                        "associate_public_ip_address); AWS Batch refuses them beside the environment's security groups",
                        "drop them from the launch template (instances get the environment's subnets and "
                        "security_groups); for EFA interfaces use EfaEnvironment",
                    )
                )
            if user_data is not None and data.get("userData") is not None:
                problems.append(
                    registry.LAUNCH_TEMPLATE_MERGE.fix(
                        "both user_data and a launch_template with its own user data",
                        "put all commands in one place: user_data= (rendered as MIME multi-part) or the template",
                    )
                )
        elif user_data is not None:
            problems.append(
                registry.LAUNCH_TEMPLATE_MERGE.fix(
                    "user_data with an imported launch_template, which the library cannot add user data to",
                    "put the commands in the imported template, or pass an ec2.LaunchTemplate of this app",
                )
            )
        else:
            warn(
                scope,
                registry.LAUNCH_TEMPLATE_UNVERIFIED_WARNING,
                "an imported launch_template: the library cannot check or set its instance metadata options. Make "
                "sure it requires IMDSv2 (HttpTokens required) with HttpPutResponseHopLimit 1. Import it with a "
                "version number (from_launch_template_attributes(version_number=...)) and change that number to roll "
                "a new version out: AWS Batch reads the template only when the environment is created or updated "
                "(aws-cdk#28137).",
            )
        return problems

    @staticmethod
    def merge(launch_template: ec2.LaunchTemplate, user_data: ec2.UserData | None) -> None:
        cfn = launch_template.node.default_child
        assert isinstance(cfn, ec2.CfnLaunchTemplate)
        cfn.add_property_override("LaunchTemplateData.MetadataOptions.HttpEndpoint", "enabled")
        cfn.add_property_override("LaunchTemplateData.MetadataOptions.HttpTokens", "required")
        cfn.add_property_override(
            "LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit", _defaults.IMDS_HOP_LIMIT
        )
        encoded = _lt.encoded([], user_data)
        if encoded is not None:
            cfn.add_property_override("LaunchTemplateData.UserData", encoded)


class FargateEnvironment(BatchEnvironment):
    """A Fargate compute environment (``FARGATE``, or ``FARGATE_SPOT`` with ``spot=True``).

    No instances to manage; jobs get exactly the vCPU/memory they ask for (from Fargate's combinations). The template
    carries no UpdatePolicy, ReplaceComputeEnvironment or UpdateToLatestImageVersion, which Fargate environments reject
    on update (aws-cdk #27054).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        spot: bool = False,
        max_vcpus: int = _defaults.MAX_VCPUS,
        compute_environment_name: str | None = None,
        service_role: iam.IRole | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
    ) -> None:
        """Args:
        network: a :class:`BatchNetwork` supplying VPC, subnets and the jobs' security group. Either this or ``vpc``.
        vpc: your own VPC instead of ``network``.
        vpc_subnets: where tasks run. Default: the network's private subnets (the VPC's private ones).
        security_groups: Default: the network's jobs security group (with ``vpc``: a new egress-only one).
        spot: FARGATE_SPOT instead of FARGATE. Default: False.
        max_vcpus: the environment's ceiling. Default: 256.
        compute_environment_name: a physical name. Default: none (CloudFormation generates one; keeps it replaceable).
        service_role: a custom service role. Default: the service-linked role (in-place updates).
        enabled: accept jobs. Default: True.
        container_insights: CloudWatch Container Insights for the environment's ECS cluster: ``ENABLED`` (CPU,
            memory, disk and network per cluster), ``ENHANCED`` (also per task) or ``DISABLED``. Default: unset, so
            the account's ECS ``containerInsights`` setting applies (off unless changed). Insights metrics are billed
            as custom metrics.
        """
        check_types(
            scope,
            construct_id,
            [
                ("network", network, BatchNetwork),
                ("vpc_subnets", vpc_subnets, ec2.SubnetSelection),
                ("spot", spot, bool),
                ("max_vcpus", max_vcpus, int),
                ("compute_environment_name", compute_environment_name, str),
                ("enabled", enabled, bool),
                ("container_insights", container_insights, OneOf(("ENABLED", "ENHANCED", "DISABLED"))),
            ],
        )
        super().__init__(scope, construct_id)
        vpc_, subnets, groups, problems = self._placement(self, network, vpc, vpc_subnets, security_groups)
        self._common_warnings(self, compute_environment_name, service_role, problems)
        if is_known(max_vcpus):
            problems += _rules.int_range(
                registry.ENVIRONMENT_VCPUS, "max_vcpus", max_vcpus, 1, 1_000_000, "use at least 1"
            )
        raise_if_any(self, problems)
        env = batch.FargateComputeEnvironment(
            self,
            "Resource",
            vpc=vpc_,
            vpc_subnets=subnets,
            security_groups=groups,
            spot=spot,
            maxv_cpus=max_vcpus,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
        )
        cfn = env.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        for prop in ("UpdatePolicy", "ReplaceComputeEnvironment", "ComputeResources.UpdateToLatestImageVersion"):
            cfn.add_property_deletion_override(prop)
        self.compute_environment: batch.FargateComputeEnvironment = env
        self._set_container_insights(container_insights)
        self.capacity = EnvironmentCapacity(
            platform="FARGATE",
            spot=spot,
            max_vcpus=max_vcpus if is_known(max_vcpus) else None,
            shapes=FARGATE_SHAPES,
            isolated_endpoints=network.isolated_endpoints if network is not None else None,
        )


class FargateSpotEnvironment(FargateEnvironment):
    """A ``FARGATE_SPOT`` environment: :class:`FargateEnvironment` with ``spot=True``.

    Put it first in a queue and a :class:`FargateEnvironment` second for On-Demand fallback.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        max_vcpus: int = _defaults.MAX_VCPUS,
        compute_environment_name: str | None = None,
        service_role: iam.IRole | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
    ) -> None:
        """Args:
        network / vpc / vpc_subnets / security_groups / max_vcpus / compute_environment_name / service_role /
            enabled / container_insights: as for :class:`FargateEnvironment`. Default: as there (max_vcpus 256, the
            service-linked role, enabled, the account's Container Insights setting).
        """
        super().__init__(
            scope,
            construct_id,
            network=network,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            spot=True,
            max_vcpus=max_vcpus,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
            container_insights=container_insights,
        )


class Ec2Environment(BatchEnvironment):
    """A managed EC2 (ECS) compute environment, On-Demand by default.

    Instance classes are explicit (the L2's ``optimal`` is turned off) so the fit rules know what can be launched.
    The instance role is created (``instance_role`` attribute) unless given.
    """

    _default_classes: tuple[ec2.InstanceClass, ...] = ON_DEMAND_CLASSES
    _default_image: batch.EcsMachineImageType = batch.EcsMachineImageType.ECS_AL2023
    #: GpuEnvironment: every instance type or family must have GPUs (rule gpu-instances).
    _gpu_environment: bool = False

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        instance_types: Sequence[ec2.InstanceType] = (),
        instance_classes: Sequence[ec2.InstanceClass] | None = None,
        spot: bool = False,
        allocation_strategy: batch.AllocationStrategy | None = None,
        spot_bid_percentage: int | None = None,
        min_vcpus: int = 0,
        max_vcpus: int = _defaults.MAX_VCPUS,
        images: Sequence[batch.EcsMachineImage] | None = None,
        launch_template: ec2.ILaunchTemplate | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        instance_role: iam.IRole | None = None,
        spot_fleet_role: iam.IRole | None = None,
        compute_environment_name: str | None = None,
        service_role: iam.IRole | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
        user_data: ec2.UserData | None = None,
        terminate_jobs_on_update: bool = False,
        job_execution_timeout: Duration | None = None,
        update_to_latest_image_version: bool = True,
    ) -> None:
        """Args:
        network / vpc / vpc_subnets / security_groups: as for :class:`FargateEnvironment`.
        instance_types: exact instance types. Default: none (the classes decide).
        instance_classes: instance families. Default: m7i, c7i, r7i On-Demand; nine m/c/r families on Spot; g5, g6
            for GPUs. With ``instance_types`` given and this unset, only those types.
        spot: Spot instead of On-Demand. Default: False.
        allocation_strategy: Default: BEST_FIT_PROGRESSIVE On-Demand, SPOT_PRICE_CAPACITY_OPTIMIZED on Spot (AWS's
            recommendation: fewest interruptions at a low price; needs no Spot Fleet role).
        spot_bid_percentage: cap as a percentage of the On-Demand price. Default: none (pay the Spot price, at most
            On-Demand), which interrupts least.
        min_vcpus: vCPUs kept running when idle. Default: 0 (scale to zero; nothing billed while idle).
        max_vcpus: the ceiling. Default: 256.
        images: machine images. Default: ECS_AL2023; ECS_AL2023_NVIDIA when every instance type or family has NVIDIA
            GPUs; both (Batch boots each instance with the image of its kind) when only some have. AL2 is being
            retired.
        launch_template: your launch template, merged with the library's: an ``ec2.LaunchTemplate`` gets IMDSv2
            required with hop limit 1 (metadata options that contradict it are an error, rule launch-template-merge)
            and ``user_data``, and its version is pinned to its latest version number so that template changes roll
            the environment (the L2 passes none, aws-cdk #28137). An imported template is used as it is (a warning
            says its metadata options are unchecked). Default: a new one (child ``LaunchTemplate``, attribute
            ``launch_template``) with IMDSv2 required, hop limit 1 and ``user_data``, pinned the same way.
        user_data: commands every instance runs at boot, rendered as the MIME multi-part document AWS Batch requires
            (a ``MultipartUserData`` is used as it is). Default: none.
        terminate_jobs_on_update: an infrastructure update (new image, instance types, launch template version...)
            stops running jobs at once instead of waiting for them. Default: False (jobs keep running, up to
            ``job_execution_timeout``).
        job_execution_timeout: how long an infrastructure update waits for running jobs before it replaces their
            instances (1 minute to 5 days). Default: the longest timeout of the jobs submitted to queues that use
            this environment, at least AWS's 30 minutes (computed at synth; jobs without a timeout do not count).
        update_to_latest_image_version: an infrastructure update also moves the instances to the latest ECS-optimized
            image (ignored with a custom AMI). Default: True, so security patches arrive with every update.
        placement_group: Default: none.
        instance_role: Default: a new :class:`~batch_constructs.roles.InstanceRole`.
        spot_fleet_role: Default: a new :class:`~batch_constructs.roles.SpotFleetRole` when Spot uses BEST_FIT.
        compute_environment_name / service_role / enabled / container_insights: as for :class:`FargateEnvironment`.
        """
        check_types(
            scope,
            construct_id,
            [
                ("network", network, BatchNetwork),
                ("vpc_subnets", vpc_subnets, ec2.SubnetSelection),
                ("instance_types", instance_types, SeqOf(ec2.InstanceType)),
                ("instance_classes", instance_classes, SeqOf(ec2.InstanceClass)),
                ("spot", spot, bool),
                ("allocation_strategy", allocation_strategy, batch.AllocationStrategy),
                ("spot_bid_percentage", spot_bid_percentage, int),
                ("min_vcpus", min_vcpus, int),
                ("max_vcpus", max_vcpus, int),
                ("images", images, SeqOf(batch.EcsMachineImage)),
                ("compute_environment_name", compute_environment_name, str),
                ("enabled", enabled, bool),
                ("container_insights", container_insights, OneOf(("ENABLED", "ENHANCED", "DISABLED"))),
            ],
        )
        super().__init__(scope, construct_id)
        vpc_, subnets, groups, problems = self._placement(
            self, network, vpc, vpc_subnets, security_groups, ec2_instances=True
        )
        self._common_warnings(self, compute_environment_name, service_role, problems)
        classes = (
            tuple(instance_classes)
            if instance_classes is not None
            else (() if instance_types else self._default_classes)
        )
        type_names = [t.to_string() for t in instance_types]
        class_names = [family_of(c) for c in classes]
        strategy = allocation_strategy or (
            batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
            if spot
            else batch.AllocationStrategy.BEST_FIT_PROGRESSIVE
        )
        problems += self._check(type_names, class_names, min_vcpus, max_vcpus)
        problems += _rules.spot_settings(
            spot,
            str(strategy.value),
            spot_bid_percentage if spot_bid_percentage is not None and is_known(spot_bid_percentage) else None,
            spot_fleet_role is not None,
        )
        if self._gpu_environment:
            problems += _rules.gpu_instances(type_names + class_names)
        machine_images = list(images) if images is not None else self._default_images(type_names + class_names)
        self._image_checks(self, machine_images, type_names + class_names, problems)
        problems += self._update_checks(job_execution_timeout)
        problems += _LockedLaunchTemplate.check(self, launch_template, user_data)
        if strategy == batch.AllocationStrategy.BEST_FIT:
            warn(
                self,
                registry.BEST_FIT_WARNING,
                "allocation_strategy=BEST_FIT waits for the single best instance type and cannot update in place. "
                "Fix: BEST_FIT_PROGRESSIVE (On-Demand) or SPOT_PRICE_CAPACITY_OPTIMIZED (Spot).",
            )
        raise_if_any(self, problems)

        self.instance_role: iam.IRole = instance_role or InstanceRole(self, "InstanceRole")
        fleet_role = spot_fleet_role
        if spot and strategy == batch.AllocationStrategy.BEST_FIT and fleet_role is None:
            fleet_role = SpotFleetRole(self, "SpotFleetRole")
        self.spot_fleet_role: iam.IRole | None = fleet_role

        locked = launch_template is None or isinstance(launch_template, ec2.LaunchTemplate)
        env = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "Resource",
            vpc=vpc_,
            vpc_subnets=subnets,
            security_groups=groups,
            instance_types=list(instance_types) or None,
            instance_classes=list(classes) or None,
            use_optimal_instance_classes=False,
            spot=spot,
            allocation_strategy=strategy,
            spot_bid_percentage=spot_bid_percentage,
            spot_fleet_role=fleet_role,
            minv_cpus=min_vcpus,
            maxv_cpus=max_vcpus,
            images=machine_images,
            launch_template=launch_template if launch_template is not None and not locked else None,
            placement_group=placement_group,
            instance_role=self.instance_role,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
        )
        self.launch_template: ec2.ILaunchTemplate | ec2.CfnLaunchTemplate | None = launch_template
        if isinstance(launch_template, ec2.LaunchTemplate):
            _LockedLaunchTemplate.merge(launch_template, user_data)
            self._pin_launch_template(env, launch_template.launch_template_id, launch_template.latest_version_number)
        elif launch_template is None:
            template = ec2.CfnLaunchTemplate(
                self,
                "LaunchTemplate",
                launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                    metadata_options=_lt.metadata_options(),
                    user_data=_lt.encoded([], user_data),
                ),
            )
            self.launch_template = template
            self._pin_launch_template(env, template.ref, template.attr_latest_version_number)
        self.compute_environment: batch.ManagedEc2EcsComputeEnvironment = env
        self._update_controls(env, terminate_jobs_on_update, job_execution_timeout, update_to_latest_image_version)
        self._set_container_insights(container_insights)
        archs = {architecture_of(n) for n in type_names + class_names}
        self.capacity = EnvironmentCapacity(
            platform="EC2",
            spot=spot,
            max_vcpus=max_vcpus if is_known(max_vcpus) else None,
            shapes=shapes_of(type_names, class_names),
            architectures=frozenset(archs),
            single_instance_type=type_names[0] if len(type_names) == 1 and not class_names else None,
            instance_types=frozenset(type_names),
            instance_families=frozenset(class_names),
            isolated_endpoints=network.isolated_endpoints if network is not None else None,
        )

    def _default_images(self, names: Sequence[str]) -> list[batch.EcsMachineImage]:
        """ECS_AL2023_NVIDIA for NVIDIA GPU instances, ECS_AL2023 for the others (both when the kinds mix)."""
        gpu = [_rules.is_gpu_instance(n) is True for n in names]
        kinds = [self._default_image]
        if gpu and all(gpu):
            kinds = [batch.EcsMachineImageType.ECS_AL2023_NVIDIA]
        elif any(gpu) and self._default_image != batch.EcsMachineImageType.ECS_AL2023_NVIDIA:
            kinds = [self._default_image, batch.EcsMachineImageType.ECS_AL2023_NVIDIA]
        return [batch.EcsMachineImage(image_type=k) for k in kinds]

    @staticmethod
    def _pin_launch_template(env: batch.ManagedEc2EcsComputeEnvironment, template_id: str | None, version: str) -> None:
        cfn = env.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        cfn.add_property_override(
            "ComputeResources.LaunchTemplate", {"LaunchTemplateId": template_id, "Version": version}
        )

    @staticmethod
    def _check(type_names: list[str], class_names: list[str], min_vcpus: int, max_vcpus: int) -> list[str]:
        problems = _rules.environment_instances(type_names, class_names)
        if is_known(min_vcpus, max_vcpus):
            problems += _rules.environment_vcpus(min_vcpus, max_vcpus)
        return problems


class SpotEnvironment(Ec2Environment):
    """EC2 Spot: :class:`Ec2Environment` with ``spot=True``, nine diversified families, SPOT_PRICE_CAPACITY_OPTIMIZED.

    Pair with the job definitions' default Spot-aware retry policy (retry ``Host EC2*`` terminations only), and put
    an On-Demand :class:`Ec2Environment` after it in the queue for fallback.
    """

    _default_classes = SPOT_CLASSES

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        instance_types: Sequence[ec2.InstanceType] = (),
        instance_classes: Sequence[ec2.InstanceClass] | None = None,
        allocation_strategy: batch.AllocationStrategy | None = None,
        spot_bid_percentage: int | None = None,
        min_vcpus: int = 0,
        max_vcpus: int = _defaults.MAX_VCPUS,
        images: Sequence[batch.EcsMachineImage] | None = None,
        launch_template: ec2.ILaunchTemplate | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        instance_role: iam.IRole | None = None,
        spot_fleet_role: iam.IRole | None = None,
        compute_environment_name: str | None = None,
        service_role: iam.IRole | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
        user_data: ec2.UserData | None = None,
        terminate_jobs_on_update: bool = False,
        job_execution_timeout: Duration | None = None,
        update_to_latest_image_version: bool = True,
    ) -> None:
        """Args:
        instance_classes: Default: m5, m6i, m7i, c5, c6i, c7i, r5, r6i, r7i (many Spot pools to choose from).
        allocation_strategy: Default: SPOT_PRICE_CAPACITY_OPTIMIZED (fewest interruptions at a low price).
        network / vpc / vpc_subnets / security_groups / instance_types / spot_bid_percentage / min_vcpus / max_vcpus /
            images / launch_template / placement_group / instance_role / spot_fleet_role / compute_environment_name /
            service_role / enabled / container_insights / user_data / terminate_jobs_on_update / job_execution_timeout /
            update_to_latest_image_version: as for :class:`Ec2Environment`.
        """
        super().__init__(
            scope,
            construct_id,
            network=network,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            instance_types=instance_types,
            instance_classes=instance_classes,
            spot=True,
            allocation_strategy=allocation_strategy,
            spot_bid_percentage=spot_bid_percentage,
            min_vcpus=min_vcpus,
            max_vcpus=max_vcpus,
            images=images,
            launch_template=launch_template,
            placement_group=placement_group,
            instance_role=instance_role,
            spot_fleet_role=spot_fleet_role,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
            container_insights=container_insights,
            user_data=user_data,
            terminate_jobs_on_update=terminate_jobs_on_update,
            job_execution_timeout=job_execution_timeout,
            update_to_latest_image_version=update_to_latest_image_version,
        )


class GpuEnvironment(Ec2Environment):
    """NVIDIA GPU instances (g5, g6 by default) with the ECS_AL2023_NVIDIA image. On-Demand unless ``spot=True``."""

    _default_classes = GPU_CLASSES
    _default_image = batch.EcsMachineImageType.ECS_AL2023_NVIDIA
    _gpu_environment = True

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        instance_types: Sequence[ec2.InstanceType] = (),
        instance_classes: Sequence[ec2.InstanceClass] | None = None,
        spot: bool = False,
        allocation_strategy: batch.AllocationStrategy | None = None,
        spot_bid_percentage: int | None = None,
        min_vcpus: int = 0,
        max_vcpus: int = _defaults.MAX_VCPUS,
        images: Sequence[batch.EcsMachineImage] | None = None,
        launch_template: ec2.ILaunchTemplate | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        instance_role: iam.IRole | None = None,
        spot_fleet_role: iam.IRole | None = None,
        compute_environment_name: str | None = None,
        service_role: iam.IRole | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
        user_data: ec2.UserData | None = None,
        terminate_jobs_on_update: bool = False,
        job_execution_timeout: Duration | None = None,
        update_to_latest_image_version: bool = True,
    ) -> None:
        """Args:
        instance_classes: Default: g5, g6 (NVIDIA A10G, L4). Every type and family must have GPUs.
        images: Default: ECS_AL2023_NVIDIA (the NVIDIA driver and container toolkit).
        spot: Spot GPUs instead of On-Demand. Default: False (GPU Spot capacity is scarce).
        network / vpc / vpc_subnets / security_groups / instance_types / allocation_strategy / spot_bid_percentage /
            min_vcpus / max_vcpus / launch_template / placement_group / instance_role / spot_fleet_role /
            compute_environment_name / service_role / enabled / container_insights / user_data /
            terminate_jobs_on_update / job_execution_timeout / update_to_latest_image_version: as for
            :class:`Ec2Environment`.
        """
        super().__init__(
            scope,
            construct_id,
            network=network,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            instance_types=instance_types,
            instance_classes=instance_classes,
            spot=spot,
            allocation_strategy=allocation_strategy,
            spot_bid_percentage=spot_bid_percentage,
            min_vcpus=min_vcpus,
            max_vcpus=max_vcpus,
            images=images,
            launch_template=launch_template,
            placement_group=placement_group,
            instance_role=instance_role,
            spot_fleet_role=spot_fleet_role,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
            container_insights=container_insights,
            user_data=user_data,
            terminate_jobs_on_update=terminate_jobs_on_update,
            job_execution_timeout=job_execution_timeout,
            update_to_latest_image_version=update_to_latest_image_version,
        )


class EfaEnvironment(BatchEnvironment):
    """On-Demand EC2 for multi-node parallel jobs over the Elastic Fabric Adapter (EFA).

    Builds what EFA needs and the L2 cannot express (AWS Batch User Guide, "Run an MNP job with EFA"; EC2 User Guide,
    "Elastic Fabric Adapter"):

    * a cluster placement group (child ``PlacementGroup``), so every node is in one network spine;
    * a security group allowing all traffic in from and out to itself, plus outbound to anywhere for images and AWS
      APIs (child ``EfaSecurityGroup``, attribute ``efa_security_group``);
    * an L1 launch template (child ``LaunchTemplate``) with one EFA interface per network card of the instance type
      (e.g. 4 on p4d.24xlarge, 32 on p5.48xlarge), all in one subnet and carrying the security group; IMDSv2 required
      with hop limit 1; and, unless the image is your own AMI, MIME multi-part user data that installs the EFA
      software (pinned version, GPG-verified). Its version is pinned so that changes roll the environment;
    * the environment itself restricted to that subnet, with **no** ``SecurityGroupIds``: AWS Batch rejects security
      groups on an environment whose launch template has network interfaces (aws-cdk #21577), so the groups live on
      each interface.

    Attributes:
        placement_group, efa_security_group, launch_template: the parts above.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance_type: ec2.InstanceType | None = None,
        network: BatchNetwork | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        max_vcpus: int = _defaults.MAX_VCPUS * 2,
        images: Sequence[batch.EcsMachineImage] | None = None,
        instance_role: iam.IRole | None = None,
        compute_environment_name: str | None = None,
        enabled: bool = True,
        container_insights: ContainerInsights | None = None,
        efa_interfaces: int | None = None,
        user_data: ec2.UserData | None = None,
        terminate_jobs_on_update: bool = False,
        job_execution_timeout: Duration | None = None,
        update_to_latest_image_version: bool = True,
    ) -> None:
        """Args:
        instance_type: one EFA-capable type. Default: c5n.18xlarge (72 vCPUs, 100 Gbps EFA; the type AWS's Batch EFA
            walkthrough uses).
        network / vpc / vpc_subnets: as for :class:`Ec2Environment`; the first selected subnet is used.
        max_vcpus: Default: 512 (seven c5n.18xlarge nodes).
        images: Default: ECS_AL2023_NVIDIA for NVIDIA GPU types, ECS_AL2023 otherwise; the EFA software is installed
            at boot from user data. An image with a custom AMI (``EcsMachineImage(image=...)``) is taken to have the
            EFA software already (no EFA user data is added).
        efa_interfaces: EFA interfaces to attach, one per network card. Default: every one the instance type has
            (``model.capacity.efa_interfaces``: 4 on p4d.24xlarge, 32 on p5.48xlarge, 1 on most types), for the
            type's full network bandwidth.
        user_data: your own boot commands, run after the EFA installation. Default: none.
        instance_role / compute_environment_name / enabled / container_insights / terminate_jobs_on_update /
            job_execution_timeout / update_to_latest_image_version: as for :class:`Ec2Environment`.
        """
        super().__init__(scope, construct_id)
        itype = instance_type or ec2.InstanceType("c5n.18xlarge")
        type_name = itype.to_string()
        vpc_, subnets, _, problems = self._placement(self, network, vpc, vpc_subnets, None, ec2_instances=True)
        problems += _rules.efa_instance_type(type_name)
        interfaces = efa_interfaces if efa_interfaces is not None else _efa_interfaces_of(type_name)
        if is_known(interfaces):
            problems += _rules.efa_interface_count(type_name, interfaces)
        self._common_warnings(self, compute_environment_name, None, problems)
        gpu = _rules.is_gpu_instance(type_name) is True
        default_image = batch.EcsMachineImageType.ECS_AL2023_NVIDIA if gpu else batch.EcsMachineImageType.ECS_AL2023
        machine_images = list(images) if images is not None else [batch.EcsMachineImage(image_type=default_image)]
        self._image_checks(self, machine_images, [type_name], problems)
        problems += self._update_checks(job_execution_timeout)
        raise_if_any(self, problems)
        selected = vpc_.select_subnets(
            subnet_type=subnets.subnet_type if subnets else None,
            subnets=subnets.subnets if subnets else None,
            subnet_group_name=subnets.subnet_group_name if subnets else None,
        ).subnets
        if not selected:
            raise_if_any(
                self,
                [registry.ENVIRONMENT_NETWORK.fix("the subnet selection matches no subnet", "pass vpc_subnets")],
            )
        subnet = selected[0]

        self.placement_group = ec2.PlacementGroup(self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER)
        self.efa_security_group = ec2.SecurityGroup(
            self,
            "EfaSecurityGroup",
            vpc=vpc_,
            description="EFA nodes: all traffic to and from this group (EFA requirement); outbound to anywhere",
            allow_all_outbound=True,
        )
        self.efa_security_group.add_ingress_rule(
            self.efa_security_group, ec2.Port.all_traffic(), "EFA: all traffic between the job's nodes"
        )
        # The L2 drops egress rules once all outbound traffic is allowed, but EFA's OS-bypass traffic only matches
        # rules that name the group itself (EC2 User Guide, "Prepare an EFA-enabled security group"): an L1 rule.
        ec2.CfnSecurityGroupEgress(
            self.efa_security_group,
            "EfaSelfEgress",
            group_id=self.efa_security_group.security_group_id,
            ip_protocol="-1",
            destination_security_group_id=self.efa_security_group.security_group_id,
            description="EFA: all traffic between the job's nodes",
        )
        for rule in self.efa_security_group.node.children:
            if isinstance(rule, ec2.CfnSecurityGroupIngress):
                acknowledge_in_packs(
                    rule,
                    "EC2RestrictedCommonPorts",
                    "EFA requires all traffic to and from the security group itself; the source is this group "
                    "(the job's own nodes), never an address range.",
                )
        custom_ami = any(i.image is not None for i in machine_images)
        parts = [] if custom_ami else [_lt.efa_install_script()]
        group_ids = [self.efa_security_group.security_group_id]
        self.launch_template = ec2.CfnLaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                network_interfaces=[
                    ec2.CfnLaunchTemplate.NetworkInterfaceProperty(
                        network_card_index=card,
                        device_index=0 if card == 0 else 1,
                        interface_type="efa",
                        groups=group_ids,
                        subnet_id=subnet.subnet_id,
                        delete_on_termination=True,
                    )
                    for card in range(interfaces if is_known(interfaces) else 1)
                ],
                metadata_options=_lt.metadata_options(),
                user_data=_lt.encoded(parts, user_data),
            ),
        )
        self.instance_role: iam.IRole = instance_role or InstanceRole(self, "InstanceRole")
        env = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "Resource",
            vpc=vpc_,
            vpc_subnets=ec2.SubnetSelection(subnets=[subnet]),
            security_groups=[self.efa_security_group],
            instance_types=[itype],
            use_optimal_instance_classes=False,
            spot=False,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            minv_cpus=0,
            maxv_cpus=max_vcpus,
            images=machine_images,
            placement_group=self.placement_group,
            instance_role=self.instance_role,
            compute_environment_name=compute_environment_name,
            enabled=enabled,
        )
        cfn = env.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        # Groups are on every interface of the launch template; Batch rejects them on the environment as well.
        cfn.add_property_deletion_override("ComputeResources.SecurityGroupIds")
        Ec2Environment._pin_launch_template(
            env, self.launch_template.ref, self.launch_template.attr_latest_version_number
        )
        self.compute_environment: batch.ManagedEc2EcsComputeEnvironment = env
        self._update_controls(env, terminate_jobs_on_update, job_execution_timeout, update_to_latest_image_version)
        self._set_container_insights(container_insights)
        self.capacity = EnvironmentCapacity(
            platform="EC2",
            spot=False,
            max_vcpus=max_vcpus if is_known(max_vcpus) else None,
            shapes=shapes_of([type_name], []),
            architectures=frozenset({architecture_of(type_name)}),
            single_instance_type=type_name,
            efa=True,
            instance_types=frozenset({type_name}),
            isolated_endpoints=network.isolated_endpoints if network is not None else None,
        )


def capacity_of(
    environment: BatchEnvironment | batch.IComputeEnvironment | IComputeEnvironmentRef,
) -> EnvironmentCapacity | None:
    """What an environment can run: exact for the library's own, partial for L2 ones, None for imported ones.

    An L2 environment created under one of the library's environments (its ``compute_environment``) maps back to it.
    L2 EC2 environments may add the "optimal" families, so their instance sizes count as unknown.
    """
    if isinstance(environment, BatchEnvironment):
        return environment.capacity
    parent = environment.node.scope
    if isinstance(parent, BatchEnvironment) and parent.compute_environment.node.path == environment.node.path:
        return parent.capacity
    if isinstance(environment, batch.FargateComputeEnvironment):
        return EnvironmentCapacity(
            platform="FARGATE",
            spot=bool(environment.spot),
            max_vcpus=_known(environment.maxv_cpus),
            shapes=FARGATE_SHAPES,
        )
    if isinstance(environment, batch.ManagedEc2EcsComputeEnvironment):
        names = [t.to_string() for t in environment.instance_types] + [
            family_of(c) for c in environment.instance_classes
        ]
        return EnvironmentCapacity(
            platform="EC2",
            spot=bool(environment.spot),
            max_vcpus=_known(environment.maxv_cpus),
            architectures=frozenset({architecture_of(n) for n in names}) if names else frozenset(),
            efa=None,
        )
    if isinstance(environment, batch.UnmanagedComputeEnvironment):
        return EnvironmentCapacity(platform="EC2", spot=False, managed=False, efa=None)
    return None


def family_of(instance_class: ec2.InstanceClass) -> str:
    """The family an ``ec2.InstanceClass`` stands for ("m7g"): the Python enum's value is its member name ("M7G")."""
    return ec2.InstanceType.of(instance_class, ec2.InstanceSize.LARGE).to_string().split(".", maxsplit=1)[0]


def _known(value: float | None) -> float | None:
    return value if value is not None and is_known(value) else None


#: A compute environment: one of the library's (its capacity is known) or any L2 environment.
Environment: TypeAlias = BatchEnvironment | batch.IComputeEnvironment
