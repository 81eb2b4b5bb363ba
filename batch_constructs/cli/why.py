"""``batch-constructs why JOB_ID``: why a job is stuck in RUNNABLE (or PENDING), checked against live data.

:func:`gather` reads what the diagnosis needs (the job, its queue and compute environments, the job definition, the
dependencies, the scheduling policy, the subnets' routes and VPC endpoints, the service role); :func:`diagnose` is pure
and turns those facts into :class:`Cause` objects, each with the fix. The causes follow the AWS Batch User Guide's
"Jobs stuck in a RUNNABLE status" and the job ``statusReason`` values the Batch API documents
(``CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY``, ``MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE``,
``MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT``, ``MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS``; botocore's Batch model,
``JobDetail.statusReason``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from batch_constructs.model import capacity
from batch_constructs.model.rules import share_matches

from .status import describe_environments
from .watch import describe

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        JobDefinitionTypeDef,
        JobDetailTypeDef,
        JobQueueDetailTypeDef,
        ResourceRequirementTypeDef,
        SchedulingPolicyDetailTypeDef,
    )
    from mypy_boto3_ec2.type_defs import RouteTableTypeDef, SubnetTypeDef, VpcEndpointTypeDef

    from . import Context
    from ._aws import Aws

#: Interface endpoints a job needs without a NAT or internet route (AWS Batch and ECS user guides, "interface VPC
#: endpoints"): Fargate pulls images (ecr.api, ecr.dkr, image layers from S3) and ships logs; EC2 instances also
#: run the ECS agent (ecs, ecs-agent, ecs-telemetry).
FARGATE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")
EC2_ENDPOINTS = ("ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "logs")
#: Service-linked role Batch uses when a compute environment names no service role.
SERVICE_LINKED_ROLE = "AWSServiceRoleForBatch"


@dataclass(frozen=True)
class Cause:
    """One reason the job does not start, and what to do about it."""

    id: str
    summary: str
    fix: str


@dataclass
class RoleFacts:
    """A compute environment's custom service role as IAM describes it."""

    arn: str
    exists: bool
    trusts_batch: bool = False
    policies: list[str] = field(default_factory=list)


@dataclass
class Facts:
    """Everything :func:`diagnose` looks at (what :func:`gather` read)."""

    job: JobDetailTypeDef
    queue: JobQueueDetailTypeDef | None
    environments: list[ComputeEnvironmentDetailTypeDef]
    job_definition: JobDefinitionTypeDef | None = None
    dependencies: list[JobDetailTypeDef] = field(default_factory=list)
    policy: SchedulingPolicyDetailTypeDef | None = None
    subnets: list[SubnetTypeDef] = field(default_factory=list)
    route_tables: list[RouteTableTypeDef] = field(default_factory=list)
    endpoints: list[VpcEndpointTypeDef] = field(default_factory=list)
    region: str = "us-east-1"
    #: vCPUs of the queue's STARTING and RUNNING jobs (what a Fargate environment's max vCPUs is compared with).
    running_vcpus: float = 0.0
    roles: list[RoleFacts] = field(default_factory=list)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "why", parents=[common], help="why a job is stuck in RUNNABLE: each cause checked, with its fix"
    )
    p.add_argument("job_id", help="job id")
    p.set_defaults(run=run)


# ---------------------------------------------------------------------------------------------------------- reading


def _size(vcpus: float, memory: int, requirements: Iterable[ResourceRequirementTypeDef]) -> tuple[float, int, int]:
    gpus = 0
    for r in requirements:
        if r["type"] == "VCPU":
            vcpus = float(r["value"])
        elif r["type"] == "MEMORY":
            memory = int(r["value"])
        elif r["type"] == "GPU":
            gpus = int(r["value"])
    return vcpus, memory, gpus


def requirements(job: JobDetailTypeDef) -> tuple[float, int, int]:
    """The job's vCPUs, memory (MiB) and GPUs (a multi-node job or a multi-container task: its largest part)."""
    container = job.get("container", {})
    sizes = [_size(container.get("vcpus", 0), container.get("memory", 0), container.get("resourceRequirements", []))]
    for group in job.get("nodeProperties", {}).get("nodeRangeProperties", []):
        node = group.get("container", {})
        sizes.append(_size(node.get("vcpus", 0), node.get("memory", 0), node.get("resourceRequirements", [])))
    for task in job.get("ecsProperties", {}).get("taskProperties", []):
        for part in task.get("containers", []):
            sizes.append(_size(0, 0, part.get("resourceRequirements", [])))
    return max(s[0] for s in sizes), max(s[1] for s in sizes), max(s[2] for s in sizes)


