"""Synth-time rules: small pure functions, each returning the problems it finds (an empty list when all is well).

Every message starts with ``[rule-id]``, states the value received and the limit, and ends with ``Fix: ...``; the
construct path is added by :func:`~batch_constructs._validation.raise_if_any`. ``RULES`` lists every rule id and
``WARNINGS`` every warning id (``batch-constructs:<id>``); ``docs/validation.md`` documents the same ids, and a test
keeps the three in step. Values that are CDK tokens (known only at deploy time) are skipped by the callers; string
tokens are also recognised here (:func:`is_token_text`), so a rule never rejects a value it cannot see.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from . import registry
from .capacity import (
    EFA_INTERFACES,
    EFA_TYPES,
    FARGATE_MEMORY,
    GPU_TYPES,
    EnvironmentCapacity,
    InstanceShape,
    architecture_of,
    efa_interfaces,
    efa_support,
    shape_of,
    shapes_of_family,
    smallest_fitting,
    usable_memory_mib,
)
from .registry import Rule

__all__ = [
    "ARRAY_SIZE",
    "COMPUTE_RESERVATION",
    "DEPENDENCIES_MAX",
    "EPHEMERAL_STORAGE_GIB",
    "NAME_MAX",
    "NODE_GROUPS_MAX",
    "QUEUE_ENVIRONMENTS_MAX",
    "QUEUE_PRIORITY",
    "RETRY_ATTEMPTS",
    "RETRY_CONDITIONS_MAX",
    "RETRY_PATTERN_MAX",
    "SCHEDULING_PRIORITY",
    "SHARES_MAX",
    "SHARE_DECAY_SECONDS",
    "SHARE_ID_MAX",
    "SHARE_WEIGHT",
    "TAGS_MAX",
    "TIMEOUT_MIN_SECONDS",
    "TIME_LIMIT_SECONDS",
    "JobRequirements",
    "fit_problem",
    "job_fits_queue",
]

NAME_MAX: Final = 128
TAGS_MAX: Final = 50
QUEUE_ENVIRONMENTS_MAX: Final = 3
QUEUE_PRIORITY: Final = (0, 1000)
SCHEDULING_PRIORITY: Final = (0, 9999)
TIME_LIMIT_SECONDS: Final = (600, 86400)
TIMEOUT_MIN_SECONDS: Final = 60
RETRY_ATTEMPTS: Final = (1, 10)
RETRY_CONDITIONS_MAX: Final = 5
RETRY_PATTERN_MAX: Final = 512
ARRAY_SIZE: Final = (2, 10_000)
DEPENDENCIES_MAX: Final = 20
EPHEMERAL_STORAGE_GIB: Final = (21, 200)
NODE_GROUPS_MAX: Final = 5
SHARES_MAX: Final = 500
SHARE_ID_MAX: Final = 255
#: FairsharePolicy.shareDecaySeconds (0: AWS's minimum window, 600 s) and computeReservation (botocore Batch model).
SHARE_DECAY_SECONDS: Final = (0, 604_800)
COMPUTE_RESERVATION: Final = (0, 99)
SHARE_WEIGHT: Final = (0.0001, 999.9999)
#: ECS CPU units per vCPU; a ``vcpus`` above the largest instance's 192 vCPUs is probably in these units.
CPU_UNITS_PER_VCPU: Final = 1024
VCPUS_WARNING: Final = 192

_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_EXIT_CODE_PATTERN: Final = re.compile(r"^[0-9]*\*?$")
_REASON_PATTERN: Final = re.compile(r"^[A-Za-z0-9.: \t]*\*?$")
_NVIDIA_IMAGES: Final = frozenset({"ECS_AL2_NVIDIA", "ECS_AL2023_NVIDIA"})


def fix(rule: Rule, problem: str, remedy: str) -> str:
    """Format one problem of ``rule``: ``[id] problem. Fix: remedy.``"""
    return rule.fix(problem, remedy)


def is_token_text(value: str) -> bool:
    """True for strings holding an unresolved CDK token (``${Token[...]}``): known only at deploy time."""
    return "${Token[" in value


def int_range(rule: Rule, what: str, value: float, low: float, high: float, remedy: str) -> list[str]:
    """``low <= value <= high``, or one problem naming the value and the range."""
    if low <= value <= high:
        return []
    return [fix(rule, f"{what}={value:g}; allowed {low:g}-{high:g}", remedy)]


# --------------------------------------------------------------------------------------------------------- names/tags


def name(kind: str, value: str | None, *, first_alphanumeric: bool = False) -> list[str]:
    """A Batch resource name: 1-128 letters, digits, '-' and '_' (job names must also start with one of A-Za-z0-9)."""
    if value is None or is_token_text(value):
        return []
    valid = bool(_NAME.match(value)) and (not first_alphanumeric or value[0].isalnum())
    if valid:
        return []
    suggestion = re.sub(r"[^A-Za-z0-9_-]", "-", value)
    if first_alphanumeric:
        suggestion = suggestion.lstrip("-_")
    suggestion = suggestion[:NAME_MAX] or "my-name"
    first = ", first a letter or digit" if first_alphanumeric else ""
    return [
        registry.NAME.fix(
            f"{kind}={value!r} ({len(value)} characters) is not a valid AWS Batch name (1-{NAME_MAX} letters, digits, "
            f"'-' and '_'{first})",
            f"use e.g. {suggestion!r}, or leave it unset so that CloudFormation names it (which also keeps the "
            "resource replaceable)",
        )
    ]


def job_name(value: str | None) -> list[str]:
    """The name of a submitted job (SubmitJob ``jobName``)."""
    return name("job_name", value, first_alphanumeric=True)


def tags(what: str, count: int) -> list[str]:
    if count <= TAGS_MAX:
        return []
    return [
        registry.TAGS.fix(
            f"{what} carries {count} tags; AWS allows at most {TAGS_MAX} per resource",
            "drop some tags (app-wide Tags.of(app).add(...) tags count too), or tag fewer scopes",
        )
    ]


# --------------------------------------------------------------------------------------------------------- resources


def fargate_resources(vcpus: float, memory_mib: int) -> list[str]:
    """Fargate accepts only its documented vCPU/memory combinations (API_ResourceRequirement)."""
    if vcpus not in FARGATE_MEMORY:
        nearest = min(FARGATE_MEMORY, key=lambda v: (abs(v - vcpus), -v))
        for_memory = [v for v, mems in FARGATE_MEMORY.items() if memory_mib in mems]
        hint = f"use vcpus={nearest:g}"
        if vcpus / CPU_UNITS_PER_VCPU in FARGATE_MEMORY:
            hint = f"vcpus counts vCPUs, not ECS CPU units: use vcpus={vcpus / CPU_UNITS_PER_VCPU:g}"
        elif for_memory:
            hint += f" (with memory={memory_mib} MiB, vcpus may be {_or(f'{v:g}' for v in for_memory)})"
        elif memory_mib not in FARGATE_MEMORY[nearest]:
            hint += f" with memory={_nearest_memory(nearest, memory_mib)} MiB"
        return [
            registry.FARGATE_RESOURCES.fix(
                f"vcpus={vcpus:g} is not a Fargate size (allowed: {', '.join(f'{v:g}' for v in FARGATE_MEMORY)})",
                hint + ", or run the job on EC2",
            )
        ]
    allowed = FARGATE_MEMORY[vcpus]
    if memory_mib in allowed:
        return []
    fitting = [v for v, mems in FARGATE_MEMORY.items() if memory_mib in mems]
    hint = f"use memory={_nearest_memory(vcpus, memory_mib)} MiB"
    if fitting:
        hint += f", or vcpus={_or(f'{v:g}' for v in fitting)} for {memory_mib} MiB"
    return [
        registry.FARGATE_RESOURCES.fix(
            f"memory={memory_mib} MiB with vcpus={vcpus:g} is not a Fargate combination (allowed with "
            f"{vcpus:g} vCPU: {_describe_memory(allowed)})",
            hint,
        )
    ]


def _nearest_memory(vcpus: float, memory_mib: int) -> int:
    # Prefer the larger value on a tie: rounding memory down risks an out-of-memory kill.
    return min(FARGATE_MEMORY[vcpus], key=lambda m: (abs(m - memory_mib), -m))


def _describe_memory(allowed: Sequence[int]) -> str:
    steps = {b - a for a, b in itertools.pairwise(allowed)}
    if len(allowed) > 3 and len(steps) == 1:
        return f"{allowed[0]}-{allowed[-1]} MiB in steps of {steps.pop()}"
    return ", ".join(str(m) for m in allowed) + " MiB"


def _or(items: Iterable[str]) -> str:
    values = list(items)
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def job_resources(vcpus: float, memory_mib: int, gpus: int, platform: str = "FARGATE") -> list[str]:
    problems = []
    if vcpus <= 0 or (platform == "EC2" and vcpus < 1):
        minimum = "1 on EC2" if platform == "EC2" else "0.25 on Fargate"
        problems.append(
            registry.JOB_RESOURCES.fix(f"vcpus={vcpus:g}; the minimum is {minimum}", f"ask for at least {minimum}")
        )
    if memory_mib < 4:
        problems.append(
            registry.JOB_RESOURCES.fix(f"memory={memory_mib} MiB; Batch needs at least 4 MiB", "ask for more")
        )
    if gpus < 0:
        problems.append(registry.JOB_RESOURCES.fix(f"gpus={gpus}; must be >= 0", "use 0 for CPU jobs"))
    return problems


def vcpus_units_warning(vcpus: float) -> str | None:
    """Warn when ``vcpus`` looks like ECS CPU units (1024 per vCPU) rather than vCPUs."""
    if vcpus <= VCPUS_WARNING:
        return None
    return (
        f"vcpus={vcpus:g} is more than the {VCPUS_WARNING} vCPUs of the largest common instances. vcpus counts vCPUs, "
        f"not ECS CPU units ({CPU_UNITS_PER_VCPU} units = 1 vCPU): did you mean vcpus={vcpus / CPU_UNITS_PER_VCPU:g}?"
    )


# --------------------------------------------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class JobRequirements:
    """What one job (or each node of a multi-node job) asks of an environment."""

    platform: str  # FARGATE or EC2
    vcpus: float
    memory_mib: int
    gpus: int = 0
    architecture: str | None = None  # X86_64/ARM64 on Fargate; None on EC2 (the image decides)
    instance_type: str | None = None  # multi-node jobs name one
    multinode: bool = False
    nodes: int = 1
    #: Multi-node: the vCPUs of all the job's instances, every node group's (None: ``vcpus`` x ``nodes``). Each node
    #: takes a whole instance (nodes are single-tenant: AWS Batch User Guide, "Multi-node parallel jobs"), so it is
    #: the instances' vCPUs, not the containers', that count against an environment's max vCPUs.
    instance_vcpus: float | None = None
    #: The services ECS fetches the job's secrets from before its container starts (``secretsmanager``, ``ssm``).
    secret_services: frozenset[str] = frozenset()

    def describe(self) -> str:
        text = f"{self.platform}, {self.vcpus:g} vCPUs, {self.memory_mib} MiB"
        if self.gpus:
            text += f", {self.gpus} GPUs"
        if self.multinode:
            text += f", {self.nodes} nodes" + (f" of {self.instance_type}" if self.instance_type else "")
        return text


def _fits(job: JobRequirements, shape: InstanceShape) -> bool:
    return job.vcpus <= shape.vcpus and job.memory_mib <= shape.memory_mib and job.gpus <= shape.gpus


def _shapes_for(job: JobRequirements, env: EnvironmentCapacity) -> tuple[InstanceShape, ...] | None:
    if job.instance_type is not None:
        own = shape_of(job.instance_type)
        return (own,) if own is not None else None
    return env.shapes


def fit_problem(job: JobRequirements, env: EnvironmentCapacity) -> tuple[str, str] | None:
    """Why ``job`` can never run on ``env`` and what would fix it, or None when it can (or the library cannot tell)."""
    if job.platform != env.platform:
        return (
            f"{_a(env.kind)} environment cannot run {_a(job.platform)} job",
            f"submit it to a queue of {job.platform} environments, or make it {_a(env.platform)} job "
            f"(platform={env.platform!r})",
        )
    if job.multinode and (env.platform != "EC2" or env.spot or not env.managed):
        kind = env.kind if env.managed else "unmanaged"
        return (
            f"a {kind} environment cannot run multi-node jobs (managed On-Demand EC2 only)",
            "submit it to a queue of Ec2Environment or EfaEnvironment (spot=False)",
        )
    if job.architecture and env.architectures and job.architecture not in env.architectures:
        return (
            f"it launches {'/'.join(sorted(env.architectures))} instances and the job is {job.architecture}",
            "build the image for the environment's architecture, or use an environment of the job's",
        )
    if job.instance_type is not None and env.launches(job.instance_type) is False:
        return (
            f"it never launches {job.instance_type}, the job's instance type",
            f"add {job.instance_type} to its instance types, or set instance_type to one it launches",
        )
    shapes = _shapes_for(job, env)
    if shapes and env.platform == "FARGATE" and not any(_fits(job, s) for s in shapes):
        return (
            "Fargate offers at most 32 vCPUs and 249856 MiB (244 GiB), and no GPUs",
            "make the job smaller, or submit it to an EC2 queue (a GpuEnvironment for GPUs)",
        )
    if shapes and not any(_fits(job, s) for s in shapes):
        biggest = max(shapes, key=lambda s: (s.gpus, s.vcpus, s.memory_mib))
        return (
            f"no instance it launches has {job.vcpus:g} vCPUs, {job.memory_mib} MiB"
            + (f" and {job.gpus} GPUs" if job.gpus else "")
            + f" (largest: {biggest.name}: {biggest.vcpus:g} vCPUs, {biggest.memory_mib} MiB, {biggest.gpus} GPUs)",
            _bigger_remedy(job, env, shapes),
        )
    if job.multinode and job.instance_vcpus is not None:
        needed = job.instance_vcpus
        what = f"{needed:g} vCPUs of instances (one instance per node: multi-node nodes are single-tenant)"
    else:
        needed = job.vcpus * job.nodes
        what = f"{job.nodes} nodes x {job.vcpus:g} vCPUs" if job.multinode else f"{job.vcpus:g} vCPUs"
    if env.max_vcpus is not None and needed > env.max_vcpus:
        return (
            f"max_vcpus={env.max_vcpus:g} is less than the job's {what}",
            f"raise the environment's max_vcpus to at least {needed:g}"
            + (", or run fewer or smaller nodes" if job.multinode else ""),
        )
    return None


def multinode_instance_vcpus(groups: Iterable[tuple[int, str | None, float]]) -> float:
    """The vCPUs of all the instances of a multi-node job, from its node groups as ``(nodes, instance type, vCPUs the
    container asks)``: each node takes a whole instance of its type; for a type the library does not know, the
    container's vCPUs (a lower bound) count instead."""
    total = 0.0
    for nodes, instance_type, vcpus in groups:
        shape = shape_of(instance_type) if instance_type else None
        total += nodes * (shape.vcpus if shape is not None else vcpus)
    return total


