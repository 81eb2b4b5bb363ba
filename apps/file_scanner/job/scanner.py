"""Scan one S3 object (100 MB - 2 GB) for secrets-looking strings; write a result JSON and a status item.

Run by the FileScanner job definition as::

    python /app/scanner.py --bucket Ref::bucket --key Ref::key --version-id Ref::version_id

AWS Batch replaces each ``Ref::name`` with the job parameter ``name`` (the upload trigger passes the bucket, key and
version id of the uploaded object). The job scans exactly that version, even when the key has been overwritten since
(a secret uploaded and then overwritten is still scanned); without a version id (a manual submission) it scans the
current version. The job definition's environment names the outputs: ``RESULTS_BUCKET`` (the result JSON goes to
``results/<key>.v-<version>.json`` there, see :func:`result_key`) and ``STATUS_TABLE`` (one item per scanned object
version, partition key ``<key>?versionId=<version>``, see :func:`status_key`). Optional: ``CHUNK_SIZE`` (bytes read
per S3 request, default 8 MiB), ``MAX_FINDINGS`` (findings kept with their offsets, default 1000; all are counted) and
``SCAN_PATTERNS`` (a JSON list of ``{"name", "regex", "max_length"}`` replacing :data:`DEFAULT_PATTERNS`).

The object is streamed: memory stays at about two chunks whatever the file size. Per object the job computes the
SHA-256, the size, whether it is text (valid UTF-8 without NUL bytes) or binary, the number of lines, and every match
of the patterns with its byte offset (and line, for text). A match that straddles two chunks is found exactly once:
each scan window keeps the last ``max_length + 2 * CONTEXT_BYTES`` bytes of the previous one, and a match is reported
by the window in which it starts and fits completely (see :class:`StreamScanner`).

Status item (partition key ``key``): ``RUNNING`` when the scan starts (with the Batch job id and attempt), then
``SUCCEEDED`` with sha256, size and findings count, or ``FAILED`` with the error, or ``INTERRUPTED`` when the
container is stopped (SIGTERM: Spot reclaim, job timeout or termination; Batch retries a Spot reclaim, and the next
attempt sets ``RUNNING`` again). Results never contain the matched secret itself, only a 4-character prefix.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger("scanner")

#: Bytes read per S3 request and scanned at a time: large enough that per-chunk overhead vanishes, small enough to
#: keep the container's memory flat (about twice this).
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
#: Findings kept with their offsets in the result (all are counted): a file full of matches must not produce a result
#: JSON as large as itself.
DEFAULT_MAX_FINDINGS = 1000
#: Bytes of context kept on each side of a match window, for patterns' lookbehind and lookahead assertions.
CONTEXT_BYTES = 16
#: A pattern's declared max_length may not exceed this (the overlap carried between chunks is about this size).
MAX_PATTERN_LENGTH = 4096
#: Where result JSONs go in the results bucket.
RESULTS_PREFIX = "results/"
#: S3 keys are at most 1,024 bytes of UTF-8.
MAX_S3_KEY_BYTES = 1024
#: Logged progress every this many bytes.
PROGRESS_BYTES = 256 * 1024 * 1024

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 143  # 128 + SIGTERM, what a shell reports for a process stopped by SIGTERM


class ScanError(Exception):
    """A failure with a message meant for the job's log and the status item."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ScanInterrupted(Exception):
    """The container received SIGTERM (Spot reclaim, job timeout, TerminateJob)."""


@dataclass(frozen=True)
class Pattern:
    """A named byte pattern whose matches are at most ``max_length`` bytes long."""

    name: str
    regex: re.Pattern[bytes]
    max_length: int

    @classmethod
    def of(cls, name: str, regex: str | bytes, max_length: int) -> Pattern:
        source = regex.encode() if isinstance(regex, str) else regex
        return cls(name, re.compile(source), max_length)


