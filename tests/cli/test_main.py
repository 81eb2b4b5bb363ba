"""The operations CLI (batch_constructs.cli) against moto: status, submit, watch, logs, errors, start-up.

moto's non-Docker Batch ends jobs at once; ``watch`` progressions come from botocore's Stubber (a scripted DescribeJobs
sequence, validated against the Batch API model), and stuck states are set on moto's job objects (``force``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from botocore.stub import Stubber

from batch_constructs.cli import Context, main
from batch_constructs.cli._aws import Aws

from ..helpers import ROOT
from .support import LOG_GROUP, REGION, STACK, Deployed, force


@pytest.fixture
def deployed(shared_stack: Deployed) -> Deployed:
    """The module's stack: each test here submits jobs of its own (or writes their logs) and reads only those back;
    ``status``, which reads the whole region, has a stack per test in ``test_status.py``."""
    return shared_stack


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment, check=False
    )


# ------------------------------------------------------------------------------------------------ start-up, imports


@pytest.fixture(scope="module")
def fresh_process() -> dict[str, list[str]]:
    """What a new Python process has imported after ``main(['--help'])`` (and the help it printed), then after it also
    imports the commands ``why`` and ``cost``. One new interpreter (about 0.4 s) serves both tests below."""
    result = _python(
        "import json, sys\nfrom batch_constructs.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)\n"
        "import batch_constructs.cli, batch_constructs.cli.why, batch_constructs.cli.cost\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs'))\n"
        "print(json.dumps({'aws': loaded, 'cdk': bad}))"
    )
    assert result.returncode == 0, result.stderr
    *help_lines, last = result.stdout.splitlines()
    return {**json.loads(last), "help": help_lines}


def test_cli_imports_no_cdk_or_jsii(fresh_process: dict[str, list[str]]) -> None:
    assert fresh_process["cdk"] == []


def test_help_does_not_import_boto3(fresh_process: dict[str, list[str]]) -> None:
    """``--help`` stays fast: boto3 (about 0.25 s to import here) is imported inside the commands only."""
    assert fresh_process["aws"] == []
    usage = "\n".join(fresh_process["help"])
    assert "status" in usage and "why" in usage


def test_missing_boto3_gives_install_hint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In this process, as in one without boto3: ``import boto3`` fails (the CLI's modules import without it, as
    ``test_help_does_not_import_boto3`` shows)."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    assert main(["--region", "us-east-1", "status"]) == 2
    assert capsys.readouterr().err.strip() == (
        "batch-constructs: the batch-constructs CLI needs boto3: pip install 'batch-constructs[cli]'"
    )


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "batch_constructs", "cost", "--help"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "usage: batch-constructs cost" in result.stdout


# ------------------------------------------------------------------------------------------------------ clear errors


def _no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_region_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_aws_env(monkeypatch, tmp_path)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "batch-constructs: no AWS region configured: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION)\n"
    )


def test_no_credentials_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_aws_env(monkeypatch, tmp_path)
    assert main(["--region", "us-east-1", "why", "abc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("batch-constructs: no AWS credentials found:")
    assert err.count("\n") == 1


def test_aws_error_is_one_line_and_exit_3(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = deployed.run("status", "NoSuchStack")
    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith("batch-constructs: ListStackResources failed: ValidationError:")
    assert err.count("\n") == 1


def test_clients_use_adaptive_retries() -> None:
    aws = Aws(region=REGION)
    for client in (aws.batch, aws.cloudformation, aws.logs, aws.ec2, aws.iam):
        assert client.meta.config.retries["mode"] == "adaptive"
    assert aws.batch.meta.region_name == REGION


# ------------------------------------------------------------------------------------------------------------ submit


@pytest.mark.parametrize("job", ["ImportJob", "Platform/ImportJob", "PlatformImportJob", "PlatformImportJob4D5E6F70"])
def test_submit_resolves_job_definition_and_queue_from_the_stack(deployed: Deployed, job: str) -> None:
    code, out = deployed.run("submit", STACK, job, "-p", "file_path=uploads/2026.zip", "-p", "mode=full")
    assert code == 0
    job_id = out.strip()
    described = deployed.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]
    assert described["jobDefinition"] == deployed.job_definition_arn
    assert described["jobQueue"] == deployed.queue_arn
    assert described["jobName"] == "PlatformImportJob"
    assert described["parameters"] == {"file_path": "uploads/2026.zip", "mode": "full"}


def test_submit_array_job_with_dependency(deployed: Deployed) -> None:
    first = deployed.submit("first")
    code, out = deployed.run(
        "submit", STACK, "ReportJob", "--array-size", "4", "--depends-on", first, "--name", "nightly-report", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    described = deployed.client("batch").describe_jobs(jobs=[doc["jobId"]])["jobs"][0]
    assert described["jobName"] == "nightly-report"
    assert described["arrayProperties"]["size"] == 4
    assert described["dependsOn"] == [{"jobId": first}]


def test_submit_sends_share_identifier_and_priority(deployed: Deployed) -> None:
    """moto ignores fair-share fields, so the request itself is checked with botocore's Stubber."""
    from batch_constructs.cli.submit import build_request

    args = main.__globals__["_parser"]().parse_args(
        ["submit", STACK, "ImportJob", "--share", "teamA", "--priority", "7", "--depends-on", "abc,N_TO_N"]
    )
    request = build_request(args, "queue-arn", "definition-arn", "PlatformImportJob")
    assert request == {
        "jobName": "PlatformImportJob",
        "jobQueue": "queue-arn",
        "jobDefinition": "definition-arn",
        "shareIdentifier": "teamA",
        "schedulingPriorityOverride": 7,
        "dependsOn": [{"jobId": "abc", "type": "N_TO_N"}],
    }
    aws = Aws(region=REGION)
    with Stubber(aws.batch) as stub:
        stub.add_response("submit_job", {"jobName": "PlatformImportJob", "jobId": "j-1"}, dict(request))
        aws.batch.submit_job(**request)
        stub.assert_no_pending_responses()