def _a(word: str) -> str:
    return ("an " if word.startswith(("EC2", "EFA", "ARM")) else "a ") + word


def _bigger_remedy(job: JobRequirements, env: EnvironmentCapacity, shapes: Sequence[InstanceShape]) -> str:
    most_vcpus = max(s.vcpus for s in shapes if job.gpus <= s.gpus) if any(job.gpus <= s.gpus for s in shapes) else 0
    families = sorted({s.name.split(".", maxsplit=1)[0] for s in shapes} | env.instance_families)
    if job.gpus:
        families = [f for f in families if f in GPU_TYPES] or sorted(GPU_TYPES)
    suggestions = [s.name for f in families if (s := smallest_fitting(f, job.vcpus, job.memory_mib, job.gpus))]
    larger = f"add an instance type that holds it (e.g. {', '.join(suggestions[:3])})" if suggestions else None
    if job.instance_type is not None:
        smaller = f"ask for at most what one {job.instance_type} has"
    elif most_vcpus:
        smaller = "make the job smaller"
    else:
        smaller = "submit it to a GpuEnvironment queue, or ask for no GPUs"
    return f"{smaller}, or {larger}" if larger else f"{smaller}, or add larger instance types"


def job_fits_queue(job: JobRequirements, queue_path: str, envs: Sequence[tuple[str, EnvironmentCapacity]]) -> list[str]:
    """A job must fit at least one environment behind the queue, or it stays RUNNABLE for ever."""
    if not envs:
        return []
    reasons: list[str] = []
    remedies: list[str] = []
    for env_path, env in envs:
        found = fit_problem(job, env)
        if found is None:
            return []
        reasons.append(f"{env_path}: {found[0]}")
        if found[1] not in remedies:
            remedies.append(found[1])
    return [
        registry.JOB_FITS_QUEUE.fix(
            f"the job ({job.describe()}) fits no compute environment of queue {queue_path}, so it would stay "
            "RUNNABLE for ever (MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT): " + "; ".join(reasons),
            "; or ".join(remedies),
        )
    ]


