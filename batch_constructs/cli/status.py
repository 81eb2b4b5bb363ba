"""``batch-constructs status [STACK]``: queues, compute environments and job counts.

With STACK, the queues and compute environments that stack created (ListStackResources); without, every queue in the
region. Job counts come from ListJobs, one paginated call per queue and status (Batch has no count API).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._output import table
from ._stack import COMPUTE_ENVIRONMENT, JOB_QUEUE, of_type, stack_resources

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import ComputeEnvironmentDetailTypeDef, JobQueueDetailTypeDef

    from . import Context
    from ._aws import Aws

__all__ = ["STATUSES", "collect", "register", "render", "run"]


#: Every job status, in the order a job moves through them (API_JobDetail).
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = commands.add_parser("status", parents=[common], help="queues, compute environments and job counts by status")
    p.add_argument("stack", nargs="?", help="CloudFormation stack name (default: every queue in the region)")
    p.add_argument(
        "--no-jobs", action="store_true", help="skip the job counts (one ListJobs call per queue and status)"
    )
    p.set_defaults(run=run)


def describe_queues(aws: Aws, arns: list[str] | None) -> list[JobQueueDetailTypeDef]:
    """DescribeJobQueues for ``arns`` (100 per call), or every queue when None."""
    paginator = aws.batch.get_paginator("describe_job_queues")
    if arns is None:
        return [q for page in paginator.paginate() for q in page["jobQueues"]]
    found: list[JobQueueDetailTypeDef] = []
    for i in range(0, len(arns), 100):
        found += [q for page in paginator.paginate(jobQueues=arns[i : i + 100]) for q in page["jobQueues"]]
    return found


def describe_environments(aws: Aws, arns: list[str]) -> list[ComputeEnvironmentDetailTypeDef]:
    """DescribeComputeEnvironments for ``arns`` (100 per call)."""
    paginator = aws.batch.get_paginator("describe_compute_environments")
    found: list[ComputeEnvironmentDetailTypeDef] = []
    for i in range(0, len(arns), 100):
        chunk = arns[i : i + 100]
        found += [c for page in paginator.paginate(computeEnvironments=chunk) for c in page["computeEnvironments"]]
    return found


def job_counts(aws: Aws, queue_arn: str) -> dict[str, int]:
    """How many jobs the queue has in each status (ListJobs keeps finished jobs for about 7 days)."""
    paginator = aws.batch.get_paginator("list_jobs")
    counts: dict[str, int] = {}
    for status in STATUSES:
        pages = paginator.paginate(jobQueue=queue_arn, jobStatus=status)  # type: ignore[arg-type]
        counts[status] = sum(len(page["jobSummaryList"]) for page in pages)
    return counts


def collect(aws: Aws, stack: str | None, with_jobs: bool = True) -> dict[str, list[dict[str, object]]]:
    """The status document (what ``--json`` prints)."""
    environment_arns: list[str] = []
    if stack is None:
        queues = describe_queues(aws, None)
    else:
        resources = stack_resources(aws, stack)
        queues = describe_queues(aws, [r.physical_id for r in of_type(resources, JOB_QUEUE)])
        environment_arns = [r.physical_id for r in of_type(resources, COMPUTE_ENVIRONMENT)]
    for queue in queues:
        for order in queue.get("computeEnvironmentOrder", []):
            if order["computeEnvironment"] not in environment_arns:
                environment_arns.append(order["computeEnvironment"])
    environments = describe_environments(aws, environment_arns) if environment_arns else []
    queue_docs: list[dict[str, object]] = []
    for queue in sorted(queues, key=lambda q: q["jobQueueName"]):
        doc: dict[str, object] = {
            "name": queue["jobQueueName"],
            "arn": queue["jobQueueArn"],
            "state": queue.get("state", "-"),
            "status": queue.get("status", "-"),
            "statusReason": queue.get("statusReason", ""),
            "priority": queue.get("priority"),
            "schedulingPolicyArn": queue.get("schedulingPolicyArn"),
            "computeEnvironments": [
                o["computeEnvironment"].rsplit("/", 1)[-1]
                for o in sorted(queue.get("computeEnvironmentOrder", []), key=lambda o: o["order"])
            ],
        }
        if with_jobs:
            doc["jobs"] = job_counts(aws, queue["jobQueueArn"])
        queue_docs.append(doc)
    environment_docs: list[dict[str, object]] = []
    for env in sorted(environments, key=lambda e: e["computeEnvironmentName"]):
        compute = env.get("computeResources", {})
        environment_docs.append(
            {
                "name": env["computeEnvironmentName"],
                "arn": env["computeEnvironmentArn"],
                "type": compute.get("type", env.get("type", "-")),
                "state": env.get("state", "-"),
                "status": env.get("status", "-"),
                "statusReason": env.get("statusReason", ""),
                "desiredvCpus": compute.get("desiredvCpus"),
                "maxvCpus": compute.get("maxvCpus"),
            }
        )
    return {"queues": queue_docs, "computeEnvironments": environment_docs}


def render(doc: dict[str, list[dict[str, object]]]) -> str:
    """The status document as text tables."""

    def dash(value: object) -> object:
        return "-" if value is None else value

    parts = ["Job queues"]
    queue_rows = [
        [q["name"], q["state"], q["status"], q["priority"], ", ".join(q["computeEnvironments"])]  # type: ignore[arg-type]
        for q in doc["queues"]
    ]
    parts.append(table(["NAME", "STATE", "STATUS", "PRIORITY", "COMPUTE ENVIRONMENTS"], queue_rows) or "(none)")
    parts += ["", "Compute environments"]
    env_rows = [
        [e["name"], e["type"], e["state"], e["status"], dash(e["desiredvCpus"]), dash(e["maxvCpus"])]
        for e in doc["computeEnvironments"]
    ]
    parts.append(table(["NAME", "TYPE", "STATE", "STATUS", "DESIRED vCPUs", "MAX vCPUs"], env_rows))
    reasons = [
        f"  {item['name']}: {item['statusReason']}"
        for item in [*doc["queues"], *doc["computeEnvironments"]]
        if item["status"] not in ("VALID", "-") and item["statusReason"]
    ]
    if reasons:
        parts += ["", "Status reasons", *reasons]
    if doc["queues"] and "jobs" in doc["queues"][0]:
        parts += ["", "Jobs by status"]
        job_rows = [[q["name"], *(q["jobs"][s] for s in STATUSES)] for q in doc["queues"]]  # type: ignore[index]
        parts.append(table(["QUEUE", *STATUSES], job_rows))
    return "\n".join(parts)


def run(args: argparse.Namespace, ctx: Context) -> int:
    doc = collect(ctx.aws, args.stack, with_jobs=not args.no_jobs)
    ctx.emit(doc, render(doc))
    return 0