#: What the scanner looks for by default: credentials that must never sit in an uploaded file.
#: Each regex starts with a literal (``re`` then skips ahead to candidates with a fast search) and checks the byte
#: before the match with a lookbehind placed AFTER that literal: a leading lookbehind disables the fast search and
#: made these patterns about 50 times slower (14 against 720 MiB/s, measured on 20 MiB of log text).
DEFAULT_PATTERNS: tuple[Pattern, ...] = (
    # AWS access key ids: long-term (AKIA) and temporary (ASIA), 20 upper-case letters/digits, not part of a longer
    # token.
    Pattern.of("aws-access-key-id", rb"A[KS]IA(?<![A-Z0-9]A[KS]IA)[A-Z0-9]{16}(?![A-Z0-9])", 20),
    # PEM private key headers (PKCS#1 RSA/DSA/EC, PKCS#8, encrypted PKCS#8, OpenSSH).
    Pattern.of("private-key", rb"-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----", 37),
    # GitHub tokens: ghp_ (personal), gho_, ghu_, ghs_, ghr_ followed by 36 characters.
    Pattern.of("github-token", rb"gh[pousr]_(?<![A-Za-z0-9_]gh[pousr]_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])", 40),
    # Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-).
    Pattern.of("slack-token", rb"xox[abprs]-(?<![A-Za-z0-9-]xox[abprs]-)[A-Za-z0-9-]{10,72}(?![A-Za-z0-9-])", 77),
)


def load_patterns(spec: str | None) -> tuple[Pattern, ...]:
    """The patterns from the ``SCAN_PATTERNS`` JSON, or :data:`DEFAULT_PATTERNS` when it is unset or empty."""
    if not spec or not spec.strip():
        return DEFAULT_PATTERNS
    try:
        entries = json.loads(spec)
    except json.JSONDecodeError as error:
        raise ScanError(f"SCAN_PATTERNS is not valid JSON: {error}", EXIT_USAGE) from error
    if not isinstance(entries, list) or not entries:
        raise ScanError('SCAN_PATTERNS must be a non-empty JSON list of {"name", "regex", "max_length"}', EXIT_USAGE)
    patterns: list[Pattern] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"name", "regex", "max_length"}:
            raise ScanError(
                f"SCAN_PATTERNS[{index}] must have exactly the keys name, regex, max_length; got {entry!r}", EXIT_USAGE
            )
        length = entry["max_length"]
        if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= MAX_PATTERN_LENGTH:
            raise ScanError(
                f"SCAN_PATTERNS[{index}] ({entry['name']}): max_length={length!r}; "
                f"use an integer 1-{MAX_PATTERN_LENGTH}",
                EXIT_USAGE,
            )
        try:
            patterns.append(Pattern.of(str(entry["name"]), str(entry["regex"]), length))
        except re.error as error:
            raise ScanError(f"SCAN_PATTERNS[{index}] ({entry['name']}): invalid regex: {error}", EXIT_USAGE) from error
    return tuple(patterns)