#: Per interface endpoint a job's secrets may need: what it serves, and its ``InterfaceVpcEndpointAwsService`` name.
SECRET_ENDPOINTS: Final = {
    "secretsmanager": ("Secrets Manager secrets", "SECRETS_MANAGER"),
    "ssm": ("SSM parameters", "SSM"),
}


def secret_endpoints(
    jobs: Sequence[JobRequirements], queue_path: str, envs: Sequence[tuple[str, EnvironmentCapacity]]
) -> list[str]:
    """A job reading secrets needs their service's interface endpoint wherever it can run in subnets without a NAT.

    ECS fetches secrets before it starts the container; in isolated subnets only interface endpoints reach AWS APIs,
    so without ``secretsmanager`` (or ``ssm``) the job fails to start (``ResourceInitializationError``). Amazon ECS
    Developer Guide, "Pass Secrets Manager secrets programmatically" and "Amazon ECS interface VPC endpoints".

    ``jobs``: the job's requirements (one per node group of a multi-node job), which share its secrets. Environments
    none of them fits, or whose subnets have a NAT or are not known, are skipped; each other one is named once.
    """
    services = frozenset().union(*(job.secret_services for job in jobs))
    problems: list[str] = []
    for env_path, env in envs:
        if env.isolated_endpoints is None or all(fit_problem(job, env) is not None for job in jobs):
            continue
        missing = sorted(services - env.isolated_endpoints)
        if missing:
            problems.append(
                registry.NETWORK_EGRESS.fix(
                    f"the job reads {' and '.join(SECRET_ENDPOINTS[m][0] for m in missing)} before it starts, but "
                    f"{env_path} (queue {queue_path}) runs in subnets without a NAT and without the "
                    f"{' and '.join(missing)} interface endpoint{'s' if len(missing) > 1 else ''}: ECS cannot fetch "
                    "them, so the job fails to start (ResourceInitializationError)",
                    f"add InterfaceVpcEndpointAwsService.{' and .'.join(SECRET_ENDPOINTS[m][1] for m in missing)} to "
                    "the network's interface_endpoints (BATCH_INTERFACE_ENDPOINTS has SECRETS_MANAGER), or give the "
                    "network a NAT gateway",
                )
            )
    return problems


