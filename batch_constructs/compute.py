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
from typing import Any, Literal, TypeAlias

from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces.aws_batch import IComputeEnvironmentRef
from constructs import Construct

from ._internal import defaults as _defaults
from ._internal.compliance import acknowledge_in_packs
from ._internal.limits import register_stack_checks
from ._internal.validation import is_known, raise_if_any, warn
from .model import registry
from .model import rules as _rules
from .model.capacity import FARGATE_SHAPES, EnvironmentCapacity, architecture_of, shapes_of
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
        register_stack_checks(self)

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
    ) -> tuple[ec2.IVpc, ec2.SubnetSelection | None, list[ec2.ISecurityGroup] | None, list[str]]:
        problems: list[str] = []
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
        )


class FargateSpotEnvironment(FargateEnvironment):
    """A ``FARGATE_SPOT`` environment: :class:`FargateEnvironment` with ``spot=True``.

    Put it first in a queue and a :class:`FargateEnvironment` second for On-Demand fallback.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, spot=True, **kwargs)


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
        images: machine images. Default: ECS_AL2023 (ECS_AL2023_NVIDIA for GPUs); AL2 is being retired.
        launch_template: a launch template; an ``ec2.LaunchTemplate``'s version is pinned to its latest version
            number so that template changes roll the environment (the L2 passes none, aws-cdk #28137).
        placement_group: Default: none.
        instance_role: Default: a new :class:`~batch_constructs.roles.InstanceRole`.
        spot_fleet_role: Default: a new :class:`~batch_constructs.roles.SpotFleetRole` when Spot uses BEST_FIT.
        compute_environment_name / service_role / enabled / container_insights: as for :class:`FargateEnvironment`.
        """
        super().__init__(scope, construct_id)
        vpc_, subnets, groups, problems = self._placement(self, network, vpc, vpc_subnets, security_groups)
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
        machine_images = list(images) if images is not None else [batch.EcsMachineImage(image_type=self._default_image)]
        self._image_checks(self, machine_images, type_names + class_names, problems)
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
            launch_template=launch_template,
            placement_group=placement_group,
            instance_role=self.instance_role,
            compute_environment_name=compute_environment_name,
            service_role=service_role,
            enabled=enabled,
        )
        if isinstance(launch_template, ec2.LaunchTemplate):
            self._pin_launch_template(env, launch_template.launch_template_id, launch_template.latest_version_number)
        self.compute_environment: batch.ManagedEc2EcsComputeEnvironment = env
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
        )

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

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, spot=True, **kwargs)


class GpuEnvironment(Ec2Environment):
    """NVIDIA GPU instances (g5, g6 by default) with the ECS_AL2023_NVIDIA image. On-Demand unless ``spot=True``."""

    _default_classes = GPU_CLASSES
    _default_image = batch.EcsMachineImageType.ECS_AL2023_NVIDIA
    _gpu_environment = True

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)


class EfaEnvironment(BatchEnvironment):
    """On-Demand EC2 for multi-node parallel jobs over the Elastic Fabric Adapter (EFA).

    Builds what EFA needs and the L2 cannot express: a cluster placement group; a security group allowing all traffic
    to and from itself (child ``EfaSecurityGroup``, attribute ``efa_security_group``); an L1 launch template whose
    primary interface is ``InterfaceType: efa`` in one subnet (child ``LaunchTemplate``), pinned to its latest version
    number so that changes roll the environment; and the environment restricted to that subnet.

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
    ) -> None:
        """Args:
        instance_type: one EFA-capable type. Default: c5n.18xlarge (72 vCPUs, 100 Gbps EFA; the type AWS's Batch EFA
            walkthrough uses).
        network / vpc / vpc_subnets: as for :class:`Ec2Environment`; the first selected subnet is used.
        max_vcpus: Default: 512 (seven c5n.18xlarge nodes).
        images / instance_role / compute_environment_name / enabled / container_insights: as for
            :class:`Ec2Environment`. Use an image
            with the EFA driver (the ECS AL2023 images need it installed, e.g. from user data or a custom AMI).
        """
        super().__init__(scope, construct_id)
        itype = instance_type or ec2.InstanceType("c5n.18xlarge")
        vpc_, subnets, _, problems = self._placement(self, network, vpc, vpc_subnets, None)
        problems += _rules.efa_instance_type(itype.to_string())
        self._common_warnings(self, compute_environment_name, None, problems)
        machine_images = (
            list(images)
            if images is not None
            else [batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)]
        )
        self._image_checks(self, machine_images, [itype.to_string()], problems)
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
        for rule in self.efa_security_group.node.children:
            if isinstance(rule, ec2.CfnSecurityGroupIngress):
                acknowledge_in_packs(
                    rule,
                    "EC2RestrictedCommonPorts",
                    "EFA requires all traffic to and from the security group itself; the source is this group "
                    "(the job's own nodes), never an address range.",
                )
        self.launch_template = ec2.CfnLaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                network_interfaces=[
                    ec2.CfnLaunchTemplate.NetworkInterfaceProperty(
                        device_index=0,
                        interface_type="efa",
                        groups=[self.efa_security_group.security_group_id],
                        subnet_id=subnet.subnet_id,
                        delete_on_termination=True,
                    )
                ],
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens="required"),
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
        Ec2Environment._pin_launch_template(
            env, self.launch_template.ref, self.launch_template.attr_latest_version_number
        )
        self.compute_environment: batch.ManagedEc2EcsComputeEnvironment = env
        self._set_container_insights(container_insights)
        self.capacity = EnvironmentCapacity(
            platform="EC2",
            spot=False,
            max_vcpus=max_vcpus if is_known(max_vcpus) else None,
            shapes=shapes_of([itype.to_string()], []),
            architectures=frozenset({architecture_of(itype.to_string())}),
            single_instance_type=itype.to_string(),
            efa=True,
            instance_types=frozenset({itype.to_string()}),
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
