"""``batch-constructs logs JOB_ID``: print a job's CloudWatch log stream, optionally following it.

The stream is the one Batch records on the job (``container.logStreamName``, or an attempt's with ``--attempt``); an
array child is ``JOB_ID:N`` and a multi-node parallel job's node ``JOB_ID#N``, as DescribeJobs accepts them. The log
group is the job definition's ``awslogs-group`` option, or Batch's default ``/aws/batch/job``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._aws import EXIT_AWS, CliError
from ._output import timestamp
from .watch import FINAL, describe

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import JobDetailTypeDef

    from . import Context

__all__ = ["DEFAULT_LOG_GROUP", "register", "run", "stream_of"]


#: Where Batch sends a job's logs when its job definition names no log group (AWS Batch User Guide, "awslogs").
DEFAULT_LOG_GROUP = "/aws/batch/job"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "logs", parents=[common], help="a job's CloudWatch log stream (array child JOB_ID:N, node JOB_ID#N)"
    )
    p.add_argument("job_id", help="job id; array child JOB_ID:N; multi-node node JOB_ID#N")
    p.add_argument("--attempt", type=int, help="attempt number, 1 = first (default: the latest)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events until the job ends")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between polls with --follow (default 5)")
    p.add_argument("--log-group", help="log group (default: the job definition's, else /aws/batch/job)")
    p.set_defaults(run=run)


def stream_of(job: JobDetailTypeDef, attempt: int | None) -> str | None:
    """The job's log stream for ``attempt`` (1-based), or the latest one; None when it has none yet."""
    attempts = job.get("attempts", [])
    if attempt is not None:
        if not 1 <= attempt <= len(attempts):
            raise CliError(
                f"job {job['jobId']} has {len(attempts)} finished attempt(s); --attempt {attempt} is not one"
            )
        return attempts[attempt - 1].get("container", {}).get("logStreamName")
    stream = job.get("container", {}).get("logStreamName")
    if stream:
        return stream
    for task in job.get("ecsProperties", {}).get("taskProperties", []):
        for container in task.get("containers", []):
            if container.get("logStreamName"):
                return container["logStreamName"]
    for past in reversed(attempts):
        if past.get("container", {}).get("logStreamName"):
            return past["container"]["logStreamName"]
    return None


def log_group_of(ctx: Context, job: JobDetailTypeDef) -> str:
    """The job definition's ``awslogs-group``, else Batch's default group."""
    definitions = ctx.aws.batch.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])["jobDefinitions"]
    for definition in definitions:
        configs = [definition.get("containerProperties", {}).get("logConfiguration", {})]
        for group in definition.get("nodeProperties", {}).get("nodeRangeProperties", []):
            configs.append(group.get("container", {}).get("logConfiguration", {}))
        for config in configs:
            name = config.get("options", {}).get("awslogs-group")
            if config.get("logDriver") == "awslogs" and name:
                return name
    return DEFAULT_LOG_GROUP


def run(args: argparse.Namespace, ctx: Context) -> int:
    job = describe(ctx, args.job_id)
    if job.get("arrayProperties", {}).get("size") and ":" not in args.job_id:
        size = job["arrayProperties"]["size"]
        raise CliError(f"{args.job_id} is an array job of {size} children: name one, e.g. {args.job_id}:0")
    if job.get("nodeProperties") and "#" not in args.job_id:
        nodes = job["nodeProperties"].get("numNodes", "?")
        raise CliError(f"{args.job_id} is a multi-node job of {nodes} nodes: name one, e.g. {args.job_id}#0")
    group = args.log_group or log_group_of(ctx, job)
    stream = stream_of(job, args.attempt)
    token: str | None = None
    events: list[dict[str, object]] = []
    while True:
        if stream is None:
            if not args.follow or job["status"] in FINAL:
                raise CliError(f"job {args.job_id} ({job['status']}) has no log stream yet", EXIT_AWS)
        else:
            token = _print_events(ctx, group, stream, token, events)
        if not args.follow or job["status"] in FINAL:
            break
        ctx.sleep(args.interval)
        job = describe(ctx, args.job_id)
        if stream is None:
            stream = stream_of(job, args.attempt)
        if job["status"] in FINAL and stream is not None:
            token = _print_events(ctx, group, stream, token, events)
            break
    ctx.emit({"logGroup": group, "logStream": stream, "status": job["status"], "events": events}, "")
    return 0


def _print_events(
    ctx: Context, group: str, stream: str, token: str | None, events: list[dict[str, object]]
) -> str | None:
    """Print every event after ``token``; returns the token to continue from (GetLogEvents' forward token)."""
    logs = ctx.aws.logs
    while True:
        try:
            if token is None:
                page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
            else:
                page = logs.get_log_events(
                    logGroupName=group, logStreamName=stream, startFromHead=True, nextToken=token
                )
        except logs.exceptions.ResourceNotFoundException as exc:
            # The stream appears when the container starts; a missing group is a mistake worth saying.
            raise CliError(f"no log stream {stream} in log group {group} (yet?): {exc}", EXIT_AWS) from exc
        for event in page["events"]:
            message = event.get("message", "").rstrip("\n")
            events.append({"timestamp": event.get("timestamp"), "message": message})
            ctx.line(f"{timestamp(event.get('timestamp'))} {message}")
        new_token = page.get("nextForwardToken")
        # GetLogEvents returns the same forward token once the end of the stream is reached.
        if not page["events"] or new_token == token or new_token is None:
            return new_token or token
        token = new_token