def job_placement(
    jobs: Sequence[JobRequirements], queue_path: str, envs: Sequence[tuple[str, EnvironmentCapacity]]
) -> list[str]:
    """Why a job (its requirements, one per node group) can never run on the queue whose environments are ``envs``:
    :func:`job_fits_queue` for each requirement, then :func:`secret_endpoints`. What a job checks against its own
    queue and a trigger against the queue it submits to."""
    problems = [p for job in jobs for p in job_fits_queue(job, queue_path, envs)]
    return problems + secret_endpoints(jobs, queue_path, envs)


def memory_headroom(job: JobRequirements, envs: Sequence[tuple[str, EnvironmentCapacity]]) -> str | None:
    """Warn when the job fits only instances whose nominal memory it nearly fills (ECS registers less than that).

    Errors are for memory above nominal (:func:`fit_problem`); this warning is for the band between the library's
    usable-memory estimate (95% of nominal) and nominal. Fargate sizes are exact and never warned about.
    """
    candidates: list[InstanceShape] = []
    for _, env in envs:
        if env.platform != "EC2" or fit_problem(job, env) is not None:
            continue
        shapes = _shapes_for(job, env)
        if shapes is None:
            return None  # an unknown instance may have room to spare
        fitting = [s for s in shapes if _fits(job, s)]
        if any(job.memory_mib <= usable_memory_mib(s) for s in fitting):
            return None
        candidates.extend(fitting)
    if not candidates:
        return None
    roomiest = max(candidates, key=lambda s: s.memory_mib)
    usable = usable_memory_mib(roomiest)
    family = roomiest.name.split(".", maxsplit=1)[0]
    bigger = smallest_fitting(family, job.vcpus, job.memory_mib, job.gpus)
    return (
        f"memory={job.memory_mib} MiB leaves no headroom: the roomiest instance that could hold the job, "
        f"{roomiest.name}, has {roomiest.memory_mib} MiB nominal, and ECS registers less (an m4.large's 8192 MiB "
        "shows as 7985, less 32 MiB for the agent), so the job may stay RUNNABLE. Fix: ask for at most about "
        f"{usable} MiB" + (f", or allow {bigger.name}" if bigger else ", or allow a larger instance type")
    )


# ----------------------------------------------------------------------------------------------------------- queues


def queue_environments(
    envs: Sequence[tuple[str, EnvironmentCapacity]], *, allow_empty: bool = False, count: int | None = None
) -> list[str]:
    """1-3 environments (0 while more may be added), all Fargate or all EC2, one CPU architecture.

    ``envs`` are the environments whose capacity is known (the platform and architecture checks need it); ``count``
    is how many the queue has in all, imported ones included (default: ``len(envs)``): AWS counts every one.
    """
    problems = []
    total = len(envs) if count is None else count
    if total > QUEUE_ENVIRONMENTS_MAX or (not total and not allow_empty):
        problems.append(
            registry.QUEUE_ENVIRONMENTS.fix(
                f"{total} compute environments; a queue takes 1-{QUEUE_ENVIRONMENTS_MAX}",
                "split the environments over several queues" if total else "pass at least one environment",
            )
        )
    platforms = {env.platform for _, env in envs}
    if len(platforms) > 1:
        problems.append(
            registry.QUEUE_MIXED_PLATFORM.fix(
                "the queue mixes Fargate and EC2 environments ("
                + ", ".join(f"{path}: {env.kind}" for path, env in envs)
                + "), which AWS rejects",
                "use one queue for the Fargate environments and another for the EC2 ones",
            )
        )
    archs = {a for _, env in envs for a in env.architectures}
    if len(archs) > 1:
        problems.append(
            registry.QUEUE_MIXED_ARCHITECTURE.fix(
                "the queue's environments launch "
                + ", ".join(f"{path}: {'/'.join(sorted(env.architectures))}" for path, env in envs if env.architectures)
                + "; a queue runs one CPU architecture",
                "put x86_64 and ARM64 (Graviton) environments behind separate queues",
            )
        )
    return problems


def queue_order(entries: Sequence[tuple[str, float]]) -> list[str]:
    """``entries`` are (environment path, order): orders are distinct and each environment appears once."""
    problems = []
    for order, count in Counter(o for _, o in entries).items():
        if count > 1:
            paths = [p for p, o in entries if o == order]
            problems.append(
                registry.QUEUE_ORDER.fix(
                    f"order {order:g} is given to {count} environments ({', '.join(paths)})",
                    "give each environment its own order (BatchQueue numbers them 1, 2, 3 in the order given)",
                )
            )
    for path, count in Counter(p for p, _ in entries).items():
        if count > 1:
            problems.append(
                registry.QUEUE_ORDER.fix(
                    f"environment {path} is attached {count} times", "attach each environment once"
                )
            )
    return problems


def queue_priority(priority: float) -> list[str]:
    return int_range(registry.QUEUE_PRIORITY, "priority", priority, *QUEUE_PRIORITY, "use 0-1000 (higher runs first)")


def queue_time_limit(what: str, seconds: float) -> list[str]:
    return int_range(
        registry.QUEUE_TIME_LIMIT,
        f"{what} time limit (s)",
        seconds,
        *TIME_LIMIT_SECONDS,
        "use Duration.minutes(10) to Duration.hours(24), or None to keep such jobs",
    )