def gather(aws: Aws, job_id: str, job: JobDetailTypeDef) -> Facts:
    """Read the facts about ``job`` from Batch, EC2 and IAM (every list call paginated)."""
    batch = aws.batch
    queues = batch.describe_job_queues(jobQueues=[job["jobQueue"]])["jobQueues"]
    queue = queues[0] if queues else None
    env_arns = [o["computeEnvironment"] for o in queue.get("computeEnvironmentOrder", [])] if queue else []
    environments = describe_environments(aws, env_arns) if env_arns else []
    definitions = batch.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])["jobDefinitions"]
    facts = Facts(
        job=job, queue=queue, environments=environments, job_definition=definitions[0] if definitions else None
    )
    facts.region = aws.batch.meta.region_name
    dep_ids = [d["jobId"] for d in job.get("dependsOn", []) if d.get("jobId")]
    for i in range(0, len(dep_ids), 100):
        facts.dependencies += batch.describe_jobs(jobs=dep_ids[i : i + 100])["jobs"]
    if queue and queue.get("schedulingPolicyArn"):
        policies = batch.describe_scheduling_policies(arns=[queue["schedulingPolicyArn"]])["schedulingPolicies"]
        facts.policy = policies[0] if policies else None
    if queue and any(e.get("computeResources", {}).get("type", "").startswith("FARGATE") for e in environments):
        facts.running_vcpus = _running_vcpus(aws, queue["jobQueueArn"], job_id)
    subnet_ids = sorted({s for e in environments for s in e.get("computeResources", {}).get("subnets", [])})
    if subnet_ids:
        ec2 = aws.ec2
        facts.subnets = [
            s for page in ec2.get_paginator("describe_subnets").paginate(SubnetIds=subnet_ids) for s in page["Subnets"]
        ]
        vpcs = sorted({s["VpcId"] for s in facts.subnets if "VpcId" in s})
        vpc_filter = [{"Name": "vpc-id", "Values": vpcs}]
        facts.route_tables = [
            t
            for page in ec2.get_paginator("describe_route_tables").paginate(Filters=vpc_filter)  # type: ignore[arg-type]
            for t in page["RouteTables"]
        ]
        facts.endpoints = [
            e
            for page in ec2.get_paginator("describe_vpc_endpoints").paginate(Filters=vpc_filter)  # type: ignore[arg-type]
            for e in page["VpcEndpoints"]
        ]
    facts.roles = [_role(aws, arn) for arn in sorted({e["serviceRole"] for e in environments if e.get("serviceRole")})]
    return facts


def _running_vcpus(aws: Aws, queue_arn: str, job_id: str) -> float:
    paginator = aws.batch.get_paginator("list_jobs")
    ids = [
        s["jobId"]
        for status in ("STARTING", "RUNNING")
        for page in paginator.paginate(jobQueue=queue_arn, jobStatus=status)
        for s in page["jobSummaryList"]
        if s["jobId"] != job_id
    ]
    total = 0.0
    for i in range(0, len(ids), 100):
        for running in aws.batch.describe_jobs(jobs=ids[i : i + 100])["jobs"]:
            total += requirements(running)[0]
    return total


