"""Synth-time rules: one small pure function per rule, each returning the problems it finds (empty when fine).

Every message starts with ``[rule-id]``, states the value received and the limit, and ends with ``Fix: ...``.
``RULES`` is the table of every rule; ``docs/validation.md`` lists the same ids (a test keeps them in step).
Values that are CDK tokens (known only at deploy time) are skipped by the callers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ._capacity import EFA_TYPES, FARGATE_MEMORY, EnvironmentCapacity

#: Every rule id with a one-line summary. Ids are public: users search for them in error messages and docs.
RULES: Final[dict[str, str]] = {
    "network-existing-vpc": "an existing VPC cannot be combined with props that shape a new VPC",
    "network-azs": "a new VPC spans 1-6 Availability Zones",
    "network-nat": "NAT gateways: 0 up to one per Availability Zone",
    "network-egress": "isolated subnets need interface endpoints for ECR, ECS and CloudWatch Logs",
    "environment-network": "a compute environment needs exactly one of network or vpc",
    "environment-vcpus": "min vCPUs <= max vCPUs, both >= 0; max vCPUs > 0",
    "environment-instances": "an EC2 environment names at least one instance type or class",
    "environment-architecture": "one environment launches one CPU architecture",
    "spot-strategy": "SPOT_* allocation strategies only on Spot environments",
    "spot-bid": "Spot bid percentage 1-100, only on Spot environments",
    "gpu-instances": "a GPU environment launches only GPU instance types",
    "efa-instance-type": "EFA needs one EFA-capable instance type",
    "efa-on-demand": "EFA and multi-node jobs need an on-demand EC2 environment",
    "queue-environments": "a queue orders 1-3 compute environments",
    "queue-mixed-platform": "a queue cannot mix Fargate and EC2 environments",
    "queue-mixed-architecture": "a queue's environments share one CPU architecture",
    "queue-priority": "queue priority 0-1000",
    "queue-time-limit": "job-state time limits 600-86400 seconds",
    "fargate-resources": "Fargate vCPU and memory must be one of Fargate's combinations",
    "fargate-gpu": "no GPUs on Fargate",
    "platform-props": "Fargate-only props are not set on EC2 jobs and the reverse",
    "job-resources": "vCPUs > 0, memory >= 4 MiB, GPUs >= 0",
    "job-fits-queue": "a job fits at least one compute environment behind its queue",
    "fair-share-priority": "jobs on a fair-share queue carry a scheduling priority",
    "scheduling-priority": "scheduling priority 0-9999",
    "retry-attempts": "retry attempts 1-10",
    "retry-conditions": "at most 5 retry conditions, which need attempts > 1",
    "retry-catch-all": "retry conditions end with a catch-all EXIT (an unmatched failure is retried)",
    "timeout": "job timeout at least 60 seconds",
    "array-size": "array size 2-10000",
    "dependencies": "at most 20 job dependencies",
    "target-retry": "EventBridge target retries: 0-185 attempts, maximum event age 60 s to 24 h",
    "name": "names: 1-128 characters of letters, digits, hyphens and underscores, starting alphanumeric",
    "tags": "at most 50 tags",
    "ephemeral-storage": "Fargate ephemeral storage 21-200 GiB",
    "multinode-environment": "multi-node jobs run only on managed on-demand EC2 environments",
    "multinode-nodes": "multi-node jobs: 1-1000 nodes, at most 5 node groups",
    "multinode-ranges": "node ranges cover 0..N-1 without gaps or overlaps",
    "multinode-main-node": "the main node is one of the job's nodes",
    "parameters": "every Ref::name in the command has a default parameter or is documented as required at submit",
    # triggers
    "trigger-filters": "S3 trigger key filters are literal, non-empty lists within EventBridge's limits",
    "trigger-parameters": "trigger parameter names are valid Ref:: names and distinct",
    "trigger-queue": "a trigger knows the queue to submit to",
    # monitoring
    "monitoring-queues": "alerts and job metrics watch at least one job queue",
    "monitoring-options": "alert and metric options are consistent (an e-mail address, a topic or a key, threshold >= 1)",
}

_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def fix(rule: str, problem: str, remedy: str) -> str:
    """Format one problem: ``[rule] problem. Fix: remedy.``"""
    return f"[{rule}] {problem}. Fix: {remedy}."


def name(kind: str, value: str | None) -> list[str]:
    if value is None or _NAME.match(value):
        return []
    return [
        fix(
            "name",
            f"{kind} {value!r} is not a valid AWS Batch name (1-128 letters, digits, '-', '_'; first alphanumeric)",
            f"rename it, e.g. {re.sub(r'[^A-Za-z0-9_-]', '-', value).lstrip('-_')[:128]!r}, or leave it unset so "
            "CloudFormation names it (which also keeps the resource replaceable)",
        )
    ]


def tags(count: int) -> list[str]:
    if count <= 50:
        return []
    return [fix("tags", f"{count} tags; AWS allows at most 50 per resource", "drop some tags")]


def fargate_resources(vcpus: float, memory_mib: int) -> list[str]:
    if vcpus not in FARGATE_MEMORY:
        return [
            fix(
                "fargate-resources",
                f"vcpus={vcpus:g} is not a Fargate size (allowed: 0.25, 0.5, 1, 2, 4, 8, 16)",
                "pick one of those, or run the job on EC2",
            )
        ]
    allowed = FARGATE_MEMORY[vcpus]
    if memory_mib in allowed:
        return []
    step = allowed[1] - allowed[0] if len(allowed) > 1 else allowed[0]
    return [
        fix(
            "fargate-resources",
            f"memory={memory_mib} MiB with vcpus={vcpus:g} is not a Fargate combination (allowed "
            f"{allowed[0]}-{allowed[-1]} MiB in steps of {step})",
            _fargate_fix(vcpus, memory_mib),
        )
    ]


def _fargate_fix(vcpus: float, memory_mib: int) -> str:
    fitting = [v for v, mems in FARGATE_MEMORY.items() if mems[0] <= memory_mib <= mems[-1]]
    allowed = FARGATE_MEMORY[vcpus]
    nearest = min(allowed, key=lambda m: (abs(m - memory_mib), -m))
    hint = f"use memory={nearest} MiB"
    if fitting and vcpus not in fitting:
        hint += f", or vcpus in {', '.join(f'{v:g}' for v in fitting)} for {memory_mib} MiB"
    return hint


def job_resources(vcpus: float, memory_mib: int, gpus: int) -> list[str]:
    problems = []
    if vcpus <= 0:
        problems.append(
            fix("job-resources", f"vcpus={vcpus:g}; must be > 0", "ask for at least 0.25 vCPU on Fargate, 1 on EC2")
        )
    if memory_mib < 4:
        problems.append(
            fix("job-resources", f"memory={memory_mib} MiB; Batch needs at least 4 MiB", "ask for more memory")
        )
    if gpus < 0:
        problems.append(fix("job-resources", f"gpus={gpus}; must be >= 0", "use 0 for CPU jobs"))
    return problems


@dataclass(frozen=True)
class JobRequirements:
    """What one job (or one multi-node node) asks of an environment."""

    platform: str  # FARGATE or EC2
    vcpus: float
    memory_mib: int
    gpus: int = 0
    architecture: str | None = None  # X86_64/ARM64 on Fargate; None on EC2 (the image decides)
    instance_type: str | None = None  # multi-node jobs name one
    multinode: bool = False


def fit_problem(job: JobRequirements, env: EnvironmentCapacity) -> str | None:
    """Why ``job`` can never run on ``env``, or None when it can (or when the environment's size is unknown)."""
    if job.platform != env.platform:
        return f"{env.kind} environment cannot run a {job.platform} job"
    if job.multinode and (env.platform != "EC2" or env.spot or not env.managed):
        return f"{env.kind} environment cannot run multi-node jobs (managed on-demand EC2 only)"
    if env.max_vcpus is not None and job.vcpus > env.max_vcpus:
        return f"maxv_cpus={env.max_vcpus:g} < the job's {job.vcpus:g} vCPUs"
    if job.architecture and env.architectures and job.architecture not in env.architectures:
        return f"it launches {'/'.join(sorted(env.architectures))}, the job is {job.architecture}"
    if env.shapes is None:
        return None
    shapes = env.shapes
    if job.instance_type is not None:
        shapes = tuple(s for s in shapes if s.name == job.instance_type) or shapes
    for shape in shapes:
        if job.vcpus <= shape.vcpus and job.memory_mib <= shape.memory_mib and job.gpus <= shape.gpus:
            return None
    biggest = max(shapes, key=lambda s: (s.gpus, s.vcpus, s.memory_mib))
    return (
        f"no instance it launches has {job.vcpus:g} vCPUs, {job.memory_mib} MiB"
        + (f" and {job.gpus} GPUs" if job.gpus else "")
        + f" (largest: {biggest.name} with {biggest.vcpus:g} vCPUs, {biggest.memory_mib} MiB, {biggest.gpus} GPUs)"
    )


def job_fits_queue(job: JobRequirements, queue_path: str, envs: Sequence[tuple[str, EnvironmentCapacity]]) -> list[str]:
    """A job must fit at least one environment behind the queue, or it stays RUNNABLE for ever."""
    if not envs:
        return []
    reasons = []
    for env_path, env in envs:
        reason = fit_problem(job, env)
        if reason is None:
            return []
        reasons.append(f"{env_path}: {reason}")
    return [
        fix(
            "job-fits-queue",
            f"the job ({job.platform}, {job.vcpus:g} vCPUs, {job.memory_mib} MiB"
            + (f", {job.gpus} GPUs" if job.gpus else "")
            + f") fits no compute environment of queue {queue_path}, so it would stay RUNNABLE "
            "(MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT): " + "; ".join(reasons),
            "make the job smaller, or add an environment (or instance types, or max vCPUs) that can hold it",
        )
    ]


def queue_environments(envs: Sequence[tuple[str, EnvironmentCapacity]]) -> list[str]:
    problems = []
    if not 1 <= len(envs) <= 3:
        problems.append(
            fix(
                "queue-environments",
                f"{len(envs)} compute environments; a queue takes 1-3",
                "split the environments over several queues" if envs else "pass at least one environment",
            )
        )
    platforms = {env.platform for _, env in envs}
    if len(platforms) > 1:
        problems.append(
            fix(
                "queue-mixed-platform",
                "the queue mixes Fargate and EC2 environments ("
                + ", ".join(f"{path}: {env.kind}" for path, env in envs)
                + "); AWS rejects such a queue",
                "use one queue for the Fargate environments and another for the EC2 ones",
            )
        )
    archs = {a for _, env in envs for a in env.architectures}
    if len(archs) > 1:
        problems.append(
            fix(
                "queue-mixed-architecture",
                f"the queue's environments launch {', '.join(sorted(archs))}; a queue runs one CPU architecture",
                "put x86_64 and ARM64 environments behind separate queues",
            )
        )
    return problems


def int_range(rule: str, what: str, value: int | float, low: float, high: float, remedy: str) -> list[str]:
    if low <= value <= high:
        return []
    return [fix(rule, f"{what}={value:g}; allowed {low:g}-{high:g}", remedy)]


def retry(attempts: int, conditions: Sequence[tuple[str, Mapping[str, str]]]) -> list[str]:
    """``conditions`` are (action, {on_exit_code|on_reason|on_status_reason: pattern}) in evaluation order."""
    problems = int_range("retry-attempts", "retry_attempts", attempts, 1, 10, "use 1 (no retry) to 10")
    if len(conditions) > 5:
        problems.append(
            fix("retry-conditions", f"{len(conditions)} retry conditions; AWS takes at most 5", "merge patterns")
        )
    if conditions and attempts < 2:
        problems.append(
            fix(
                "retry-conditions",
                f"retry conditions with retry_attempts={attempts}: conditions only apply when attempts > 1",
                "set retry_attempts to 2-10, or drop the conditions",
            )
        )
    if conditions:
        action, on = conditions[-1]
        catch_all = action.upper() == "EXIT" and all(v == "*" for v in on.values())
        if not catch_all:
            problems.append(
                fix(
                    "retry-catch-all",
                    "the last retry condition is not a catch-all EXIT, so a failure that matches no condition is "
                    "retried (AWS's default) - application bugs are retried like Spot interruptions",
                    "end with RetryPolicy's exit_on_anything(), i.e. EXIT on reason '*'",
                )
            )
    return problems


def timeout(seconds: float) -> list[str]:
    if seconds >= 60:
        return []
    return [fix("timeout", f"timeout={seconds:g} s; AWS Batch's minimum is 60 s", "use Duration.minutes(1) or more")]


def ephemeral_storage(gib: float) -> list[str]:
    return int_range("ephemeral-storage", "ephemeral_storage (GiB)", gib, 21, 200, "use 21-200 GiB")


def multinode_ranges(nodes: int, ranges: Sequence[tuple[int, int]], main_node: int) -> list[str]:
    """``ranges`` are inclusive (start, end) node indexes."""
    problems = int_range("multinode-nodes", "nodes", nodes, 1, 1000, "use 1-1000 nodes")
    if len(ranges) > 5:
        problems.append(fix("multinode-nodes", f"{len(ranges)} node groups; AWS allows at most 5", "merge groups"))
    covered: list[int] = []
    for start, end in ranges:
        if start > end:
            problems.append(fix("multinode-ranges", f"node range {start}:{end} ends before it starts", "swap them"))
        covered.extend(range(start, end + 1))
    expected = list(range(nodes))
    if sorted(covered) != expected:
        missing = sorted(set(expected) - set(covered))
        extra = sorted({n for n in covered if covered.count(n) > 1 or n >= nodes})
        problems.append(
            fix(
                "multinode-ranges",
                f"node ranges {', '.join(f'{s}:{e}' for s, e in ranges)} do not cover nodes 0..{nodes - 1} exactly once"
                + (f" (missing {missing[:10]})" if missing else "")
                + (f" (overlapping or out of range {extra[:10]})" if extra else ""),
                "make the ranges contiguous, e.g. 0:0 for the main node and 1:N-1 for the workers",
            )
        )
    if not 0 <= main_node < nodes:
        problems.append(
            fix("multinode-main-node", f"main_node={main_node} with {nodes} nodes", f"use 0..{nodes - 1} (usually 0)")
        )
    return problems


def efa_instance_type(instance_type: str) -> list[str]:
    if instance_type in EFA_TYPES:
        return []
    return [
        fix(
            "efa-instance-type",
            f"instance type {instance_type} does not support EFA (as far as batch-constructs knows)",
            "use an EFA-capable type such as c5n.18xlarge, c6in.32xlarge, hpc6a.48xlarge, g5.48xlarge or "
            "p4d.24xlarge (aws ec2 describe-instance-types --filters Name=network-info.efa-supported,Values=true)",
        )
    ]
