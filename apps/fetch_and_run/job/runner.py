"""Fetch a script from S3 and run it: the generic "fetch and run" Batch job.

Run by the FetchAndRun job definition as::

    python /app/runner.py --script Ref::script --args Ref::args

``script`` is an ``s3://bucket/key`` URL (required); ``args`` is one string split like a shell would (``shlex``),
empty by default. The runner

1. validates the URL (scheme, bucket name, a key that names an object, and - when ``FETCH_AND_RUN_ALLOWED_PREFIX`` is
   set - that it lies under that prefix, the one the job role may read anyway; the prefix must end in ``/``);
2. checks the object's size against ``FETCH_AND_RUN_MAX_BYTES`` (default 1 MiB) before downloading it, and the file's
   size again after;
3. downloads it into a fresh temporary directory, refuses anything that is not a regular file starting with ``#!``
   (the kernel needs the interpreter line to run it), and marks it executable for its owner only;
4. runs it there with the given arguments and a timeout (``FETCH_AND_RUN_TIMEOUT_SECONDS``, default 3000 s, below
   the job's one-hour timeout so that the runner can still report), its standard output and error going straight to
   the job's log;
5. exits with the script's exit code (128 + N when a signal N killed it, 124 on timeout, like ``timeout(1)``).

The runner's own failures use exit codes that a script is unlikely to use: 64 for missing or invalid parameters
(``EX_USAGE``), 65 for a script that is refused or cannot be fetched (``EX_DATAERR``). Each comes with one line
saying what was wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger("fetch_and_run")

#: Largest script the runner downloads (bytes). A script is code, not data: 1 MiB is generous.
DEFAULT_MAX_BYTES = 1024 * 1024
#: Longest the script may run (seconds): below the job definition's one-hour timeout, so the runner can report.
DEFAULT_TIMEOUT_SECONDS = 3000

EXIT_USAGE = 64
EXIT_REFUSED = 65
EXIT_TIMEOUT = 124

#: S3 bucket names: 3-63 characters, lower-case letters, digits, dots and hyphens, starting and ending alphanumeric.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class RunnerError(Exception):
    """A failure of the runner itself (not of the script), with the exit code to report it with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: A number as the limits accept it: ASCII digits, an optional fraction and an optional exponent.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class ScriptLocation:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Settings:
    """Limits, from the environment (the job definition sets them)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    allowed_prefix: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        def number(name: str, default: float) -> float:
            text = environ.get(name, "").strip()
            if not text:
                return default
            # a plain ASCII decimal: float() also reads "1_0", other scripts' digits, "inf" and "nan"
            if not _DECIMAL.fullmatch(text):
                raise RunnerError(f"{name}={text!r} is not a number (digits, an optional '.' and exponent)", EXIT_USAGE)
            value = float(text)
            if not math.isfinite(value) or value <= 0:
                raise RunnerError(f"{name}={text!r} must be a positive number", EXIT_USAGE)
            return value

        prefix = environ.get("FETCH_AND_RUN_ALLOWED_PREFIX") or None
        if prefix is not None and not (prefix.startswith("s3://") and prefix.endswith("/")):
            # a string prefix, as in IAM: without the final '/', s3://bucket/scripts also admits s3://bucket/scripts-x/
            raise RunnerError(
                f"FETCH_AND_RUN_ALLOWED_PREFIX={prefix!r} must be s3://bucket/ or s3://bucket/folder/ (ending in '/')",
                EXIT_USAGE,
            )
        return cls(
            max_bytes=int(number("FETCH_AND_RUN_MAX_BYTES", DEFAULT_MAX_BYTES)),
            timeout_seconds=number("FETCH_AND_RUN_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
            allowed_prefix=prefix,
        )


def _given(value: str | None) -> bool:
    """False for a missing or blank value and for an unsubstituted ``Ref::name`` placeholder."""
    return value is not None and value.strip() != "" and not value.startswith("Ref::")


def parse_url(url: str, allowed_prefix: str | None = None) -> ScriptLocation:
    """The bucket and key of an ``s3://bucket/key`` URL, or a ``RunnerError`` saying what is wrong with it."""
    example = "s3://my-bucket/scripts/hello.sh"
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        # urlsplit would silently drop tabs and newlines (WHATWG rules): the key fetched would not be the one given
        raise RunnerError(f"script {url!r} contains control characters: pass a plain s3://bucket/key URL", EXIT_USAGE)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed '[' in the host part: "Invalid IPv6 URL"
        raise RunnerError(f"script {url!r} is not a URL ({error}): pass e.g. script={example}", EXIT_USAGE) from None
    if parts.scheme != "s3":
        raise RunnerError(f"script {url!r} is not an s3:// URL: pass e.g. script={example}", EXIT_USAGE)
    if parts.query or parts.fragment:
        raise RunnerError(f"script {url!r} has a '?' or '#' part: pass a plain s3://bucket/key URL", EXIT_USAGE)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise RunnerError(f"script {url!r}: {bucket!r} is not a valid S3 bucket name", EXIT_USAGE)
    if not key or key.endswith("/"):
        raise RunnerError(
            f"script {url!r} names no object (the key is empty or a folder): pass e.g. {example}", EXIT_USAGE
        )
    if any(part in ("", ".", "..") for part in PurePosixPath(key).parts) or "//" in key:
        raise RunnerError(f"script {url!r}: the key has empty, '.' or '..' segments", EXIT_USAGE)
    location = ScriptLocation(bucket, key)
    if allowed_prefix and not location.url.startswith(allowed_prefix):
        raise RunnerError(
            f"script {url!r} is outside {allowed_prefix}: this job may only run scripts uploaded there", EXIT_USAGE
        )
    return location