def _role(aws: Aws, arn: str) -> RoleFacts:
    name = arn.rsplit("/", 1)[-1]
    iam = aws.iam
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return RoleFacts(arn, exists=False)
    document: object = role.get("AssumeRolePolicyDocument", "")
    text = unquote(document) if isinstance(document, str) else json.dumps(document)
    policies = [
        p["PolicyName"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
        for p in page["AttachedPolicies"]
        if "PolicyName" in p
    ]
    policies += [
        p for page in iam.get_paginator("list_role_policies").paginate(RoleName=name) for p in page["PolicyNames"]
    ]
    return RoleFacts(arn, exists=True, trusts_batch="batch.amazonaws.com" in text, policies=policies)


# ------------------------------------------------------------------------------------------------------- diagnosing


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def check_queue(facts: Facts) -> list[Cause]:
    """The queue is DISABLED, INVALID, or blocked by the job at its head."""
    queue = facts.queue
    if queue is None:
        return [
            Cause(
                "queue-missing",
                f"the job's queue {facts.job['jobQueue']} no longer exists",
                "resubmit the job to an existing queue",
            )
        ]
    name, causes = queue["jobQueueName"], []
    if queue.get("state") == "DISABLED":
        causes.append(
            Cause(
                "queue-disabled",
                f"job queue {name} is DISABLED: it accepts no new jobs and starts none of its RUNNABLE jobs",
                f"aws batch update-job-queue --job-queue {name} --state ENABLED",
            )
        )
    if queue.get("status") == "INVALID":
        causes.append(
            Cause(
                "queue-invalid",
                f"job queue {name} is INVALID: {queue.get('statusReason', 'no reason given')}",
                "fix what the reason names (often a compute environment that is INVALID or was deleted), "
                "then update the queue",
            )
        )
    reason = queue.get("statusReason", "")
    if "block" in reason.lower():
        causes.append(
            Cause(
                "queue-blocked",
                f"job queue {name} is blocked: {reason}",
                "cancel the job at the head of the queue, or give the queue job_state_time_limit_actions "
                "(batch-constructs' BatchQueue sets them) so that jobs that can never run are cancelled",
            )
        )
    return causes


def check_environments(facts: Facts) -> list[Cause]:
    """Compute environments DISABLED or INVALID."""
    causes: list[Cause] = []
    for env in facts.environments:
        name = env["computeEnvironmentName"]
        if env.get("state") == "DISABLED":
            causes.append(
                Cause(
                    "environment-disabled",
                    f"compute environment {name} is DISABLED: Batch places no jobs on it",
                    f"aws batch update-compute-environment --compute-environment {name} --state ENABLED",
                )
            )
        if env.get("status") == "INVALID":
            causes.append(
                Cause(
                    "environment-invalid",
                    f"compute environment {name} is INVALID: {env.get('statusReason', 'no reason given')}",
                    "fix what the reason names (service role, subnets, security groups, instance types, "
                    "launch template), "
                    "then update the compute environment; `cdk deploy` of the fixed stack does it",
                )
            )
    return causes


def _usable(env: ComputeEnvironmentDetailTypeDef) -> bool:
    return env.get("state") != "DISABLED" and env.get("status") != "INVALID"


def _shapes(env: ComputeEnvironmentDetailTypeDef) -> tuple[capacity.InstanceShape, ...] | None:
    resources = env.get("computeResources", {})
    if resources.get("type", "").startswith("FARGATE"):
        return capacity.FARGATE_SHAPES
    names = resources.get("instanceTypes", [])
    types = [n for n in names if "." in n]
    families = [n for n in names if "." not in n]
    return capacity.shapes_of(types, families) if names else None


def check_size(facts: Facts) -> list[Cause]:
    """The job is larger than every instance type of the queue's environments (or not a valid Fargate size)."""
    vcpus, memory, gpus = requirements(facts.job)
    if not vcpus and not memory:
        return []
    too_small: list[str] = []
    for env in facts.environments:
        shapes = _shapes(env)
        if shapes is None:
            return []  # an environment whose sizes the model does not know might fit the job
        is_fargate = env.get("computeResources", {}).get("type", "").startswith("FARGATE")
        if is_fargate:
            fits = gpus == 0 and memory in capacity.FARGATE_MEMORY.get(vcpus, ())
        else:
            fits = any(vcpus <= s.vcpus and memory <= capacity.usable_memory_mib(s) and gpus <= s.gpus for s in shapes)
        if fits:
            return []
        largest = max(shapes, key=lambda s: (s.vcpus, s.memory_mib))
        if is_fargate:
            too_small.append(
                f"{env['computeEnvironmentName']} (Fargate: {vcpus:g} vCPU with {memory} MiB is not a Fargate size)"
            )
        else:
            too_small.append(
                f"{env['computeEnvironmentName']} (largest: {largest.name}, {largest.vcpus:g} vCPUs, "
                f"{capacity.usable_memory_mib(largest)} MiB usable, {largest.gpus} GPUs)"
            )
    if not too_small:
        return []
    ask = f"{vcpus:g} vCPUs, {memory} MiB" + (f", {gpus} GPUs" if gpus else "")
    return [
        Cause(
            "job-too-large",
            f"the job asks for {ask}, more than any instance of its queue's environments can give: "
            + "; ".join(too_small),
            "lower the job's vCPUs/memory (EC2 keeps ~5% of an instance's memory for the OS and agent) or add larger "
            "instance types to the compute environment; Fargate accepts only the vCPU/memory pairs of "
            "API_ResourceRequirement",
        )
    ]


def check_max_vcpus(facts: Facts) -> list[Cause]:
    """Every usable environment has reached (or is smaller than the job in) max vCPUs."""
    vcpus = requirements(facts.job)[0]
    usable = [e for e in facts.environments if _usable(e)]
    if not usable or not vcpus:
        return []
    notes: list[str] = []
    for env in usable:
        resources = env.get("computeResources", {})
        maximum = resources.get("maxvCpus")
        if maximum is None:
            return []
        if vcpus > maximum:
            notes.append(f"{env['computeEnvironmentName']}: max {maximum} vCPUs < the job's {vcpus:g}")
            continue
        in_use = (
            facts.running_vcpus if resources.get("type", "").startswith("FARGATE") else resources.get("desiredvCpus", 0)
        )
        if in_use + vcpus <= maximum:
            return []
        notes.append(f"{env['computeEnvironmentName']}: {in_use:g} of {maximum} vCPUs in use")
    reason = facts.job.get("statusReason", "")
    return [
        Cause(
            "max-vcpus",
            "no compute environment has room for the job's vCPUs: "
            + "; ".join(notes)
            + (f" (Batch says: {reason})" if "MAX_RESOURCE" in reason else ""),
            "wait for running jobs to finish, or raise max vCPUs (max_vcpus on the environment); "
            "also check the account's EC2/Fargate vCPU quotas",
        )
    ]


def _default_route(table: RouteTableTypeDef) -> str | None:
    for route in table.get("Routes", []):
        if route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("State", "active") == "active":
            for key in ("NatGatewayId", "GatewayId", "TransitGatewayId", "NetworkInterfaceId", "InstanceId"):
                target = route.get(key)
                if target and target != "local":
                    return str(target)
    return None


def _table_of(facts: Facts, subnet: SubnetTypeDef) -> RouteTableTypeDef | None:
    main: RouteTableTypeDef | None = None
    for t in facts.route_tables:
        for a in t.get("Associations", []):
            if a.get("SubnetId") == subnet["SubnetId"]:
                return t
            if a.get("Main") and t.get("VpcId") == subnet.get("VpcId"):
                main = t
    return main


def _service(name: str) -> str:
    """``com.amazonaws.us-east-1.ecr.api`` -> ``ecr.api``."""
    parts = name.split(".", 3)
    return parts[3] if len(parts) == 4 else name


def check_network(facts: Facts) -> list[Cause]:
    """Subnets with neither a NAT/internet route nor the VPC endpoints for ECR, ECS and CloudWatch Logs."""
    fargate = any(e.get("computeResources", {}).get("type", "").startswith("FARGATE") for e in facts.environments)
    needed = FARGATE_ENDPOINTS if fargate else EC2_ENDPOINTS
    definition = facts.job_definition
    network = definition.get("containerProperties", {}).get("networkConfiguration", {}) if definition else {}
    public_ip = network.get("assignPublicIp") == "ENABLED"
    causes: list[Cause] = []
    for subnet in facts.subnets:
        table = _table_of(facts, subnet)
        target = _default_route(table) if table else None
        sid = subnet["SubnetId"]
        if target and not target.startswith("igw-"):
            continue  # a NAT gateway, transit gateway or appliance: assume it reaches the internet
        if target and target.startswith("igw-"):
            if fargate and public_ip:
                continue
            if not fargate and subnet.get("MapPublicIpOnLaunch"):
                continue
            what = (
                "the job definition does not assign a public IP"
                if fargate
                else "the subnet gives instances no public IP"
            )
            causes.append(
                Cause(
                    "no-route",
                    f"subnet {sid} routes to an internet gateway ({target}) but {what}: "
                    "jobs cannot reach ECR, ECS or Logs",
                    "use private subnets with a NAT gateway (BatchNetwork's default), "
                    "or on Fargate set assign_public_ip",
                )
            )
            continue
        vpc = subnet.get("VpcId")
        present = {
            _service(e.get("ServiceName", ""))
            for e in facts.endpoints
            if e.get("VpcId") == vpc and e.get("State", "available").lower() == "available"
        }
        missing = [s for s in needed if s not in present]
        if "s3" not in present:
            missing.append("s3 (gateway: image layers)")
        if missing:
            causes.append(
                Cause(
                    "no-route",
                    f"subnet {sid} has no route to the internet (no NAT gateway) and its VPC lacks the endpoints for "
                    + ", ".join(missing),
                    "add a NAT gateway (BatchPlatform(nat_gateways=1)) or the interface endpoints "
                    "(interface_endpoints=BATCH_INTERFACE_ENDPOINTS) and the S3 gateway endpoint",
                )
            )
    return causes


def check_capacity(facts: Facts) -> list[Cause]:
    """Spot (or On-Demand) capacity: the status reasons say instances could not be had."""
    reasons = [facts.job.get("statusReason", "")] + [e.get("statusReason", "") for e in facts.environments]
    text = " ".join(reasons).lower()
    if "capacity" not in text and "spot" not in text:
        return []
    spot = [
        e["computeEnvironmentName"]
        for e in facts.environments
        if e.get("computeResources", {}).get("type") in ("SPOT", "FARGATE_SPOT")
    ]
    said = "; ".join(r for r in reasons if r)
    if spot:
        return [
            Cause(
                "spot-capacity",
                f"Spot capacity is short for {', '.join(spot)}: {said}",
                "add an On-Demand environment after the Spot one in the queue, allow more instance types, "
                "and use SPOT_PRICE_CAPACITY_OPTIMIZED (SpotEnvironment's default)",
            )
        ]
    return [
        Cause(
            "instance-capacity",
            f"EC2 has too little capacity for the requested instance types: {said}",
            "allow more instance types or families and subnets in more Availability Zones",
        )
    ]


def check_fair_share(facts: Facts) -> list[Cause]:
    """A fair-share queue and a job without a share identifier, or a share the policy gives no weight."""
    queue = facts.queue
    if not queue or not queue.get("schedulingPolicyArn"):
        return []
    share = facts.job.get("shareIdentifier")
    policy = _name(queue["schedulingPolicyArn"])
    if not share:
        return [
            Cause(
                "fair-share",
                f"queue {queue['jobQueueName']} schedules by fair share (policy {policy}) "
                "but the job has no share identifier",
                "submit with a share identifier (batch-constructs submit --share ID) and a scheduling priority",
            )
        ]
    fairshare = facts.policy.get("fairsharePolicy", {}) if facts.policy else {}
    distribution = fairshare.get("shareDistribution", [])
    names = [d["shareIdentifier"] for d in distribution]
    listed = any(share_matches(n, share) for n in names)
    if names and not listed:
        return [
            Cause(
                "fair-share",
                f"share {share!r} is not in policy {policy}'s share distribution ({', '.join(names)}): "
                "it gets the default "
                "weight and waits behind the listed shares",
                f"add {share!r} to the scheduling policy's share distribution, or submit with one of its shares",
            )
        ]
    return []


def check_dependencies(facts: Facts) -> list[Cause]:
    """Dependencies that have not succeeded (the job stays PENDING until they do)."""
    waiting = [d for d in facts.dependencies if d.get("status") != "SUCCEEDED"]
    if not waiting:
        return []
    failed = [d for d in waiting if d.get("status") == "FAILED"]
    listing = ", ".join(f"{d['jobName']} ({d['jobId']}) {d['status']}" for d in waiting)
    fix = (
        "a failed dependency fails this job: fix and resubmit the dependency, then this job"
        if failed
        else "wait for them, or check them with `batch-constructs why` / `watch`"
    )
    return [Cause("dependency", f"the job waits for dependencies that have not succeeded: {listing}", fix)]


def check_service_role(facts: Facts) -> list[Cause]:
    """A custom service role that is missing, not trusted by Batch, or without permissions."""
    causes: list[Cause] = []
    reasons = [facts.job.get("statusReason", "")] + [e.get("statusReason", "") for e in facts.environments]
    for role in facts.roles:
        name = _name(role.arn)
        if name == SERVICE_LINKED_ROLE:
            continue
        if not role.exists:
            causes.append(
                Cause(
                    "service-role",
                    f"the compute environments' service role {name} does not exist",
                    "recreate it, or better drop the custom service role so Batch uses its service-linked role "
                    "(CustomServiceRole is only for accounts that forbid service-linked roles)",
                )
            )
        elif not role.trusts_batch:
            causes.append(
                Cause(
                    "service-role",
                    f"service role {name} does not trust batch.amazonaws.com",
                    "allow sts:AssumeRole for the service principal batch.amazonaws.com in its trust policy",
                )
            )
        elif not role.policies:
            causes.append(
                Cause(
                    "service-role",
                    f"service role {name} has no policies",
                    "attach the AWS managed policy AWSBatchServiceRole (service-role/AWSBatchServiceRole)",
                )
            )
    if not causes and any("SERVICE_ROLE" in r or "not authorized" in r.lower() for r in reasons):
        causes.append(
            Cause(
                "service-role",
                "Batch reports service role permission problems: " + "; ".join(r for r in reasons if r),
                "check the compute environments' service role (or the service-linked role AWSServiceRoleForBatch) "
                "has AWSBatchServiceRole and that no SCP or permissions boundary denies it",
            )
        )
    return causes


CHECKS = (
    check_queue,
    check_environments,
    check_size,
    check_max_vcpus,
    check_network,
    check_capacity,
    check_fair_share,
    check_dependencies,
    check_service_role,
)


#: The job statusReason values the Batch API documents, and the cause that explains each (botocore's Batch model,
#: ``JobDetail.statusReason``).
EXPLAINED_BY: dict[str, tuple[str, ...]] = {
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY": ("spot-capacity", "instance-capacity"),
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE": ("max-vcpus", "job-too-large"),
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT": ("job-too-large", "environment-invalid", "environment-disabled"),
    "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS": ("service-role",),
}


def diagnose(facts: Facts) -> list[Cause]:
    """Every cause found, in the order a person would check them.

    The job's own statusReason is reported as a cause of its own unless a check already explains it.
    """
    causes = [cause for check in CHECKS for cause in check(facts)]
    reason = facts.job.get("statusReason", "")
    found = {c.id for c in causes}
    explained = any(reason.startswith(key) and found & set(ids) for key, ids in EXPLAINED_BY.items())
    mentioned = any(reason and reason in c.summary for c in causes)
    if reason and not explained and not mentioned and facts.job["status"] in ("RUNNABLE", "PENDING"):
        causes.append(
            Cause(
                "status-reason",
                f"Batch says: {reason}",
                "see the AWS Batch User Guide, 'Jobs stuck in a RUNNABLE status', for this reason",
            )
        )
    return causes


def run(args: argparse.Namespace, ctx: Context) -> int:
    job = describe(ctx, args.job_id)
    status = job["status"]
    if status not in ("RUNNABLE", "PENDING", "SUBMITTED"):
        ctx.emit(
            {"jobId": job["jobId"], "status": status, "causes": []},
            f"{job['jobId']} is {status}: not stuck waiting to start",
        )
        return 0
    causes = diagnose(gather(ctx.aws, args.job_id, job))
    lines = [f"{job['jobName']} ({job['jobId']}) is {status}; {len(causes)} cause(s) found"]
    for number, cause in enumerate(causes, start=1):
        lines += ["", f"{number}. [{cause.id}] {cause.summary}", f"   fix: {cause.fix}"]
    if not causes:
        lines.append("No known cause found: the job may simply be waiting for instances to start (a few minutes).")
    ctx.emit({"jobId": job["jobId"], "status": status, "causes": [asdict(c) for c in causes]}, "\n".join(lines))
    return 1 if causes else 0


__all__ = ["Cause", "Facts", "diagnose", "gather"]
