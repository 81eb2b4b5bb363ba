"""``batch-constructs submit STACK JOB``: submit a job whose definition and queue come from the deployed stack.

JOB names the job definition as the app does (construct id or path, logical-id prefix, name or ARN, see
:mod:`batch_constructs.cli._stack`); the queue is the stack's only queue, the one built next to the job, or ``--queue``.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from ._aws import CliError
from ._stack import JOB_DEFINITION, JOB_QUEUE, match, of_type, queue_for, stack_resources

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import JobDependencyTypeDef, SubmitJobRequestTypeDef

    from . import Context

__all__ = ["build_request", "register", "run"]


#: SubmitJob's job name rule (API_SubmitJob): up to 128 letters, digits, hyphens and underscores, first alphanumeric.
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def _dependency(text: str) -> JobDependencyTypeDef:
    job_id, _, kind = text.partition(",")
    if kind and kind not in ("N_TO_N", "SEQUENTIAL"):
        raise argparse.ArgumentTypeError(f"dependency type must be N_TO_N or SEQUENTIAL, got {kind!r}")
    return {"jobId": job_id, "type": kind} if kind else {"jobId": job_id}  # type: ignore[typeddict-item]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "submit", parents=[common], help="submit a job defined in a deployed stack; prints the job id"
    )
    p.add_argument("stack", help="CloudFormation stack name")
    p.add_argument("job", help="job definition: construct id or path, logical id (prefix), name or ARN")
    p.add_argument("--queue", help="job queue in the stack (same matching as JOB); default: the job's queue")
    p.add_argument("--name", help="job name (default: the job definition's construct id)")
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="KEY=VALUE",
        help="a job parameter (Ref::KEY in the command); repeatable",
    )
    p.add_argument("--share", help="share identifier (required on fair-share queues)")
    p.add_argument("--priority", type=int, help="scheduling priority 0-9999 (fair-share queues)")
    p.add_argument("--array-size", type=int, help="array job size, 2-10000")
    p.add_argument(
        "--depends-on",
        action="append",
        type=_dependency,
        default=[],
        metavar="JOB_ID[,N_TO_N|SEQUENTIAL]",
        help="a job this one waits for; repeatable (at most 20)",
    )
    p.set_defaults(run=run)


def build_request(
    args: argparse.Namespace, queue_arn: str, definition_arn: str, default_name: str
) -> SubmitJobRequestTypeDef:
    """The SubmitJob request, checked against the API's limits before it is sent."""
    name = args.name or re.sub(r"[^A-Za-z0-9_-]", "-", default_name)[:128]
    problems: list[str] = []
    if not _JOB_NAME.match(name):
        problems.append(f"job name {name!r}: up to 128 letters, digits, '-' and '_', starting with a letter or digit")
    if args.array_size is not None and not 2 <= args.array_size <= 10_000:
        problems.append(f"--array-size {args.array_size}: an array job has 2 to 10,000 children")
    if args.priority is not None and not 0 <= args.priority <= 9999:
        problems.append(f"--priority {args.priority}: scheduling priority is 0 to 9999")
    if len(args.depends_on) > 20:
        problems.append(f"{len(args.depends_on)} dependencies: a job may depend on at most 20 jobs")
    if problems:
        raise CliError("; ".join(problems))
    request: SubmitJobRequestTypeDef = {"jobName": name, "jobQueue": queue_arn, "jobDefinition": definition_arn}
    if args.parameter:
        request["parameters"] = dict(args.parameter)
    if args.share:
        request["shareIdentifier"] = args.share
    if args.priority is not None:
        request["schedulingPriorityOverride"] = args.priority
    if args.array_size is not None:
        request["arrayProperties"] = {"size": args.array_size}
    if args.depends_on:
        request["dependsOn"] = args.depends_on
    return request


def run(args: argparse.Namespace, ctx: Context) -> int:
    resources = stack_resources(ctx.aws, args.stack)
    definition = match(of_type(resources, JOB_DEFINITION), args.job, "job definition", args.stack)
    queues = of_type(resources, JOB_QUEUE)
    if args.queue and (args.queue.startswith("arn:") or not queues):
        queue_arn = args.queue
    elif args.queue:
        queue_arn = match(queues, args.queue, "job queue", args.stack).physical_id
    else:
        queue_arn = queue_for(queues, definition, args.stack).physical_id
    request = build_request(args, queue_arn, definition.physical_id, args.name or definition.base_id)
    response = ctx.aws.batch.submit_job(**request)
    doc = {
        "jobId": response["jobId"],
        "jobName": response["jobName"],
        "jobArn": response.get("jobArn"),
        "jobQueue": queue_arn,
        "jobDefinition": definition.physical_id,
    }
    ctx.emit(doc, response["jobId"])
    return 0