def fetch(s3: Any, location: ScriptLocation, directory: Path, max_bytes: int) -> Path:
    """Download the script into ``directory`` after checking its size; return the executable file."""
    try:
        head = s3.head_object(Bucket=location.bucket, Key=location.key)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise RunnerError(f"script {location.url} does not exist: upload it first", EXIT_REFUSED) from error
        if code in ("403", "AccessDenied", "Forbidden"):
            raise RunnerError(
                f"script {location.url}: access denied (the job may read only its scripts prefix)", EXIT_REFUSED
            ) from error
        raise RunnerError(f"script {location.url}: cannot read it: {error}", EXIT_REFUSED) from error
    size = int(head.get("ContentLength", 0))
    if size > max_bytes:
        raise RunnerError(
            f"script {location.url} is {size} bytes, over the {max_bytes}-byte limit (FETCH_AND_RUN_MAX_BYTES): "
            "keep data out of the script and download it from the script instead",
            EXIT_REFUSED,
        )
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(location.key).name).lstrip(".") or "script"
    path = directory / name
    try:
        s3.download_file(location.bucket, location.key, str(path))
    except ClientError as error:
        raise RunnerError(f"script {location.url}: download failed: {error}", EXIT_REFUSED) from error
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise RunnerError(f"script {location.url} did not download as a regular file", EXIT_REFUSED)
    if info.st_size > max_bytes:  # the object changed between the check and the download
        raise RunnerError(
            f"script {location.url} is {info.st_size} bytes, over the {max_bytes}-byte limit", EXIT_REFUSED
        )
    with path.open("rb") as script:
        if script.read(2) != b"#!":
            raise RunnerError(
                f"script {location.url} does not start with '#!': add an interpreter line such as "
                "'#!/bin/sh' or '#!/usr/bin/env python3'",
                EXIT_REFUSED,
            )
    path.chmod(stat.S_IRWXU)
    return path


def run(path: Path, args: Sequence[str], *, timeout_seconds: float, cwd: Path) -> int:
    """Run the script, its output going to the runner's own standard output and error; return its exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        process = subprocess.Popen([str(path), *args], cwd=cwd, start_new_session=True)
    except OSError as error:
        raise RunnerError(f"cannot start {path.name}: {error}", EXIT_REFUSED) from error
    try:
        code = process.wait(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        LOG.error("%s ran longer than %s s: stopping it (FETCH_AND_RUN_TIMEOUT_SECONDS)", path.name, timeout_seconds)
        _stop(process)
        return EXIT_TIMEOUT
    if code < 0:
        LOG.error("%s was killed by signal %d", path.name, -code)
        return 128 - code
    return code


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the script's process group, then SIGKILL it if it has not gone within 10 seconds."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def parse_args(argv: Sequence[str]) -> tuple[str, list[str]]:
    """The script URL and its arguments."""
    parser = argparse.ArgumentParser(prog="fetch_and_run", description="Fetch a script from S3 and run it.")
    parser.add_argument("--script", help="s3://bucket/key of the script (job parameter 'script')")
    parser.add_argument("--args", default="", help="the script's arguments, split like a shell (job parameter 'args')")
    try:
        options = parser.parse_args(list(argv))
    except SystemExit as exit_:
        if exit_.code == 0:  # --help
            raise
        raise RunnerError("invalid command line (see the usage above)", EXIT_USAGE) from exit_
    if not _given(options.script):
        raise RunnerError(
            "missing job parameter 'script': submit the job with --parameters script=s3://bucket/key "
            "(a literal 'Ref::script' in the command means it was not passed)",
            EXIT_USAGE,
        )
    args_text = options.args if _given(options.args) else ""
    try:
        args = shlex.split(args_text)
    except ValueError as error:
        raise RunnerError(f"job parameter 'args' {args_text!r} cannot be split: {error}", EXIT_USAGE) from error
    return options.script.strip(), args


def main(argv: Sequence[str] | None = None, *, s3: Any = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the container; returns the exit code (the script's, or the runner's own on failure)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_environment(os.environ if environ is None else environ)
        url, args = parse_args(sys.argv[1:] if argv is None else argv)
        location = parse_url(url, settings.allowed_prefix)
        client = s3 if s3 is not None else boto3.client("s3")
        with tempfile.TemporaryDirectory(prefix="fetch-and-run-") as tmp:
            path = fetch(client, location, Path(tmp), settings.max_bytes)
            LOG.info("running %s with %d argument(s)", location.url, len(args))
            code = run(path, args, timeout_seconds=settings.timeout_seconds, cwd=Path(tmp))
    except RunnerError as error:
        LOG.error("%s", error)
        return error.exit_code
    LOG.info("%s exited with %d", location.url, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