def test_submit_ambiguous_job_lists_candidates(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = deployed.run("submit", STACK, "Job")
    assert code == 3
    err = capsys.readouterr().err
    assert "'Job' matches several job definitions" in err
    assert "PlatformImportJob4D5E6F70, PlatformReportJob0A1B2C3D" in err


def test_submit_rejects_out_of_range_values_before_calling_aws(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = deployed.run("submit", STACK, "ImportJob", "--array-size", "1", "--priority", "10000")
    assert code == 2
    err = capsys.readouterr().err
    assert "--array-size 1: an array job has 2 to 10,000 children" in err
    assert "--priority 10000: scheduling priority is 0 to 9999" in err


# ------------------------------------------------------------------------------------------------------------- watch


def _job(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "jobName": "import",
        "jobId": "j-1",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/Queue",
        "status": status,
        "startedAt": 0,
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/Import:1",
        **extra,
    }


def _stubbed(responses: list[dict[str, Any]]) -> tuple[Context, Stubber, Any]:
    from io import StringIO

    from .support import Clock

    aws = Aws(region=REGION)
    stub = Stubber(aws.batch)
    for job in responses:
        stub.add_response("describe_jobs", {"jobs": [job]}, {"jobs": ["j-1"]})
    stub.activate()
    clock = Clock()
    return Context(aws=aws, out=StringIO(), sleep=clock.sleep, clock=clock), stub, clock


def test_watch_prints_changes_and_exits_with_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    summary = {"SUCCEEDED": 0, "RUNNING": 2, "RUNNABLE": 2, "FAILED": 0}
    done = {"SUCCEEDED": 4, "RUNNING": 0, "RUNNABLE": 0, "FAILED": 0}
    ctx, stub, clock = _stubbed([
        _job("RUNNABLE"),
        _job("RUNNABLE"),
        _job("RUNNING", arrayProperties={"size": 4, "statusSummary": summary}),
        _job("RUNNING", arrayProperties={"size": 4, "statusSummary": summary}),
        _job("SUCCEEDED", arrayProperties={"size": 4, "statusSummary": done}),
    ])  # fmt: skip
    code = main(["watch", "j-1", "--interval", "30", "--heartbeat", "25"], context=ctx)
    stub.assert_no_pending_responses()
    assert code == 0
    assert clock.slept == [30, 30, 30, 30]
    assert ctx.out.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "import (j-1) on Queue",
        "[    0s] RUNNABLE",
        "[   30s] still RUNNABLE",
        "[ 1m00s] RUNNING attempt 1 children: 2 RUNNABLE, 2 RUNNING of 4",
        "[ 1m30s] still RUNNING, children: 2 RUNNABLE, 2 RUNNING of 4",
        "[ 2m00s] SUCCEEDED children: 4 SUCCEEDED of 4",
    ]


def test_watch_failed_job_exits_1_with_reason_and_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    attempts = [{"container": {"exitCode": 1}}, {"container": {"exitCode": 137}}]
    ctx, _, _ = _stubbed([
        _job("RUNNING"),
        _job("RUNNING", attempts=attempts[:1]),
        _job("FAILED", attempts=attempts, statusReason="Essential container in task exited"),
    ])  # fmt: skip
    assert main(["watch", "j-1"], context=ctx) == 1
    lines = ctx.out.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[1:] == [
        "[    0s] RUNNING attempt 1",
        "[   10s] RUNNING attempt 2",
        "[   20s] FAILED attempt 2 (Essential container in task exited) exit code 137",
    ]


def test_watch_timeout_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ctx, _, _ = _stubbed([_job("RUNNABLE"), _job("RUNNABLE")])
    assert main(["watch", "j-1", "--timeout", "10"], context=ctx) == 4
    assert ctx.out.getvalue().splitlines()[-1] == "[   10s] timeout: the job is still RUNNABLE"  # type: ignore[attr-defined]


def test_watch_against_moto(deployed: Deployed) -> None:
    ok = deployed.submit("ok")
    failed = deployed.submit("bad")
    force(deployed, failed, "FAILED", "Task failed to start")
    assert deployed.run("watch", ok)[0] == 0
    code, out = deployed.run("watch", failed, "--json")
    assert code == 1
    assert json.loads(out)["statusReason"] == "Task failed to start"


def test_watch_unknown_job_exits_3(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert deployed.run("watch", "no-such-job")[0] == 3
    assert "no job no-such-job" in capsys.readouterr().err


# -------------------------------------------------------------------------------------------------------------- logs


def _put_logs(deployed: Deployed, stream: str, messages: list[str]) -> None:
    logs = deployed.client("logs")
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    events = [{"timestamp": 1796160000000 + i * 1000, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)


def test_logs_prints_the_job_stream_from_the_definition_log_group(deployed: Deployed) -> None:
    job_id = deployed.submit("import")
    stream = deployed.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]["container"]["logStreamName"]
    _put_logs(deployed, stream, ["reading uploads/movies.zip", "wrote 120 items"])
    code, out = deployed.run("logs", job_id)
    assert code == 0
    assert out.splitlines() == [
        "2026-12-01 21:20:00Z reading uploads/movies.zip",
        "2026-12-01 21:20:01Z wrote 120 items",
    ]
    code, out = deployed.run("logs", job_id, "--attempt", "1", "--json")
    assert json.loads(out)["logGroup"] == LOG_GROUP
    assert [e["message"] for e in json.loads(out)["events"]] == ["reading uploads/movies.zip", "wrote 120 items"]


def test_logs_of_an_array_child(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    parent = deployed.submit("array", arrayProperties={"size": 2})
    child = f"{parent}:1"
    stream = deployed.client("batch").describe_jobs(jobs=[child])["jobs"][0]["container"]["logStreamName"]
    _put_logs(deployed, stream, ["child 1"])
    assert deployed.run("logs", child) == (0, "2026-12-01 21:20:00Z child 1\n")
    assert deployed.run("logs", parent)[0] == 2
    assert f"is an array job of 2 children: name one, e.g. {parent}:0" in capsys.readouterr().err


def test_logs_follow_waits_for_new_events_until_the_job_ends(deployed: Deployed) -> None:
    job_id = deployed.submit("import")
    stream = deployed.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]["container"]["logStreamName"]
    force(deployed, job_id, "RUNNING")
    _put_logs(deployed, stream, ["started"])
    logs = deployed.client("logs")

    def sleep(seconds: float) -> None:  # the job writes a line and ends while the CLI sleeps
        logs.put_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream, logEvents=[{"timestamp": 1796160005000, "message": "done"}]
        )
        force(deployed, job_id, "SUCCEEDED")

    deployed.clock.sleep = sleep  # type: ignore[method-assign]
    code, out = deployed.run("logs", job_id, "--follow")
    assert code == 0
    assert out.splitlines() == ["2026-12-01 21:20:00Z started", "2026-12-01 21:20:05Z done"]


def test_logs_of_a_multinode_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto has no multi-node jobs: DescribeJobs for ``JOB_ID#N`` and the Logs calls come from Stubber."""
    from io import StringIO

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = Aws(region=REGION)
    node = _job("RUNNING", jobId="j-1#2", container={"logStreamName": "train/default/abc"})
    definition = {
        "jobDefinitionName": "Train", "jobDefinitionArn": node["jobDefinition"], "revision": 1, "type": "multinode",
        "nodeProperties": {"numNodes": 4, "mainNode": 0, "nodeRangeProperties": [{"targetNodes": "0:", "container": {
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/train"}}}}]},
    }  # fmt: skip
    events = {"events": [{"timestamp": 1796160000000, "message": "rank 2 ready\n"}], "nextForwardToken": "f/1"}
    with Stubber(aws.batch) as batch, Stubber(aws.logs) as logs:
        batch.add_response("describe_jobs", {"jobs": [node]}, {"jobs": ["j-1#2"]})
        batch.add_response("describe_job_definitions", {"jobDefinitions": [definition]})
        expected = {"logGroupName": "/train", "logStreamName": "train/default/abc", "startFromHead": True}
        logs.add_response("get_log_events", events, expected)
        logs.add_response("get_log_events", {"events": [], "nextForwardToken": "f/1"}, {**expected, "nextToken": "f/1"})
        out = StringIO()
        assert main(["logs", "j-1#2"], context=Context(aws=aws, out=out)) == 0
    assert out.getvalue() == "2026-12-01 21:20:00Z rank 2 ready\n"


def test_console_script_and_cli_extra_are_declared() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"batch-constructs": "batch_constructs.cli:main"}
    assert project["optional-dependencies"]["cli"] == ["boto3>=1.34"]
    assert "boto3" not in " ".join(project["dependencies"])


def test_cold_start_benchmark_runs() -> None:
    """``benchmarks/cli_startup.py`` (not a timed test: the numbers are in the README and the report)."""
    from benchmarks import cli_startup

    results = cli_startup.measure(repetitions=1, warm_up=False)
    assert set(results) == set(cli_startup.COMMANDS)
    assert "Target `batch-constructs --help` <= 0.3 s wall" in cli_startup.report(results, 1)
