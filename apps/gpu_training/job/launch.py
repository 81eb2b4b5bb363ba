"""Start ``torchrun`` on one node of an AWS Batch job: single-node GPU jobs and multi-node parallel (MNP) jobs.

AWS Batch tells each node of a multi-node parallel job where it stands through environment variables
(https://docs.aws.amazon.com/batch/latest/userguide/mnp-env-vars.html):

* ``AWS_BATCH_JOB_NUM_NODES``: how many nodes the job has;
* ``AWS_BATCH_JOB_NODE_INDEX``: this node's index, 0..N-1;
* ``AWS_BATCH_JOB_MAIN_NODE_INDEX``: the main node's index;
* ``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS``: the main node's private IP, set on the *other* nodes only.

From these this module builds torchrun's static rendezvous (``MASTER_ADDR``, ``MASTER_PORT``, ``NODE_RANK``,
``WORLD_SIZE``, processes per node = GPUs per node) and the libfabric/NCCL settings for EFA, checks them, and replaces
itself with ``torchrun``. A job without ``AWS_BATCH_JOB_NUM_NODES`` is a single-node job (``torchrun --standalone``).

Settings the job definition passes (all optional except where noted):

* ``GPUS_PER_NODE``: processes per node. Default: the GPUs ECS assigned (``NVIDIA_VISIBLE_DEVICES``).
* ``TRAINING_MASTER_PORT``: the rendezvous port on the main node. Default: 29500.
* ``TRAINING_EFA``: ``1`` to use the Elastic Fabric Adapter (``FI_PROVIDER=efa``; the EFA device must be mapped).
* ``TRAINING_INSTANCE_TYPE``: the nodes' instance type; GPUDirect RDMA (``FI_EFA_USE_DEVICE_RDMA=1``) is turned on
  for the types that support it.

Tuning values already in the environment win over the defaults set here, so a job submission can override them (for
example ``NCCL_DEBUG=WARN`` or ``FI_PROVIDER=tcp``); the rendezvous variables are always the computed ones, so they
match the torchrun command.

Usage (the container command): ``python -m job.launch [trainer arguments...]``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn

NUM_NODES: Final = "AWS_BATCH_JOB_NUM_NODES"
NODE_INDEX: Final = "AWS_BATCH_JOB_NODE_INDEX"
MAIN_NODE_INDEX: Final = "AWS_BATCH_JOB_MAIN_NODE_INDEX"
MAIN_NODE_ADDRESS: Final = "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"

GPUS_PER_NODE: Final = "GPUS_PER_NODE"
MASTER_PORT_SETTING: Final = "TRAINING_MASTER_PORT"
EFA_SETTING: Final = "TRAINING_EFA"
INSTANCE_TYPE_SETTING: Final = "TRAINING_INSTANCE_TYPE"

DEFAULT_MASTER_PORT: Final = 29500
#: The device AWS Batch maps into EFA containers (the job definition's ``linuxParameters.devices``).
EFA_DEVICE: Final = "/dev/infiniband/uverbs0"
#: Instance families whose EFA supports GPUDirect RDMA (NCCL then moves data GPU to GPU without host copies).
#: g4dn, g5 and g6 have EFA without GPUDirect RDMA: NCCL stages through host memory there.
RDMA_FAMILIES: Final = frozenset({"p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"})
#: The trainer torchrun starts on every GPU (a module of this package).
TRAINER_MODULE: Final = "job.train"
#: Below this much /dev/shm, NCCL between the processes of one node may fail (Docker's default is 64 MiB).
MIN_SHM_BYTES: Final = 1 << 30

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


class LaunchError(ValueError):
    """The node's environment cannot start a training run; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Rendezvous:
    """Where this node stands in the training run."""

    num_nodes: int
    node_rank: int
    nproc_per_node: int
    master_addr: str
    master_port: int
    #: A single-node job (no multi-node parallel variables): torchrun ``--standalone``.
    standalone: bool = False

    @property
    def world_size(self) -> int:
        """Processes in the whole run: one per GPU on every node."""
        return self.num_nodes * self.nproc_per_node


@dataclass(frozen=True)
class Launch:
    """What to execute: the argument vector and the complete environment."""

    command: list[str]
    environment: dict[str, str]
    rendezvous: Rendezvous
    warnings: tuple[str, ...] = ()