def fair_share_shares(shares: Mapping[str, float]) -> list[str]:
    """A fair-share policy's identifiers and weights (API_ShareAttributes)."""
    problems = []
    if len(shares) > SHARES_MAX:
        problems.append(
            registry.FAIR_SHARE_SHARES.fix(
                f"{len(shares)} share identifiers; at most {SHARES_MAX}", "use prefixes (a*)"
            )
        )
    for share, weight in shares.items():
        if is_token_text(share):
            continue
        stem = share[:-1] if share.endswith("*") else share
        if not stem or len(stem) > SHARE_ID_MAX or "*" in stem:
            problems.append(
                registry.FAIR_SHARE_SHARES.fix(
                    f"share identifier {share!r}: 1-{SHARE_ID_MAX} characters, '*' only at the end",
                    "use e.g. 'teamA' or the prefix 'team*'",
                )
            )
        if isinstance(weight, int | float) and not SHARE_WEIGHT[0] <= weight <= SHARE_WEIGHT[1]:
            problems.append(
                registry.FAIR_SHARE_SHARES.fix(
                    f"weight {weight:g} for share {share!r}; allowed {SHARE_WEIGHT[0]}-{SHARE_WEIGHT[1]}",
                    "use a positive weight (lower weights get more capacity; 1 is the default)",
                )
            )
    prefixes = [s[:-1] for s in shares if s.endswith("*") and not is_token_text(s)]
    for prefix in prefixes:
        overlapping = sorted(s for s in shares if s != prefix + "*" and s.startswith(prefix))
        if overlapping:
            problems.append(
                registry.FAIR_SHARE_SHARES.fix(
                    f"share prefix {prefix + '*'!r} overlaps {', '.join(map(repr, overlapping))}",
                    "share identifiers in one policy must not overlap: drop one, or use a longer prefix",
                )
            )
    return problems


def fair_share_policy(share_decay_seconds: float | None, compute_reservation: float | None) -> list[str]:
    """A fair-share policy's share decay and compute reservation (API_FairsharePolicy); None: not given."""
    problems = []
    if share_decay_seconds is not None:
        problems += int_range(
            registry.FAIR_SHARE_POLICY,
            "share_decay (s)",
            share_decay_seconds,
            *SHARE_DECAY_SECONDS,
            "use Duration.seconds(0) (AWS's minimum window, 600 s) to Duration.days(7)",
        )
    if compute_reservation is not None:
        problems += int_range(
            registry.FAIR_SHARE_POLICY,
            "compute_reservation",
            compute_reservation,
            *COMPUTE_RESERVATION,
            "use 0 (nothing reserved) to 99 (percent of max vCPUs held back for idle shares)",
        )
    return problems


def share_identifier(queue_path: str, fair_share: bool, value: str | None) -> list[str]:
    """SubmitJob's shareIdentifier: required on a fair-share queue, refused on any other."""
    if value is not None and is_token_text(value):
        return []
    if fair_share and value is None:
        return [
            registry.SHARE_IDENTIFIER.fix(
                f"queue {queue_path} schedules by fair share and the submission passes no share_identifier; "
                "SubmitJob fails",
                "pass share_identifier= (one of the queue's fair_share identifiers; another id gets the default "
                "weight, and the share-unlisted warning to acknowledge)",
            )
        ]
    if not fair_share and value is not None:
        return [
            registry.SHARE_IDENTIFIER.fix(
                f"share_identifier={value!r} on queue {queue_path}, which has no scheduling policy; SubmitJob fails",
                "drop share_identifier, or give the queue fair_share={...}",
            )
        ]
    if value is not None:
        stem = value[:-1] if value.endswith("*") else value
        if not stem or len(stem) > SHARE_ID_MAX or "*" in stem:
            return [
                registry.SHARE_IDENTIFIER.fix(
                    f"share_identifier={value!r}: 1-{SHARE_ID_MAX} characters, '*' only at the end",
                    "use e.g. 'teamA'",
                )
            ]
    return []


def share_matches(listed: str, value: str) -> bool:
    """True when the policy entry ``listed`` names ``value``: the same text, or ``listed`` ends in ``*`` and ``value``
    starts with what precedes it (API_ShareAttributes shareIdentifier)."""
    if listed.endswith("*"):
        return value.startswith(listed[:-1])
    return value == listed


def _share_key(text: str) -> str:
    """``text`` as a person would misremember it: case and separators ignored (``team-B`` for ``teamB``)."""
    return "".join(char for char in text.lower() if char.isalnum())


def unlisted_share(queue_path: str, listed: Sequence[str], value: str | None) -> str | None:
    """The ``share-unlisted`` warning: ``value`` (a submission's share identifier) matches no entry of ``listed`` (the
    queue's fair-share identifiers; empty: not known, nothing to say).

    AWS accepts any identifier on a fair-share queue and gives one that no entry names the default weight 1.0
    (API_ShareAttributes), so a typo silently takes the default share. Case matters to Batch as to any string; an
    entry equal but for case and separators, or else a close spelling, is offered as the likely intent.
    """
    if value is None or not listed or is_token_text(value) or any(is_token_text(entry) for entry in listed):
        return None
    if any(share_matches(entry, value) for entry in listed):
        return None
    shown = ", ".join(repr(entry) for entry in sorted(listed)[:10]) + (" ..." if len(listed) > 10 else "")
    key = _share_key(value)
    # a prefix entry ("ml*") names what an identifier starts with: "ML-research" is likely meant to be "ml-research"
    folded = [
        entry
        for entry in sorted(listed)
        if _share_key(entry) == key or (entry.endswith("*") and key.startswith(_share_key(entry)))
    ]
    if not folded:
        import difflib  # here, not at the top: only an unlisted identifier pays for it

        keys = {_share_key(entry): entry for entry in sorted(listed, reverse=True)}
        close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.75)
        folded = [keys[match] for match in close]
    likely = folded[0] if folded else None
    if likely is None:
        hint = ""
    elif likely.endswith("*"):
        hint = f"did you mean an identifier starting with {likely[:-1]!r} (the policy's {likely!r})? "
    else:
        hint = f"did you mean {likely!r}? "
    return (
        f"share_identifier={value!r} matches none of the fair-share identifiers of queue {queue_path} ({shown}); AWS "
        f"Batch accepts it and schedules it with the default weight 1.0. Fix: {hint}use one of them, or add it to the "
        f"queue's fair_share; if the default weight is intended, acknowledge the warning"
    )