@dataclass
class StreamScanner:
    """Feed the bytes of one object in order with :meth:`feed`, then call :meth:`finish`.

    Windows: each :meth:`feed` scans ``carry + chunk``, where ``carry`` is the tail of the previous window. Matches are
    reported when they start in ``[lo, hi)``: ``lo`` is where the previous window stopped reporting, ``hi`` leaves room
    for the longest match plus ``CONTEXT_BYTES`` of lookahead before the window's end. Everything from
    ``hi - CONTEXT_BYTES`` on becomes the next carry, so a match starting at or after ``hi`` (for instance one that
    straddles the chunk boundary) is seen whole, with its lookbehind context, in the next window. Matches must be at
    most their pattern's ``max_length`` bytes; a longer one is an error of the pattern, not silently cut.
    """

    patterns: Sequence[Pattern] = DEFAULT_PATTERNS
    max_findings: int = DEFAULT_MAX_FINDINGS
    size: int = 0
    newlines: int = 0
    findings_count: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _sha256: Any = field(default_factory=hashlib.sha256)
    _decoder: codecs.IncrementalDecoder = field(default_factory=codecs.getincrementaldecoder("utf-8"))
    _utf8: bool = True
    _nul: bool = False
    _last_byte: bytes = b""
    _carry: bytes = b""
    _carry_start: int = 0  # absolute offset of _carry[0]
    _carry_newlines: int = 0  # newlines before _carry_start
    _reported_to: int = 0  # matches starting before this offset have been handled
    _tail: int = 0  # bytes a match starting at hi may need before the window's end

    def __post_init__(self) -> None:
        self.counts = {p.name: 0 for p in self.patterns}
        longest = max((p.max_length for p in self.patterns), default=0)
        self._tail = longest + CONTEXT_BYTES

    def feed(self, chunk: bytes) -> None:
        """Scan the next ``chunk`` of the object."""
        if not chunk:
            return
        self._sha256.update(chunk)
        self.size += len(chunk)
        self.newlines += chunk.count(b"\n")
        self._last_byte = chunk[-1:]
        if not self._nul and b"\0" in chunk:
            self._nul = True
        # ASCII is valid UTF-8: skip the (slower) decoder unless it holds the start of a multi-byte character
        if self._utf8 and not (chunk.isascii() and not self._decoder.getstate()[0]):
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self._utf8 = False
        window = self._carry + chunk
        hi = self._carry_start + len(window) - self._tail
        if hi <= self._reported_to:  # window still too short to report anything: keep it all
            self._carry = window
            return
        self._scan(window, hi)
        # index in window of the next carry: CONTEXT_BYTES before hi (for lookbehind), never before the window
        keep_from = max(hi - CONTEXT_BYTES - self._carry_start, 0)
        self._carry_newlines += window.count(b"\n", 0, keep_from)
        self._carry = window[keep_from:]
        self._carry_start += keep_from
        self._reported_to = hi

    def finish(self) -> dict[str, Any]:
        """Scan what is left and return the summary (the result JSON's scan fields)."""
        self._scan(self._carry, self._carry_start + len(self._carry))
        self._reported_to = self._carry_start + len(self._carry)
        if self._utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8 = False
        text = self._utf8 and not self._nul
        lines = self.newlines + (1 if self.size and self._last_byte != b"\n" else 0)
        return {
            "size": self.size,
            "sha256": self._sha256.hexdigest(),
            "content": "text" if text else "binary",
            "lines": lines if text else None,
            "findings_count": self.findings_count,
            "findings_by_pattern": dict(self.counts),
            "findings": list(self.findings),
            "findings_truncated": self.findings_count > len(self.findings),
            "patterns": [{"name": p.name, "regex": p.regex.pattern.decode(errors="replace")} for p in self.patterns],
        }

    def _scan(self, window: bytes, hi: int) -> None:
        """Report the matches in ``window`` that start in ``[self._reported_to, hi)``, in offset order."""
        base = self._carry_start
        found: list[tuple[int, int, Pattern, bytes]] = []
        for pattern in self.patterns:
            for match in pattern.regex.finditer(window):
                start = base + match.start()
                if start >= hi:
                    break
                if start < self._reported_to:
                    continue
                text = match.group(0)
                if len(text) > pattern.max_length:
                    raise ScanError(
                        f"pattern {pattern.name!r} matched {len(text)} bytes at offset {start}, more than its "
                        f"max_length {pattern.max_length}: fix the regex or raise max_length",
                        EXIT_USAGE,
                    )
                found.append((start, len(text), pattern, text))
        found.sort(key=lambda f: (f[0], f[2].name))
        line, counted_to = self._carry_newlines + 1, 0
        for start, length, pattern, text in found:
            self.findings_count += 1
            self.counts[pattern.name] += 1
            if len(self.findings) >= self.max_findings:
                continue
            index = start - base
            line += window.count(b"\n", counted_to, index)
            counted_to = index
            self.findings.append(
                {
                    "pattern": pattern.name,
                    "offset": start,
                    "length": length,
                    "line": line,
                    "preview": text[:4].decode("ascii", errors="replace") + "...",
                }
            )