def _int(env: Mapping[str, str], name: str, *, low: int, high: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        raise LaunchError(f"{name} is not set. AWS Batch sets it on every node of a multi-node parallel job.")
    # ASCII digits only: int() also reads "1_0" as 10 and other scripts' digits ("٣" as 3)
    if not re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
        raise LaunchError(f"{name}={raw!r} is not an integer.")
    value = int(raw.strip())
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise LaunchError(f"{name}={value} is out of range (expected {limit}).")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise LaunchError(f"{name}={env[name]!r} is not a boolean (use 1 or 0).")


def primary_ipv4() -> str:
    """This container's private IPv4 address (the address of the interface the default route uses).

    Multi-node parallel jobs use the ``awsvpc`` network mode, so the container has its own network interface and
    address. Connecting a UDP socket sends no packet; it only makes the kernel choose the outgoing interface.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address: str = probe.getsockname()[0]
    return address


def gpus_per_node(env: Mapping[str, str]) -> int:
    """Processes to start on this node: ``GPUS_PER_NODE``, else the GPUs ECS assigned to the container.

    ECS passes the assigned GPUs in ``NVIDIA_VISIBLE_DEVICES`` (a comma-separated list of GPU ids). When both are set,
    the container must see at least ``GPUS_PER_NODE`` GPUs.
    """
    visible_raw = env.get("NVIDIA_VISIBLE_DEVICES", "").strip()
    visible: int | None = None
    if visible_raw and visible_raw.lower() not in ("all", "none", "void"):
        visible = len([d for d in visible_raw.split(",") if d.strip()])
    if env.get(GPUS_PER_NODE, "").strip():
        wanted = _int(env, GPUS_PER_NODE, low=1, high=64)
        if visible is not None and visible < wanted:
            raise LaunchError(
                f"{GPUS_PER_NODE}={wanted}, but the container sees {visible} GPU(s) (NVIDIA_VISIBLE_DEVICES="
                f"{visible_raw!r}). Fix: request {wanted} GPUs in the job definition (resourceRequirements GPU) or "
                f"lower {GPUS_PER_NODE}."
            )
        return wanted
    if visible:
        return visible
    raise LaunchError(
        f"cannot tell how many GPUs this node has: {GPUS_PER_NODE} is not set and NVIDIA_VISIBLE_DEVICES lists no "
        f"GPU ({visible_raw!r}). Fix: set {GPUS_PER_NODE} in the job definition, or give the job GPUs "
        "(resourceRequirements GPU) on an ECS_AL2023_NVIDIA compute environment."
    )


def read_rendezvous(env: Mapping[str, str], *, local_address: Callable[[], str] = primary_ipv4) -> Rendezvous:
    """The rendezvous of this node, from the variables AWS Batch sets (see the module docstring).

    torchrun's static rendezvous runs its store on node rank 0, so ranks are counted from the main node: with the
    main node at index M of N, node index I gets rank (I - M) mod N.
    """
    nproc = gpus_per_node(env)
    port = DEFAULT_MASTER_PORT
    if env.get(MASTER_PORT_SETTING, "").strip():
        port = _int(env, MASTER_PORT_SETTING, low=1024, high=65535)
    if NUM_NODES not in env:
        stray = sorted(n for n in (NODE_INDEX, MAIN_NODE_INDEX, MAIN_NODE_ADDRESS) if n in env)
        if stray:
            raise LaunchError(
                f"{', '.join(stray)} set without {NUM_NODES}: the environment is neither a single-node job nor a "
                "multi-node parallel job. Fix: run the job as an AWS Batch multi-node parallel job, or unset them."
            )
        return Rendezvous(1, 0, nproc, "127.0.0.1", port, standalone=True)

    num_nodes = _int(env, NUM_NODES, low=1, high=1000)
    index = _int(env, NODE_INDEX, low=0, high=num_nodes - 1)
    main = _int(env, MAIN_NODE_INDEX, low=0, high=num_nodes - 1)
    if index == main:
        try:
            address = local_address()
        except OSError as error:
            raise LaunchError(f"this is the main node, and its own IPv4 address cannot be found: {error}") from None
        if not _is_private_ipv4(address):
            raise LaunchError(
                f"this is the main node, and its own address {address!r} is not a private IPv4 address the other "
                "nodes could reach. Fix: run the job in a VPC subnet (multi-node parallel jobs use awsvpc networking)."
            )
    else:
        address = env.get(MAIN_NODE_ADDRESS, "").strip()
        if not address:
            raise LaunchError(
                f"{MAIN_NODE_ADDRESS} is not set on node {index} (main node {main}). AWS Batch sets it on every node "
                "except the main one; without it this node cannot find the rendezvous."
            )
        if not _is_private_ipv4(address):
            raise LaunchError(f"{MAIN_NODE_ADDRESS}={address!r} is not a private IPv4 address.")
    return Rendezvous(num_nodes, (index - main) % num_nodes, nproc, address, port)


def _is_private_ipv4(address: str) -> bool:
    """A VPC address: RFC 1918 or the 100.64.0.0/10 range VPCs may also use; not public, loopback or link-local."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not ip.is_global and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def efa_environment(env: Mapping[str, str], *, device_exists: Callable[[str], bool] | None = None) -> dict[str, str]:
    """libfabric settings for NCCL over EFA, or nothing when ``TRAINING_EFA`` is off.

    ``FI_PROVIDER=efa`` makes the aws-ofi-nccl plugin use EFA (and fail loudly instead of silently falling back to
    TCP sockets); ``FI_EFA_USE_DEVICE_RDMA=1`` turns on GPUDirect RDMA where the instance type has it.
    """
    if not _flag(env, EFA_SETTING):
        return {}
    if not (device_exists or os.path.exists)(EFA_DEVICE):
        raise LaunchError(
            f"{EFA_SETTING}=1 but {EFA_DEVICE} is not in the container. Fix: map the device in the job definition "
            "(MultiNodeJob efa=True does), and run on an EFA instance whose AMI loads the EFA driver."
        )
    settings = {"FI_PROVIDER": "efa"}
    family = env.get(INSTANCE_TYPE_SETTING, "").strip().split(".", maxsplit=1)[0]
    if family in RDMA_FAMILIES:
        settings["FI_EFA_USE_DEVICE_RDMA"] = "1"
    return settings


def torchrun_command(rdzv: Rendezvous, trainer_args: Sequence[str]) -> list[str]:
    """The torchrun argument vector: static rendezvous on the main node, or ``--standalone`` on a single node."""
    if rdzv.standalone:
        placement = ["--standalone", "--nnodes=1"]
    else:
        placement = [
            f"--nnodes={rdzv.num_nodes}",
            f"--node-rank={rdzv.node_rank}",
            f"--master-addr={rdzv.master_addr}",
            f"--master-port={rdzv.master_port}",
        ]
    return [
        "torchrun",
        *placement,
        f"--nproc-per-node={rdzv.nproc_per_node}",
        "--module",
        TRAINER_MODULE,
        *trainer_args,
    ]


def build_launch(
    env: Mapping[str, str],
    trainer_args: Sequence[str] = (),
    *,
    local_address: Callable[[], str] = primary_ipv4,
    device_exists: Callable[[str], bool] | None = None,
    shm_bytes: Callable[[], int | None] | None = None,
) -> Launch:
    """Everything ``main`` executes, computed from ``env`` without side effects (so it can be tested anywhere).

    ``local_address``, ``device_exists`` and ``shm_bytes`` look at the node (its IPv4 address, whether a device file
    exists, the size of /dev/shm); tests pass their own. Default: the real checks.
    """
    rdzv = read_rendezvous(env, local_address=local_address)
    # Tuning defaults yield to the environment; the rendezvous itself is computed, so it always matches the command.
    tuning = {"NCCL_DEBUG": "INFO", **efa_environment(env, device_exists=device_exists)}
    placement = {
        "MASTER_ADDR": rdzv.master_addr,
        "MASTER_PORT": str(rdzv.master_port),
        "NODE_RANK": str(rdzv.node_rank),
        "WORLD_SIZE": str(rdzv.world_size),
    }
    environment = {**tuning, **env, **placement}
    warnings: list[str] = []
    shm = (shm_bytes or _shm_bytes)()
    if rdzv.nproc_per_node > 1 and shm is not None and shm < MIN_SHM_BYTES:
        warnings.append(
            f"/dev/shm holds {shm >> 20} MiB; NCCL between the {rdzv.nproc_per_node} processes of this node may fail "
            "with 'unhandled system error'. Fix: give the container more shared memory (linuxParameters "
            "sharedMemorySize)."
        )
    return Launch(torchrun_command(rdzv, trainer_args), environment, rdzv, tuple(warnings))


def _shm_bytes() -> int | None:
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return None
    return stat.f_frsize * stat.f_blocks


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Build the launch from ``os.environ`` and replace this process with torchrun (exit 2 on a bad environment)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    try:
        launch = build_launch(os.environ, args)
    except LaunchError as error:
        print(f"launch: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    for warning in launch.warnings:
        print(f"launch: warning: {warning}", file=sys.stderr, flush=True)
    r = launch.rendezvous
    print(
        f"launch: node rank {r.node_rank} of {r.num_nodes}, {r.nproc_per_node} GPU process(es), world size "
        f"{r.world_size}, rendezvous {r.master_addr}:{r.master_port}; exec {' '.join(launch.command)}",
        flush=True,
    )
    os.execvpe(launch.command[0], launch.command, launch.environment)


if __name__ == "__main__":
    main()