def fair_share_priority(
    queue_path: str,
    fair_share: bool,
    scheduling_priority: float | None,
    *,
    submission: str | None = None,
    override: float | None = None,
) -> list[str]:
    """A fair-share queue needs a scheduling priority on the job definition, or at submit.

    ``submission`` (e.g. ``"the state machine: job Stack/Job"``): the rule for a submitter of the job to ``queue_path``,
    which may instead pass ``override`` (``schedulingPriorityOverride``); without it, the rule for the job's own queue.
    """
    if not fair_share or scheduling_priority is not None or override is not None:
        return []
    if submission is not None:
        return [
            registry.FAIR_SHARE_PRIORITY.fix(
                f"{submission} has no scheduling_priority and the submission passes no scheduling_priority_override, "
                f"on fair-share queue {queue_path}; SubmitJob fails",
                "set scheduling_priority on the job, or pass scheduling_priority_override= here (0-9999)",
            )
        ]
    return [
        registry.FAIR_SHARE_PRIORITY.fix(
            f"queue {queue_path} uses fair share and the job has no scheduling_priority",
            "set scheduling_priority (0-9999; higher runs first within a share)",
        )
    ]


def scheduling_priority(value: float) -> list[str]:
    return int_range(
        registry.SCHEDULING_PRIORITY,
        "scheduling_priority",
        value,
        *SCHEDULING_PRIORITY,
        "use 0-9999 (higher runs first)",
    )


# -------------------------------------------------------------------------------------------------- retries, limits


def retry(attempts: int | None, conditions: Sequence[tuple[str, Mapping[str, str]]]) -> list[str]:
    """``conditions`` are (action, {on_exit_code|on_reason|on_status_reason: pattern}) in evaluation order.

    ``attempts`` is None when it is a token (then only the conditions are checked).
    """
    problems = []
    if attempts is not None:
        problems += int_range(
            registry.RETRY_ATTEMPTS, "retry_attempts", attempts, *RETRY_ATTEMPTS, "use 1 (no retry) to 10"
        )
    if not conditions:
        return problems
    if len(conditions) > RETRY_CONDITIONS_MAX:
        problems.append(
            registry.RETRY_CONDITIONS.fix(
                f"{len(conditions)} retry conditions; AWS takes at most {RETRY_CONDITIONS_MAX}",
                "merge patterns (a trailing '*' matches a prefix)",
            )
        )
    if attempts is not None and attempts < 2:
        problems.append(
            registry.RETRY_CONDITIONS.fix(
                f"retry conditions with retry_attempts={attempts}: conditions only act when attempts > 1",
                "set retry_attempts to 2-10, or drop the conditions",
            )
        )
    catch_all_at: int | None = None
    for index, (action, on) in enumerate(conditions):
        if action.upper() not in ("RETRY", "EXIT"):
            problems.append(
                registry.RETRY_CONDITIONS.fix(f"condition {index} has action={action!r}", "use 'RETRY' or 'EXIT'")
            )
        if not on:
            problems.append(
                registry.RETRY_CONDITIONS.fix(
                    f"condition {index} ({action}) matches on nothing",
                    "give it on_exit_code, on_reason or on_status_reason ('*' matches anything)",
                )
            )
        for key, pattern in on.items():
            problems += retry_pattern(index, key, pattern)
        if catch_all_at is None and action.upper() == "EXIT" and on and all(v == "*" for v in on.values()):
            catch_all_at = index
    last = len(conditions) - 1
    if catch_all_at is None:
        problems.append(
            registry.RETRY_CATCH_ALL.fix(
                "the last retry condition is not a catch-all EXIT, so a failure that matches no condition is "
                "retried (AWS's default): application bugs are retried like Spot interruptions",
                "end with RetryCondition.exit_on_anything() (EXIT on reason '*')",
            )
        )
    elif catch_all_at != last:
        problems.append(
            registry.RETRY_CATCH_ALL.fix(
                f"condition {catch_all_at} is a catch-all EXIT, so conditions {catch_all_at + 1}-{last} never match",
                "move the catch-all EXIT to the end",
            )
        )
    return problems


def retry_pattern(index: int, key: str, pattern: str) -> list[str]:
    """One evaluateOnExit glob (API_EvaluateOnExit)."""
    if is_token_text(pattern):
        return []
    what = f"condition {index} {key}={pattern!r}"
    if not pattern or len(pattern) > RETRY_PATTERN_MAX:
        return [
            registry.RETRY_PATTERN.fix(
                f"{what}: {len(pattern)} characters; allowed 1-{RETRY_PATTERN_MAX}",
                "shorten it and end with '*' to match a prefix",
            )
        ]
    if key == "on_exit_code":
        if not _EXIT_CODE_PATTERN.match(pattern):
            return [
                registry.RETRY_PATTERN.fix(
                    f"{what}: exit-code patterns are digits with an optional trailing '*'",
                    "use e.g. '137' or '1*' (one condition per code)",
                )
            ]
        return []
    if not _REASON_PATTERN.match(pattern):
        globbed = pattern.replace(".*", "*").lstrip("*")
        prefix = re.sub(r"[^A-Za-z0-9.: \t]", "*", globbed).split("*", maxsplit=1)[0]
        return [
            registry.RETRY_PATTERN.fix(
                f"{what}: reason patterns may hold only letters, digits, spaces, '.' and ':', and '*' only at the end "
                "(a glob matched from the start of the reason, not a regular expression)",
                f"match a prefix, e.g. {(prefix or 'Reason') + '*'!r}",
            )
        ]
    return []


def timeout(seconds: float) -> list[str]:
    if seconds >= TIMEOUT_MIN_SECONDS:
        return []
    return [
        registry.TIMEOUT.fix(
            f"timeout={seconds:g} s; AWS Batch's minimum is {TIMEOUT_MIN_SECONDS} s",
            "use Duration.minutes(1) or more",
        )
    ]


#: EventBridge Scheduler's flexible time window in minutes (Scheduler API, FlexibleTimeWindow.MaximumWindowInMinutes).
FLEXIBLE_WINDOW_MINUTES: Final = (1, 1440)


