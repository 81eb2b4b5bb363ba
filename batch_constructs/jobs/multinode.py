"""Multi-node parallel jobs on managed On-Demand EC2 environments, optionally over EFA."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._internal import defaults as _defaults
from .._internal.memo import mebibytes_of
from .._internal.types_check import MapOf, SeqOf, check_types
from .._internal.validation import is_known, raise_if_any, warn
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..queue import KnownQueue
from ..types import Queue
from . import _settings
from .base import BatchJob
from .retry import RetryPolicy

__all__ = ["MultiNodeJob", "NodeGroup"]


@dataclass(frozen=True)
class NodeGroup:
    """A range of nodes of a multi-node job (inclusive) with its own container: command, environment, and optionally
    its own image, instance type and size (e.g. a small CPU main node and GPU workers).

    Every field left None takes the job's value. Each group is validated like a job: its vCPUs, memory and GPUs must
    fit its instance type and an environment behind the queue.
    """

    start_node: int
    end_node: int
    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None
    image: ecs.ContainerImage | str | None = None
    instance_type: ec2.InstanceType | None = None
    vcpus: float | None = None
    memory: Size | None = None
    gpus: int | None = None


#: The locked-memory limit EFA needs: libfabric pins (registers) every buffer the adapter reads or writes, so the
#: container's memlock ulimit must be unlimited (-1) (AWS Batch User Guide, "Run an MNP job with EFA").
EFA_MEMLOCK = batch.Ulimit(name=batch.UlimitName.MEMLOCK, soft_limit=-1, hard_limit=-1)


def efa_shared_memory(memory: Size) -> Size:
    """``/dev/shm`` of an EFA container: half its memory. NCCL and libfabric exchange data between the processes of a
    node through shared memory, and Docker's 64 MiB default stops them; the pages count against the container's own
    memory, so half leaves the rest to the processes."""
    return Size.mebibytes(int(mebibytes_of(memory)) // 2)


class MultiNodeJob(BatchJob):
    """A multi-node parallel job: ``nodes`` EC2 instances, node 0 (by default) the main node.

    With EFA (``efa=True``, or the queue's environment is an :class:`~batch_constructs.compute.EfaEnvironment`) every
    container gets what AWS's EFA guide requires, without the user writing it: the device ``/dev/infiniband/uverbs0``
    (read, write, mknod), memlock unlimited (ulimit -1) and a shared memory size of half the container's memory. Runs
    only on managed On-Demand EC2 environments.

    Attributes:
        job_definition: the L2 ``batch.MultiNodeJobDefinition`` (child ``Resource``).
    """

    EFA_DEVICE = "/dev/infiniband/uverbs0"
    #: What the EFA device needs, as the Batch API spells it.
    EFA_PERMISSIONS = ("READ", "WRITE", "MKNOD")

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ecs.ContainerImage | str,
        queue: Queue | None = None,
        nodes: int = 2,
        main_node: int = 0,
        instance_type: ec2.InstanceType | None = None,
        vcpus: float = _defaults.JOB_VCPUS,
        memory: Size = _defaults.JOB_MEMORY,
        gpus: int = 0,
        efa: bool | None = None,
        command: Sequence[str] | None = None,
        parameters: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, batch.Secret] | None = None,
        node_groups: Sequence[NodeGroup] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = _defaults.JOB_TIMEOUT,
        scheduling_priority: int | None = None,
        ulimits: Sequence[batch.Ulimit] = (),
        shared_memory_size: Size | None = None,
        tmpfs: Sequence[batch.Tmpfs] = (),
        init_process: bool = False,
        enable_execute_command: bool = False,
        consumable_resources: Mapping[batch.IConsumableResource | str, int] | None = None,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
        skip_deregister_on_update: bool = True,
    ) -> None:
        """Args:
        image / queue / command / parameters / environment / secrets / retry / timeout / scheduling_priority / roles /
            logs / name / propagate_tags: as for :class:`ContainerJob`.
        nodes: number of nodes (instances). Default: 2.
        main_node: index of the main node. Default: 0.
        instance_type: the one instance type of every node. Default: the queue's single-type environment's (e.g. an
            EfaEnvironment's); required otherwise.
        vcpus / memory / gpus: per node container. Default: 1 vCPU, 2 GiB, 0 GPUs.
        efa: map the EFA device into every container. Default: True when the queue's environment is an
            EfaEnvironment.
        node_groups: per-range containers (command, environment, image, instance type, vCPUs, memory, GPUs); must
            cover 0..nodes-1. Default: one group for all nodes. Groups with different instance types are written as
            each range's ``InstanceTypes`` (the job-level instance type is then left out).
        ulimits / shared_memory_size / tmpfs / init_process / enable_execute_command / consumable_resources /
            skip_deregister_on_update: as for :class:`ContainerJob`, applied to every node's container (multi-node
            jobs run on EC2, so all of them apply). They compose with what EFA implies: the EFA device comes first in
            every container's devices, memlock -1 is added unless ``ulimits`` sets memlock, and ``shared_memory_size``
            replaces EFA's half-the-memory default. Default: none / Docker's (EFA: half the memory) / none / False /
            False / none / True.
        """
        check_types(
            scope,
            construct_id,
            [
                ("image", image, (ecs.ContainerImage, str)),
                ("nodes", nodes, int),
                ("main_node", main_node, int),
                ("instance_type", instance_type, ec2.InstanceType),
                ("vcpus", vcpus, float),
                ("memory", memory, Size),
                ("gpus", gpus, int),
                ("efa", efa, bool),
                ("command", command, SeqOf(str)),
                ("parameters", parameters, MapOf(str, str)),
                ("environment", environment, MapOf(str, str)),
                ("secrets", secrets, MapOf(str, batch.Secret)),
                ("node_groups", node_groups, SeqOf(NodeGroup)),
                ("retry", retry, RetryPolicy),
                ("timeout", timeout, Duration),
                ("scheduling_priority", scheduling_priority, int),
                ("ulimits", ulimits, SeqOf(batch.Ulimit)),
                ("shared_memory_size", shared_memory_size, Size),
                ("tmpfs", tmpfs, SeqOf(batch.Tmpfs)),
                ("init_process", init_process, bool),
                ("enable_execute_command", enable_execute_command, bool),
                ("log_retention", log_retention, logs.RetentionDays),
                ("job_definition_name", job_definition_name, str),
                ("propagate_tags", propagate_tags, bool),
                ("skip_deregister_on_update", skip_deregister_on_update, bool),
            ],
        )
        super().__init__(
            scope,
            construct_id,
            queue=queue,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
        )
        retry_policy = retry or RetryPolicy.spot_aware()
        memory_mib = int(mebibytes_of(memory))
        p = self.problems
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, command, parameters)
        p += _settings.settings_problems(
            ulimits=ulimits,
            shared_memory_size=shared_memory_size,
            tmpfs=tmpfs,
            init_process=init_process,
            consumable_resources=consumable_resources or {},
            user_linux_parameters=None,
        )
        caps = queue.capacities() if isinstance(queue, KnownQueue) else []
        itype = instance_type
        if itype is None and node_groups and all(g.instance_type is not None for g in node_groups):
            itype = node_groups[0].instance_type
        if itype is None:
            single = next((c.single_instance_type for _, c in caps if c.single_instance_type), None)
            itype = ec2.InstanceType(single) if single else None
        if itype is None:
            p.append(
                registry.MULTINODE_ENVIRONMENT.fix(
                    "no instance_type, and the queue has no single-instance-type environment to take it from",
                    "pass instance_type=ec2.InstanceType('c5n.18xlarge') (one type for every node)",
                )
            )
        use_efa = efa if efa is not None else any(c.efa is True for _, c in caps)
        if use_efa and itype is not None:
            p += _rules.efa_instance_type(itype.to_string())
        p += _rules.multinode_environments(caps)
        if use_efa:
            p += _rules.efa_environments(caps)
        groups = list(node_groups) if node_groups else [NodeGroup(0, nodes - 1)]
        if is_known(nodes, main_node):
            p += _rules.multinode_ranges(nodes, [(g.start_node, g.end_node) for g in groups], main_node)
        self.requirements = []
        for group in groups:
            g_type = group.instance_type or itype
            g_vcpus = group.vcpus if group.vcpus is not None else vcpus
            g_memory_mib = int(mebibytes_of(group.memory)) if group.memory is not None else memory_mib
            g_gpus = group.gpus if group.gpus is not None else gpus
            if use_efa and group.instance_type is not None:
                p += _rules.efa_instance_type(group.instance_type.to_string())
            if is_known(g_vcpus, g_memory_mib, g_gpus):
                p += _rules.job_resources(g_vcpus, g_memory_mib, g_gpus, "EC2")
                units = _rules.vcpus_units_warning(g_vcpus)
                if units:
                    warn(self, registry.VCPUS_UNITS_WARNING, units)
            size = group.end_node - group.start_node + 1 if node_groups else nodes
            self.requirements.append(
                JobRequirements(
                    "EC2",
                    g_vcpus,
                    g_memory_mib,
                    g_gpus,
                    None,
                    g_type.to_string() if g_type else None,
                    multinode=True,
                    nodes=size if is_known(size) and size > 0 else 1,
                )
            )
        # Every node takes a whole instance: the job's instances, all groups together, must fit one environment.
        instance_vcpus = _rules.multinode_instance_vcpus(
            (r.nodes, r.instance_type, r.vcpus) for r in self.requirements if is_known(r.vcpus)
        )
        services = _settings.secret_services(self, (secrets or {}).values())
        self.requirements = [
            dataclasses.replace(r, instance_vcpus=instance_vcpus, secret_services=services) for r in self.requirements
        ]
        if not any("multinode-environment" in x for x in p):
            self._check_fit()
        raise_if_any(self, p)
        assert itype is not None

        containers = []
        efa_devices = (
            [
                batch.Device(
                    host_path=self.EFA_DEVICE,
                    container_path=self.EFA_DEVICE,
                    permissions=[
                        batch.DevicePermission.READ,
                        batch.DevicePermission.WRITE,
                        batch.DevicePermission.MKNOD,
                    ],
                )
            ]
            if use_efa
            else []
        )
        for index, group in enumerate(groups):
            g_memory = group.memory if group.memory is not None else memory
            shm = shared_memory_size
            if shm is None and use_efa:
                shm = efa_shared_memory(g_memory)
            linux = _settings.linux_parameters(
                self,
                f"LinuxParameters{index}",
                init_process=init_process,
                shared_memory_size=shm,
                tmpfs=tmpfs,
                implied_devices=efa_devices,
            )
            env = {**(environment or {}), **(group.environment or {})}
            group_command = group.command if group.command is not None else command
            g_gpus = group.gpus if group.gpus is not None else gpus
            containers.append(
                batch.MultiNodeContainer(
                    start_node=group.start_node,
                    end_node=group.end_node,
                    container=batch.EcsEc2ContainerDefinition(
                        self,
                        f"Container{index}",
                        image=self._image(group.image if group.image is not None else image),
                        cpu=group.vcpus if group.vcpus is not None else vcpus,
                        memory=g_memory,
                        gpu=g_gpus or None,
                        command=list(group_command) if group_command else None,
                        environment=env or None,
                        secrets=dict(secrets) if secrets else None,
                        job_role=self.job_role,
                        execution_role=self.execution_role,
                        logging=self._logging(),
                        linux_parameters=linux,
                        ulimits=_settings.merge_ulimits(ulimits, [EFA_MEMLOCK] if use_efa else []) or None,
                        enable_execute_command=enable_execute_command or None,
                    ),
                )
            )
        self.instance_type = itype
        self.job_definition: batch.MultiNodeJobDefinition = batch.MultiNodeJobDefinition(
            self,
            "Resource",
            containers=containers,
            instance_type=itype,
            main_node=main_node,
            parameters=dict(parameters) if parameters else None,
            retry_attempts=retry_policy.attempts,
            retry_strategies=retry_policy.l2_strategies(),
            timeout=timeout,
            scheduling_priority=scheduling_priority,
            job_definition_name=job_definition_name,
            propagate_tags=propagate_tags,
            skip_deregister_on_update=skip_deregister_on_update,
        )
        _settings.apply_consumable_resources(self.job_definition, consumable_resources or {})
        if enable_execute_command:
            _settings.acknowledge_execute_command(self.job_role)
        group_types = [(g.instance_type or itype).to_string() for g in groups]
        cfn_definition = self.job_definition.node.default_child
        assert isinstance(cfn_definition, batch.CfnJobDefinition)
        if any(g.instance_type is not None for g in groups) and len(set(group_types)) > 1:
            # Per-group instance types: each range's InstanceTypes (one element, botocore NodeRangeProperty); the
            # container-level InstanceType means "every group uses this type", so it is left out.
            for index, name in enumerate(group_types):
                prefix = f"NodeProperties.NodeRangeProperties.{index}"
                cfn_definition.add_property_override(f"{prefix}.InstanceTypes", [name])
                cfn_definition.add_property_deletion_override(
                    f"NodeProperties.NodeRangeProperties.{index}.Container.InstanceType"
                )
        if use_efa:
            # The L2 writes the permissions in lower case; the Batch API (DeviceCgroupPermission) and the AWS Batch EFA
            # guide spell them READ, WRITE, MKNOD.
            cfn = self.job_definition.node.default_child
            assert isinstance(cfn, batch.CfnJobDefinition)
            for index in range(len(groups)):
                cfn.add_property_override(
                    f"NodeProperties.NodeRangeProperties.{index}.Container.LinuxParameters.Devices.0.Permissions",
                    list(self.EFA_PERMISSIONS),
                )
