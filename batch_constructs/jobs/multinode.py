"""Multi-node parallel jobs on managed On-Demand EC2 environments, optionally over EFA."""

from __future__ import annotations

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
from .._internal.validation import is_known, raise_if_any, warn
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..queue import BatchQueue
from ..types import Queue
from .base import BatchJob
from .retry import RetryPolicy

__all__ = ["MultiNodeJob", "NodeGroup"]


@dataclass(frozen=True)
class NodeGroup:
    """A range of nodes of a multi-node job (inclusive) that runs its own command or environment."""

    start_node: int
    end_node: int
    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None


class MultiNodeJob(BatchJob):
    """A multi-node parallel job: ``nodes`` EC2 instances of one type, node 0 (by default) the main node.

    With ``efa=True`` every container gets ``/dev/infiniband/uverbs0`` (read, write, mknod), as EFA requires. Runs only
    on managed On-Demand EC2 environments (an :class:`~batch_constructs.compute.EfaEnvironment` for EFA).

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
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
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
        node_groups: per-range commands/environments; must cover 0..nodes-1. Default: one group for all nodes.
        """
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
        memory_mib = int(memory.to_mebibytes())
        p = self.problems
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, command, parameters)
        caps = queue.capacities() if isinstance(queue, BatchQueue) else []
        itype = instance_type
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
        if is_known(vcpus, memory_mib, gpus):
            p += _rules.job_resources(vcpus, memory_mib, gpus, "EC2")
            units = _rules.vcpus_units_warning(vcpus)
            if units:
                warn(self, registry.VCPUS_UNITS_WARNING, units)
        self.requirements = [
            JobRequirements(
                "EC2",
                vcpus,
                memory_mib,
                gpus,
                None,
                itype.to_string() if itype else None,
                multinode=True,
                nodes=nodes if is_known(nodes) else 1,
            )
        ]
        if not any("multinode-environment" in x for x in p):
            self._check_fit()
        raise_if_any(self, p)
        assert itype is not None

        containers = []
        for index, group in enumerate(groups):
            linux = None
            if use_efa:
                linux = batch.LinuxParameters(self, f"LinuxParameters{index}")
                linux.add_devices(
                    batch.Device(
                        host_path=self.EFA_DEVICE,
                        container_path=self.EFA_DEVICE,
                        permissions=[
                            batch.DevicePermission.READ,
                            batch.DevicePermission.WRITE,
                            batch.DevicePermission.MKNOD,
                        ],
                    )
                )
            env = {**(environment or {}), **(group.environment or {})}
            group_command = group.command if group.command is not None else command
            containers.append(
                batch.MultiNodeContainer(
                    start_node=group.start_node,
                    end_node=group.end_node,
                    container=batch.EcsEc2ContainerDefinition(
                        self,
                        f"Container{index}",
                        image=self._image(image),
                        cpu=vcpus,
                        memory=memory,
                        gpu=gpus or None,
                        command=list(group_command) if group_command else None,
                        environment=env or None,
                        secrets=dict(secrets) if secrets else None,
                        job_role=self.job_role,
                        execution_role=self.execution_role,
                        logging=self._logging(),
                        linux_parameters=linux,
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