def time_zone(value: str) -> list[str]:
    """``schedule-time-zone``: an IANA time zone name EventBridge Scheduler accepts (``Europe/Paris``, ``UTC``).

    Checked against the zone database Python sees (``zoneinfo.available_timezones()``); skipped when it sees none
    (no tz database installed), since then nothing can be checked.
    """
    if is_token_text(value):
        return []
    import zoneinfo  # here, not at the top: only schedules with a time zone pay for loading it

    known = zoneinfo.available_timezones()
    if not known or value in known:
        return []
    close = sorted(z for z in known if z.lower() == value.lower() or z.lower().endswith("/" + value.lower()))
    hint = f"did you mean {close[0]!r}? " if close else ""
    return [
        registry.SCHEDULE_TIME_ZONE.fix(
            f"time_zone={value!r} is not an IANA time zone name",
            f"{hint}use a name like 'Europe/Paris', 'America/New_York' or 'UTC'",
        )
    ]


def flexible_window(minutes: float) -> list[str]:
    """``schedule-flexible-window``: EventBridge Scheduler's flexible window is 1-1440 minutes."""
    return int_range(
        registry.SCHEDULE_FLEXIBLE_WINDOW,
        "flexible_window (minutes)",
        minutes,
        *FLEXIBLE_WINDOW_MINUTES,
        "use Duration.minutes(1) to Duration.hours(24), or leave it unset to run at the exact time",
    )


def array_size(size: int, what: str = "array_size") -> list[str]:
    """SubmitJob arrayProperties.size (2-10000; 1 is not an array); ``what`` names the value in the message."""
    return int_range(
        registry.ARRAY_SIZE,
        what,
        size,
        *ARRAY_SIZE,
        "use 2-10000 children, or None for a single job (split larger work over several array jobs)",
    )


def dependencies(count: int) -> list[str]:
    """SubmitJob dependsOn: at most 20 job ids."""
    if count <= DEPENDENCIES_MAX:
        return []
    return [
        registry.DEPENDENCIES.fix(
            f"{count} job dependencies; AWS Batch allows at most {DEPENDENCIES_MAX} per job",
            "chain the jobs in a BatchPipeline, or depend on one array job instead of its children",
        )
    ]


def ephemeral_storage(gib: float) -> list[str]:
    return int_range(
        registry.EPHEMERAL_STORAGE,
        "ephemeral_storage (GiB)",
        gib,
        *EPHEMERAL_STORAGE_GIB,
        "use 21-200 GiB, or leave it unset",
    )


# ------------------------------------------------------------------------------------------------ multi-node and EFA


def multinode_ranges(nodes: int, ranges: Sequence[tuple[int, int]], main_node: int) -> list[str]:
    """``ranges`` are inclusive (start, end) node indexes; nested ranges are allowed (the inner one wins)."""
    if nodes < 1:
        return [registry.MULTINODE_NODES.fix(f"nodes={nodes}", "use at least 1 node (usually 2 or more)")]
    problems = []
    if len(ranges) > NODE_GROUPS_MAX:
        problems.append(
            registry.MULTINODE_NODES.fix(
                f"{len(ranges)} node groups; AWS allows at most {NODE_GROUPS_MAX}",
                "merge groups that share a command",
            )
        )
    covered: set[int] = set()
    for start, end in ranges:
        if start > end:
            problems.append(
                registry.MULTINODE_RANGES.fix(f"node range {start}:{end} ends before it starts", "swap them")
            )
        elif start < 0 or end >= nodes:
            problems.append(
                registry.MULTINODE_RANGES.fix(
                    f"node range {start}:{end} reaches outside nodes 0..{nodes - 1}",
                    f"keep ranges within 0..{nodes - 1}, or raise nodes to {max(end + 1, nodes)}",
                )
            )
        covered.update(range(max(start, 0), min(end, nodes - 1) + 1))
    missing = sorted(set(range(nodes)) - covered)
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        problems.append(
            registry.MULTINODE_RANGES.fix(
                f"node ranges {', '.join(f'{s}:{e}' for s, e in ranges)} leave nodes {shown} without a container",
                f"cover 0..{nodes - 1}, e.g. 0:0 for the main node and 1:{nodes - 1} for the workers",
            )
        )
    if not 0 <= main_node < nodes:
        problems.append(
            registry.MULTINODE_MAIN_NODE.fix(
                f"main_node={main_node} with {nodes} nodes", f"use 0..{nodes - 1} (usually 0)"
            )
        )
    return problems


def multinode_environments(envs: Sequence[tuple[str, EnvironmentCapacity]]) -> list[str]:
    """Multi-node jobs run on managed On-Demand EC2 environments only (mnp-ce.html)."""
    return [
        registry.MULTINODE_ENVIRONMENT.fix(
            f"queue environment {path} is {env.kind if env.managed else 'UNMANAGED'}; multi-node jobs run only on "
            "managed On-Demand EC2",
            "submit to a queue of Ec2Environment or EfaEnvironment environments (spot=False)",
        )
        for path, env in envs
        if env.platform != "EC2" or env.spot or not env.managed
    ]


def efa_instance_type(instance_type: str) -> list[str]:
    if efa_support(instance_type) is not False:
        return []  # known EFA-capable, or unknown to the library (never rejected)
    return [
        registry.EFA_INSTANCE_TYPE.fix(
            f"instance type {instance_type} does not support EFA",
            "use an EFA-capable type such as c5n.18xlarge, c6in.32xlarge, hpc7g.16xlarge, g5.48xlarge or "
            "p4d.24xlarge (aws ec2 describe-instance-types --filters Name=network-info.efa-supported,Values=true)",
        )
    ]


def efa_environments(envs: Sequence[tuple[str, EnvironmentCapacity]]) -> list[str]:
    """An EFA job maps /dev/infiniband/uverbs0, which exists only on instances launched with an EFA interface."""
    return [
        registry.EFA_ENVIRONMENT.fix(
            f"the job uses EFA and queue environment {path} is not an EfaEnvironment (no EFA interface, cluster "
            "placement group or self-referencing security group), so its containers cannot start",
            "submit it to a queue of EfaEnvironment, or set efa=False",
        )
        for path, env in envs
        if env.efa is False
    ]


# --------------------------------------------------------------------------------------------- compute environments