@dataclass(frozen=True)
class Config:
    """Where the results go and how to scan, from the environment."""

    results_bucket: str
    status_table: str
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_findings: int = DEFAULT_MAX_FINDINGS
    patterns: tuple[Pattern, ...] = DEFAULT_PATTERNS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Config:
        missing = [name for name in ("RESULTS_BUCKET", "STATUS_TABLE") if not _given(environ.get(name))]
        if missing:
            raise ScanError(
                f"missing environment variable(s) {', '.join(missing)}: the job definition sets them; "
                "run the job through its job definition",
                EXIT_USAGE,
            )
        chunk_size = _int_env(environ, "CHUNK_SIZE", DEFAULT_CHUNK_SIZE, 1024, 256 * 1024 * 1024)
        max_findings = _int_env(environ, "MAX_FINDINGS", DEFAULT_MAX_FINDINGS, 0, 100_000)
        patterns = load_patterns(environ.get("SCAN_PATTERNS"))
        return cls(environ["RESULTS_BUCKET"], environ["STATUS_TABLE"], chunk_size, max_findings, patterns)


def _int_env(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    # ASCII digits only: int() also reads "1_000" and other scripts' digits
    if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", raw):
        raise ScanError(f"{name}={raw!r} is not an integer; use {low}-{high}", EXIT_USAGE)
    value = int(raw)
    if not low <= value <= high:
        raise ScanError(f"{name}={value} is out of range; use {low}-{high}", EXIT_USAGE)
    return value


def _given(value: str | None) -> bool:
    """False for a missing or empty value and for an unsubstituted ``Ref::name`` placeholder."""
    return bool(value and value.strip()) and not (value or "").startswith("Ref::")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version(value: str | None) -> str | None:
    """A real version id, or None (absent, empty, an unsubstituted ``Ref::``, or S3's ``null`` of an object written
    before versioning was enabled)."""
    if not _given(value) or value in ("null", "None"):
        return None
    return value


def result_key(key: str, version: str | None = None) -> str:
    """Where the result JSON of ``key`` (at ``version``) goes in the results bucket: ``results/<key>.v-<version>.json``
    (``results/<key>.json`` without a version), within S3's 1,024-byte key limit.

    A key too long for that is cut (at a character boundary) and followed by a hash of the key and version, so every
    (key, version) still has its own result; the result JSON names the key and version in full.
    """
    suffix = f".v-{version}.json" if version else ".json"
    full = f"{RESULTS_PREFIX}{key}{suffix}"
    if len(full.encode("utf-8")) <= MAX_S3_KEY_BYTES:
        return full
    tag = "~" + hashlib.sha256(json.dumps([key, version]).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    room = MAX_S3_KEY_BYTES - len(f"{RESULTS_PREFIX}{tag}.json".encode())
    head = key.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
    return f"{RESULTS_PREFIX}{head}{tag}.json"


def status_key(key: str, version: str | None = None) -> str:
    """The status item's partition key: the object key, plus ``?versionId=<version>`` (S3's own notation) when the
    object has a version. DynamoDB allows 2,048 bytes here: a 1,024-byte S3 key and a version id fit."""
    return f"{key}?versionId={version}" if version else key


class StatusTable:
    """The status items: one per scanned object version (see :func:`status_key`), overwritten by a rescan of it."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def running(self, item_key: str, bucket: str, key: str, version: str | None, job: Mapping[str, str]) -> None:
        item = {"key": item_key, "object_key": key, "bucket": bucket, "status": "RUNNING", "started_at": _now()}
        if version:
            item["version_id"] = version
        self.table.put_item(Item={**item, **job})

    def finished(self, key: str, status: str, fields: Mapping[str, Any]) -> None:
        names = {"#status": "status", "#finished_at": "finished_at"}
        values: dict[str, Any] = {":status": status, ":finished_at": _now()}
        assignments = ["#status = :status", "#finished_at = :finished_at"]
        for index, (name, value) in enumerate(fields.items()):
            names[f"#f{index}"] = name
            values[f":f{index}"] = value
            assignments.append(f"#f{index} = :f{index}")
        self.table.update_item(
            Key={"key": key},
            UpdateExpression="SET " + ", ".join(assignments),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _head(s3: Any, bucket: str, key: str, version: str | None = None) -> dict[str, Any] | None:
    request = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    try:
        head: dict[str, Any] = s3.head_object(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "400"):
            return None
        raise
    return head


def locate(s3: Any, bucket: str, key: str, version: str | None = None) -> tuple[str, dict[str, Any]]:
    """The key as stored and the HEAD response of ``version`` (default: the current one). S3 event keys may arrive
    URL-encoded ("a b.bin" as "a+b.bin")."""
    head = _head(s3, bucket, key, version)
    if head is None and unquote_plus(key) != key:
        decoded = unquote_plus(key)
        head = _head(s3, bucket, decoded, version)
        if head is not None:
            key = decoded
    if head is None:
        what = f"version {version} of s3://{bucket}/{key}" if version else f"s3://{bucket}/{key}"
        raise ScanError(f"{what} does not exist (deleted or expired before the job ran, or a wrong key)")
    return key, head


def scan_object(s3: Any, bucket: str, key: str, head: Mapping[str, Any], config: Config) -> dict[str, Any]:
    """Stream the object through a :class:`StreamScanner`; the object's version and ETag pin what was read."""
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if head.get("VersionId"):
        request["VersionId"] = head["VersionId"]
    else:
        request["IfMatch"] = head["ETag"]
    body = s3.get_object(**request)["Body"]
    scanner = StreamScanner(config.patterns, config.max_findings)
    started, next_progress = time.monotonic(), PROGRESS_BYTES
    for chunk in body.iter_chunks(config.chunk_size):
        scanner.feed(chunk)
        if scanner.size >= next_progress:
            rate = scanner.size / max(time.monotonic() - started, 1e-6) / 2**20
            LOG.info("%d MiB scanned (%.0f MiB/s), %d finding(s)", scanner.size >> 20, rate, scanner.findings_count)
            next_progress += PROGRESS_BYTES
    summary = scanner.finish()
    expected = int(head.get("ContentLength", summary["size"]))
    if summary["size"] != expected:
        raise ScanError(f"read {summary['size']} bytes of s3://{bucket}/{key}, expected {expected}: stream cut short")
    summary["duration_seconds"] = round(time.monotonic() - started, 3)
    return summary


def _job_fields(environ: Mapping[str, str]) -> dict[str, str]:
    fields = {"job_id": environ.get("AWS_BATCH_JOB_ID", ""), "attempt": environ.get("AWS_BATCH_JOB_ATTEMPT", "")}
    return {k: v for k, v in fields.items() if v}


def run(
    bucket: str,
    key: str,
    config: Config,
    *,
    s3: Any,
    table: Any,
    environ: Mapping[str, str],
    version: str | None = None,
) -> dict[str, Any]:
    """Scan ``s3://bucket/key`` at ``version`` (default: the current version), write the result JSON and the status
    item; return the result.

    Raises :class:`ScanError` (status ``FAILED`` recorded) or :class:`ScanInterrupted` (``INTERRUPTED`` recorded).
    """
    status = StatusTable(table)
    job = _job_fields(environ)
    try:
        key, head = locate(s3, bucket, key, version)
    except (ClientError, ScanError) as error:
        # a missing object or version, or e.g. AccessDenied: recorded under the key (and version) as given
        failure = error if isinstance(error, ScanError) else ScanError(f"cannot read s3://{bucket}/{key}: {error}")
        fields = {"object_key": key, "bucket": bucket, "error": str(failure), **job}
        status.finished(status_key(key, version), "FAILED", {**fields, **({"version_id": version} if version else {})})
        raise failure from None
    version = _version(head.get("VersionId"))
    item_key = status_key(key, version)
    status.running(item_key, bucket, key, version, job)
    location = result_key(key, version)
    try:
        LOG.info("scanning s3://%s/%s (%d bytes)", bucket, key, int(head.get("ContentLength", 0)))
        summary = scan_object(s3, bucket, key, head, config)
        result = {
            "bucket": bucket,
            "key": key,
            "version_id": head.get("VersionId"),
            "etag": str(head.get("ETag", "")).strip('"'),
            **summary,
            "scanned_at": _now(),
            **job,
        }
        s3.put_object(
            Bucket=config.results_bucket,
            Key=location,
            Body=json.dumps(result, indent=2).encode(),
            ContentType="application/json",
        )
    except ScanInterrupted:
        status.finished(
            item_key, "INTERRUPTED", {"error": "stopped by SIGTERM (Spot reclaim, job timeout or termination)"}
        )
        raise
    except ScanError as error:
        status.finished(item_key, "FAILED", {"error": str(error)})
        raise
    except (ClientError, BotoCoreError) as error:  # e.g. a stream that stalls past botocore's read timeout
        message = f"AWS error while scanning s3://{bucket}/{key}: {error}"
        status.finished(item_key, "FAILED", {"error": message})
        raise ScanError(message) from error
    except Exception as error:
        status.finished(item_key, "FAILED", {"error": f"unexpected {type(error).__name__}: {error}"})
        raise
    status.finished(
        item_key,
        "SUCCEEDED",
        {
            "sha256": result["sha256"],
            "size": result["size"],
            "content": result["content"],
            "findings_count": result["findings_count"],
            "result": f"s3://{config.results_bucket}/{location}",
        },
    )
    LOG.info(
        "s3://%s/%s: %d finding(s) %s, sha256 %s; result in s3://%s/%s",
        bucket,
        key,
        result["findings_count"],
        result["findings_by_pattern"],
        result["sha256"],
        config.results_bucket,
        location,
    )
    return result


def parse_args(argv: Sequence[str]) -> tuple[str | None, str | None, str | None]:
    parser = argparse.ArgumentParser(prog="scanner", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bucket", help="bucket of the object to scan (job parameter 'bucket')")
    parser.add_argument("--key", help="key of the object to scan (job parameter 'key')")
    parser.add_argument("--version-id", help="version to scan (job parameter 'version_id'; default: the current one)")
    args = parser.parse_args(list(argv))
    return args.bucket, args.key, args.version_id


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise ScanInterrupted(f"signal {signum}")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the container; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = os.environ if environ is None else environ
    bucket, key, version = parse_args(sys.argv[1:] if argv is None else argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        config = Config.from_environment(env)
        if not _given(key):
            raise ScanError(
                "missing job parameter 'key': submit with --parameters bucket=...,key=... (a literal 'Ref::key' "
                "means the parameter was not passed)",
                EXIT_USAGE,
            )
        assert key is not None
        table = boto3.resource("dynamodb").Table(config.status_table)
        if not _given(bucket):
            message = "missing job parameter 'bucket': submit with --parameters bucket=...,key=..."
            StatusTable(table).finished(
                status_key(key, _version(version)), "FAILED", {"object_key": key, "error": message, **_job_fields(env)}
            )
            raise ScanError(message, EXIT_USAGE)
        assert bucket is not None
        run(bucket, key, config, s3=boto3.client("s3"), table=table, environ=env, version=_version(version))
    except ScanError as error:
        LOG.error("%s", error)
        return error.exit_code
    except ScanInterrupted:
        LOG.warning("stopped by SIGTERM; status INTERRUPTED recorded (Batch retries a Spot reclaim)")
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def scan_bytes(data: bytes, *, chunk_size: int, patterns: Iterable[Pattern] = DEFAULT_PATTERNS) -> dict[str, Any]:
    """Scan an in-memory ``data`` in ``chunk_size`` pieces (for tests and local checks)."""
    scanner = StreamScanner(tuple(patterns))
    for offset in range(0, len(data), chunk_size):
        scanner.feed(data[offset : offset + chunk_size])
    return scanner.finish()


if __name__ == "__main__":
    sys.exit(main())
