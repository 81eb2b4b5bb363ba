"""``batch-constructs watch JOB_ID``: follow a job to its end; the exit code is the job's outcome.

Each poll is one DescribeJobs call. A line is printed when something changes (status, attempts, array children by
status, a multi-node job's nodes), and otherwise a heartbeat line every ``--heartbeat`` seconds so that long work
shows it is alive. Plain text, one line per event: it reads the same in a terminal, a CI log or a file.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._aws import EXIT_AWS, CliError
from ._output import duration

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import JobDetailTypeDef

    from . import Context

__all__ = ["EXIT_TIMEOUT", "FINAL", "describe", "register", "run"]


FINAL = ("SUCCEEDED", "FAILED")
#: Exit code when ``--timeout`` expires before the job ends.
EXIT_TIMEOUT = 4
_ORDER = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "watch", parents=[common], help="follow a job until it ends; exit code 0 SUCCEEDED, 1 FAILED"
    )
    p.add_argument("job_id", help="job id (an array child is JOB_ID:N, a multi-node node JOB_ID#N)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between polls (default 10)")
    p.add_argument("--heartbeat", type=float, default=60.0, help="seconds between progress lines when nothing changes")
    p.add_argument("--timeout", type=float, help="give up after this many seconds (exit 4); default: never")
    p.set_defaults(run=run)


def describe(ctx: Context, job_id: str) -> JobDetailTypeDef:
    jobs = ctx.aws.batch.describe_jobs(jobs=[job_id])["jobs"]
    if not jobs:
        raise CliError(f"no job {job_id} (DescribeJobs finds jobs for about 7 days after they end)", EXIT_AWS)
    return jobs[0]


def children(job: JobDetailTypeDef) -> str:
    """``8 SUCCEEDED, 2 RUNNING`` for an array job, empty otherwise."""
    summary = job.get("arrayProperties", {}).get("statusSummary", {})
    parts = [f"{summary[s]} {s}" for s in _ORDER if summary.get(s)]
    size = job.get("arrayProperties", {}).get("size")
    return f"{', '.join(parts)} of {size}" if parts and size else ""


def snapshot(job: JobDetailTypeDef) -> tuple[str, int, str, str]:
    """What a change is measured on: status, attempt count, array children, status reason."""
    return (job["status"], len(job.get("attempts", [])), children(job), job.get("statusReason", ""))


def describe_line(job: JobDetailTypeDef, elapsed: float, previous: tuple[str, int, str, str] | None) -> str:
    status, attempts, kids, reason = snapshot(job)
    words = [f"[{duration(elapsed):>6}]", status]
    if status in ("STARTING", "RUNNING") or (status in FINAL and attempts):
        # DescribeJobs lists an attempt once it has ended: the running one is the next number.
        words.append(f"attempt {attempts if status in FINAL else attempts + 1}")
    if kids:
        words.append(f"children: {kids}")
    if reason and (previous is None or previous[3] != reason):
        words.append(f"({reason})")
    if status in FINAL:
        exit_codes = [a.get("container", {}).get("exitCode") for a in job.get("attempts", [])]
        codes = [str(c) for c in exit_codes if c is not None]
        if codes:
            words.append(f"exit code {codes[-1]}")
    return " ".join(w for w in words if w)


def outcome(status: str) -> int:
    """0 for SUCCEEDED, 1 for FAILED."""
    return 0 if status == "SUCCEEDED" else 1


def run(args: argparse.Namespace, ctx: Context) -> int:
    start = ctx.clock()
    last_line_at = start
    previous: tuple[str, int, str, str] | None = None
    history: list[dict[str, object]] = []
    while True:
        job = describe(ctx, args.job_id)
        now = ctx.clock()
        current = snapshot(job)
        if previous is None:
            ctx.line(f"{job['jobName']} ({job['jobId']}) on {job['jobQueue'].rsplit('/', 1)[-1]}")
        if current != previous:
            ctx.line(describe_line(job, now - start, previous))
            history.append({"elapsedSeconds": round(now - start, 1), "status": current[0], "children": current[2]})
            last_line_at = now
        elif now - last_line_at >= args.heartbeat:
            ctx.line(
                f"[{duration(now - start):>6}] still {current[0]}" + (f", children: {current[2]}" if current[2] else "")
            )
            last_line_at = now
        previous = current
        if current[0] in FINAL:
            code = outcome(current[0])
            ctx.emit({"jobId": job["jobId"], "status": current[0], "statusReason": current[3], "history": history}, "")
            return code
        if args.timeout is not None and now - start >= args.timeout:
            ctx.line(f"[{duration(now - start):>6}] timeout: the job is still {current[0]}")
            ctx.emit({"jobId": job["jobId"], "status": current[0], "timedOut": True, "history": history}, "")
            return EXIT_TIMEOUT
        ctx.sleep(args.interval)