def environment_vcpus(min_vcpus: float, max_vcpus: float) -> list[str]:
    if 0 <= min_vcpus <= max_vcpus and max_vcpus >= 1:
        return []
    return [
        registry.ENVIRONMENT_VCPUS.fix(
            f"min_vcpus={min_vcpus:g}, max_vcpus={max_vcpus:g}",
            "use 0 <= min_vcpus <= max_vcpus and max_vcpus >= 1 (min_vcpus=0 scales to zero)",
        )
    ]


def environment_instances(type_names: Sequence[str], class_names: Sequence[str]) -> list[str]:
    problems = []
    if not type_names and not class_names:
        problems.append(
            registry.ENVIRONMENT_INSTANCES.fix(
                "no instance_types and instance_classes=[]",
                "name at least one instance type or family",
            )
        )
    archs = {architecture_of(n) for n in (*type_names, *class_names) if n not in ("optimal", "default_x86_64")} | {
        "X86_64" for n in class_names if n in ("optimal", "default_x86_64")
    }
    if len(archs) > 1:
        problems.append(
            registry.ENVIRONMENT_ARCHITECTURE.fix(
                f"instance types/classes mix {' and '.join(sorted(archs))} ({', '.join((*type_names, *class_names))})",
                "use one architecture per environment (and per queue): Graviton families (m7g, c7g...) in one, "
                "x86_64 in another",
            )
        )
    return problems


def spot_settings(
    spot: bool, strategy: str, bid: float | None, has_fleet_role: bool, *, strategy_known: bool = True
) -> list[str]:
    problems = []
    if strategy_known and strategy.startswith("SPOT_") and not spot:
        problems.append(
            registry.SPOT_STRATEGY.fix(
                f"allocation_strategy={strategy} on an On-Demand environment",
                "set spot=True (SpotEnvironment), or use BEST_FIT_PROGRESSIVE",
            )
        )
    if bid is not None:
        if not spot:
            problems.append(
                registry.SPOT_BID.fix(
                    f"spot_bid_percentage={bid:g} on an On-Demand environment", "drop it, or spot=True"
                )
            )
        problems += int_range(registry.SPOT_BID, "spot_bid_percentage", bid, 1, 100, "use 1-100, or leave it unset")
    if has_fleet_role and not spot:
        problems.append(
            registry.SPOT_FLEET_ROLE.fix(
                "spot_fleet_role on an On-Demand environment",
                "drop it (only Spot with BEST_FIT uses a Spot Fleet)",
            )
        )
    return problems


def is_gpu_instance(name: str) -> bool | None:
    """Whether an instance type or family has GPUs; None when the library does not know it."""
    if "." in name:
        shape = shape_of(name)
        if shape is not None:
            return shape.gpus > 0
        return True if name.split(".", maxsplit=1)[0] in GPU_TYPES else None
    if name in GPU_TYPES:
        return True
    shapes = shapes_of_family(name)
    return None if shapes is None else any(s.gpus for s in shapes)


def gpu_instances(names: Sequence[str]) -> list[str]:
    cpu_only = [n for n in names if is_gpu_instance(n) is False]
    if not cpu_only:
        return []
    return [
        registry.GPU_INSTANCES.fix(
            f"a GPU environment with instance types/classes without GPUs: {', '.join(cpu_only)}",
            "use GPU families only (g4dn, g5, g6, g6e, p3, p4d, p5), or an Ec2Environment for CPU jobs",
        )
    ]


def gpu_image(names: Sequence[str], images: Sequence[tuple[str | None, bool]]) -> list[str]:
    """``images`` are (image type, has custom AMI). GPU instances need the NVIDIA driver the *_NVIDIA images carry."""
    if not any(is_gpu_instance(n) for n in names):
        return []
    if any(custom or image_type in _NVIDIA_IMAGES or image_type is None for image_type, custom in images):
        return []
    types = ", ".join(sorted({t for t, _ in images if t})) or "none"
    return [
        registry.GPU_IMAGE.fix(
            f"GPU instances with image types {types}: without the NVIDIA driver ECS registers no GPUs, so GPU "
            "jobs stay RUNNABLE",
            "use batch.EcsMachineImage(image_type=EcsMachineImageType.ECS_AL2023_NVIDIA), or a custom AMI with the "
            "driver",
        )
    ]


# ------------------------------------------------------------------------------------- launch templates and updates

#: AWS Batch's bounds and default for UpdatePolicy.JobExecutionTimeoutMinutes (botocore Batch model; CloudFormation
#: schema default 30).
UPDATE_TIMEOUT_MINUTES: Final = (1, 7200)
UPDATE_TIMEOUT_DEFAULT_MINUTES: Final = 30


def update_timeout(minutes: float) -> list[str]:
    """``job_execution_timeout`` of an EC2 environment, in minutes (JobExecutionTimeoutMinutes)."""
    return int_range(
        registry.UPDATE_TIMEOUT,
        "job_execution_timeout (minutes)",
        minutes,
        *UPDATE_TIMEOUT_MINUTES,
        "use Duration.minutes(1) to Duration.days(5), or leave it unset to derive it from the jobs' timeouts",
    )


def derived_update_timeout(job_timeouts_seconds: Iterable[float]) -> int:
    """The execution timeout (minutes) an infrastructure update grants running jobs: the longest job timeout among
    the jobs of the queues using the environment, rounded up to whole minutes, never below AWS's default of 30 and
    never above AWS's maximum of 7200 (five days)."""
    longest = max((math.ceil(s / 60) for s in job_timeouts_seconds), default=0)
    return min(max(longest, UPDATE_TIMEOUT_DEFAULT_MINUTES), UPDATE_TIMEOUT_MINUTES[1])


def efa_interface_count(instance_type: str, count: int) -> list[str]:
    """1 to the instance type's EFA interfaces (network cards); unknown types are only checked for at least 1."""
    known = instance_type in EFA_INTERFACES or instance_type in EFA_TYPES
    high = efa_interfaces(instance_type) if known else 1_000
    return int_range(
        registry.EFA_INTERFACES,
        f"efa_interfaces for {instance_type}",
        count,
        1,
        high,
        f"use 1-{high} (leave it unset for all of the type's EFA interfaces)" if known else "use at least 1",
    )
