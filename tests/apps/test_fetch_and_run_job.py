"""The fetch-and-run runner, in-process against moto S3, running real scripts (as subprocesses)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.fetch_and_run.job import runner

from ..aws_mock import mocked_aws
from ..properties import examples

BUCKET = "scripts-bucket"
PREFIX = f"s3://{BUCKET}/scripts/"

PYTHON_SCRIPT = b"""#!/usr/bin/env python3
import os, sys
print("hello from python:", " ".join(sys.argv[1:]))
print("to stderr", file=sys.stderr)
print("cwd is temporary:", os.getcwd().split(os.sep)[-1].startswith("fetch-and-run-"))
sys.exit(int(os.environ.get("EXIT_WITH", "0")) if len(sys.argv) < 2 else int(sys.argv[-1]))
"""

SHELL_SCRIPT = b"""#!/bin/sh
echo "hello from sh: $# args: $1|$2"
exit 3
"""


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """One mocked S3 with the scripts bucket for the whole module (tests upload under their own keys)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        with mocked_aws():
            client = boto3.client("s3")
            client.create_bucket(Bucket=BUCKET)
            yield client


def upload(s3: Any, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def run(s3: Any, *argv: str, **environ: str) -> int:
    return runner.main(list(argv), s3=s3, environ={"FETCH_AND_RUN_ALLOWED_PREFIX": PREFIX, **environ})


@pytest.mark.parametrize("exit_code", [0, 7])
def test_a_python_script_runs_with_its_arguments_and_its_exit_code_passes_through(
    s3: Any, capfd: pytest.CaptureFixture[str], exit_code: int
) -> None:
    # GIVEN a Python script in the scripts prefix that prints its arguments and exits with the last one
    url = upload(s3, "scripts/hello.py", PYTHON_SCRIPT)
    # WHEN the job runs it with arguments (one of them quoted, as a shell would)
    code = run(s3, "--script", url, "--args", f"'big world' {exit_code}")
    # THEN the script's output reaches the job's output, and its exit code is the job's
    out, err = capfd.readouterr()
    assert code == exit_code
    assert f"hello from python: big world {exit_code}" in out
    assert "cwd is temporary: True" in out
    assert "to stderr" in err


def test_a_shell_script_runs_and_its_failure_code_is_the_jobs(s3: Any, capfd: pytest.CaptureFixture[str]) -> None:
    url = upload(s3, "scripts/nested/hello.sh", SHELL_SCRIPT)
    code = run(s3, "--script", url, "--args", "a 'b c'")
    out, _ = capfd.readouterr()
    assert code == 3
    assert "hello from sh: 2 args: a|b c" in out


@pytest.mark.parametrize("args", [[], ["--args", ""], ["--args", "Ref::args"]])
def test_no_args_parameter_means_no_arguments(s3: Any, capfd: pytest.CaptureFixture[str], args: list[str]) -> None:
    url = upload(s3, "scripts/hello.py", PYTHON_SCRIPT)
    code = run(s3, "--script", url, *args, EXIT_WITH="0")
    out, _ = capfd.readouterr()
    assert code == 0
    assert "hello from python: \n" in out


def test_a_script_over_the_size_limit_is_refused_before_download(
    s3: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a script of 2 KiB and a 1 KiB limit
    url = upload(s3, "scripts/big.sh", b"#!/bin/sh\necho ran\n" + b"#" * 2048 + b"\n")
    # WHEN the job is asked to run it
    code = run(s3, "--script", url, FETCH_AND_RUN_MAX_BYTES="1024")
    # THEN it is refused with a message naming the size and the limit, and never runs
    assert code == runner.EXIT_REFUSED
    assert "over the 1024-byte limit" in caplog.text
    assert "ran" not in capfd.readouterr().out


def test_the_default_size_limit_is_one_mebibyte(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = upload(s3, "scripts/huge.sh", b"#!/bin/sh\n" + b"#" * runner.DEFAULT_MAX_BYTES)
    assert run(s3, "--script", url) == runner.EXIT_REFUSED
    assert f"over the {runner.DEFAULT_MAX_BYTES}-byte limit" in caplog.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://scripts-bucket.s3.amazonaws.com/scripts/hello.sh", "is not an s3:// URL"),
        ("/tmp/hello.sh", "is not an s3:// URL"),
        ("s3://Bad_Bucket/scripts/hello.sh", "is not a valid S3 bucket name"),
        ("s3://scripts-bucket", "names no object"),
        ("s3://scripts-bucket/scripts/", "names no object"),
        ("s3://scripts-bucket/scripts/../secrets.sh", "'..' segments"),
        ("s3://scripts-bucket/scripts/hello.sh?versionId=1", "has a '?' or '#' part"),
        ("s3://other-bucket/scripts/hello.sh", "is outside s3://scripts-bucket/scripts/"),
        ("s3://scripts-bucket/elsewhere/hello.sh", "is outside s3://scripts-bucket/scripts/"),
        ("s3://[scripts-bucket/scripts/hello.sh", "is not a URL (Invalid IPv6 URL)"),
        ("s3://scripts-bucket/scripts/hel\nlo.sh", "contains control characters"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(
    s3: Any, caplog: pytest.LogCaptureFixture, url: str, message: str
) -> None:
    with caplog.at_level(logging.ERROR):
        code = run(s3, "--script", url)
    assert code == runner.EXIT_USAGE
    assert message in caplog.text


@pytest.mark.parametrize("argv", [[], ["--script", "Ref::script"], ["--script", "  "]])
def test_a_missing_script_parameter_is_named(s3: Any, caplog: pytest.LogCaptureFixture, argv: list[str]) -> None:
    assert run(s3, *argv) == runner.EXIT_USAGE
    assert "missing job parameter 'script'" in caplog.text
    assert "--parameters script=s3://" in caplog.text


def test_unbalanced_quotes_in_args_are_refused(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = upload(s3, "scripts/hello.py", PYTHON_SCRIPT)
    assert run(s3, "--script", url, "--args", "'unclosed") == runner.EXIT_USAGE
    assert "job parameter 'args'" in caplog.text


def test_a_missing_object_is_refused(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert run(s3, "--script", f"{PREFIX}absent.sh") == runner.EXIT_REFUSED
    assert "does not exist: upload it first" in caplog.text


def test_a_file_without_an_interpreter_line_is_refused(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = upload(s3, "scripts/no-shebang.sh", b"echo hi\n")
    assert run(s3, "--script", url) == runner.EXIT_REFUSED
    assert "does not start with '#!'" in caplog.text


def test_a_script_running_past_the_timeout_is_stopped(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    url = upload(s3, "scripts/slow.sh", b"#!/bin/sh\nsleep 30\n")
    code = run(s3, "--script", url, FETCH_AND_RUN_TIMEOUT_SECONDS="0.5")
    assert code == runner.EXIT_TIMEOUT
    assert "ran longer than 0.5 s" in caplog.text


def test_a_script_killed_by_a_signal_exits_like_a_shell_reports_it(s3: Any) -> None:
    url = upload(s3, "scripts/killed.sh", b"#!/bin/sh\nkill -9 $$\n")
    assert run(s3, "--script", url) == 128 + 9


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FETCH_AND_RUN_MAX_BYTES", "lots"),
        ("FETCH_AND_RUN_TIMEOUT_SECONDS", "-1"),
        ("FETCH_AND_RUN_MAX_BYTES", "inf"),
        ("FETCH_AND_RUN_MAX_BYTES", "1e400"),
        ("FETCH_AND_RUN_TIMEOUT_SECONDS", "nan"),
        ("FETCH_AND_RUN_MAX_BYTES", "1_000"),  # float() would read 1000
        ("FETCH_AND_RUN_TIMEOUT_SECONDS", "\u0663"),  # an Arabic-Indic 3, which float() reads as 3.0
        ("FETCH_AND_RUN_ALLOWED_PREFIX", f"s3://{BUCKET}/scripts"),  # would also admit s3://.../scripts-other/
        ("FETCH_AND_RUN_ALLOWED_PREFIX", f"{BUCKET}/scripts/"),
    ],
)
def test_invalid_limits_in_the_environment_are_refused(
    s3: Any, caplog: pytest.LogCaptureFixture, name: str, value: str
) -> None:
    url = upload(s3, "scripts/hello.py", PYTHON_SCRIPT)
    assert run(s3, "--script", url, **{name: value}) == runner.EXIT_USAGE
    assert name in caplog.text


def test_without_an_allowed_prefix_any_bucket_the_role_can_read_is_accepted(s3: Any) -> None:
    url = upload(s3, "anywhere/hello.py", PYTHON_SCRIPT)
    assert runner.main(["--script", url, "--args", "5"], s3=s3, environ={}) == 5


URL_PIECES = st.sampled_from(["s3://", "S3://", "https://", PREFIX, BUCKET, "/", "//", ".", "..", "?", "#", "[", "]",
                              "%2F", "scripts/", "hello.sh", " ", "\t", "\n", "\x00", "é", "@", ":"])  # fmt: skip


@settings(max_examples=examples(200), deadline=None, database=None)
@given(
    url=st.lists(URL_PIECES | st.text(max_size=6), max_size=10).map("".join),
    prefix=st.sampled_from([None, PREFIX, "s3://other/"]),
)
def test_any_script_url_is_a_location_that_is_exactly_the_url_or_a_usage_error(url: str, prefix: str | None) -> None:
    try:
        location = runner.parse_url(url, prefix)
    except runner.RunnerError as error:
        assert error.exit_code == runner.EXIT_USAGE and repr(url) in str(error)
        return
    # nothing was silently dropped or decoded: the object fetched is the one named (up to the scheme's case)
    assert location.url == "s3://" + url.split("://", 1)[1]
    assert runner.parse_url(location.url, prefix) == location
    assert prefix is None or location.url.startswith(prefix)
    assert ".." not in location.key.split("/") and "" not in location.key.split("/")


@settings(max_examples=examples(100), deadline=None, database=None)
@given(max_bytes=st.text(max_size=8), timeout=st.text(max_size=8))
def test_any_limits_in_the_environment_are_finite_and_positive_or_a_usage_error(max_bytes: str, timeout: str) -> None:
    environ = {"FETCH_AND_RUN_MAX_BYTES": max_bytes, "FETCH_AND_RUN_TIMEOUT_SECONDS": timeout}
    try:
        limits = runner.Settings.from_environment(environ)
    except runner.RunnerError as error:
        assert error.exit_code == runner.EXIT_USAGE
        return
    assert limits.max_bytes >= 0 and 0 < limits.timeout_seconds < float("inf")
    assert all(text.strip().isascii() for text in (max_bytes, timeout))  # only ASCII numbers (or nothing) are read
