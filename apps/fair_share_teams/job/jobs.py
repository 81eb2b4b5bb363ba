"""The two teams' jobs on the shared fair-share queue: ``ingest``, ``sweep`` (team ingest), ``aggregate``, ``report``
(team analytics). One image, one module; each job definition runs one subcommand::

    python /app/jobs.py ingest    --bucket Ref::bucket --key Ref::key      # one uploaded CSV (the upload submitter)
    python /app/jobs.py sweep     --bucket Ref::bucket                     # every CSV not yet curated (nightly)
    python /app/jobs.py aggregate --bucket Ref::bucket --shards Ref::shards  # array child i of n (the pipeline)
    python /app/jobs.py report    --bucket Ref::bucket --shards Ref::shards --run Ref::run

Data flow in one bucket (each team's job role may touch only its own prefixes):

* ``incoming/<name>.csv``: uploads, a header with ``event_id``, ``occurred_at``, ``event_type`` and ``value`` (any
  order; other columns are ignored), one event per line.
* ``curated/<sha256 of the upload key>.jsonl``: the upload's valid events, one JSON object per line
  (``event_id``, ``occurred_at`` in UTC, ``event_type``, ``value`` as a decimal string, ``source`` key, ``line``),
  with the upload's ETag in the object metadata ``source-etag``. ``rejects/<same>.jsonl``: every other line with its
  line number and reason. Every non-blank line of an upload is in exactly one of the two, and both are rewritten
  whole on every run, so processing an upload twice (S3 delivers events at least once; the sweep may meet the
  upload's own job) leaves the same two objects.
* ``aggregates/<run>/part-<i>-of-<n>.json``: array child *i* reads every curated object and keeps the events whose
  ``sha256(event_id) mod n`` is *i*, so all copies of one event meet in one child, which counts it once (a duplicate
  across uploads is counted in ``duplicates``; one whose fields differ also in ``conflicts``: the copy of the first
  curated object in key order, then the first line, wins). ``<run>`` is the array job's id.
* ``reports/<run>.json`` and ``reports/latest.json``: count and sum of ``value`` per day and event type, written only
  when every part of the run is there (a missing part fails the report rather than under-counting).

Exit codes: 0 done; 1 failed (the reason is the last log line); 2 usage (a missing or malformed parameter).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger("fair_share_teams")

INCOMING_PREFIX = "incoming/"
CURATED_PREFIX = "curated/"
REJECTS_PREFIX = "rejects/"
AGGREGATES_PREFIX = "aggregates/"
REPORTS_PREFIX = "reports/"
#: Uploads the rule and the sweep take (the rule filters on the same suffix).
UPLOAD_SUFFIX = ".csv"
#: The columns an upload must have.
COLUMNS = ("event_id", "occurred_at", "event_type", "value")

#: A line longer than this is rejected without being held in memory (a real event line is well under 1 KiB).
MAX_LINE_BYTES = 64 * 1024
#: An upload larger than this is refused before it is read (one job is sized for files up to a few GiB).
MAX_OBJECT_BYTES = 5 * 1024**3
#: The job fails (after writing both outputs) when more than this percentage of the data lines is rejected: a file
#: in the wrong format must alert the team, not pass as a file of rejects.
MAX_REJECTED_PERCENT = 10.0
#: Bytes read from S3 at a time.
CHUNK_BYTES = 1024 * 1024
#: Characters of a rejected line kept in the rejects object.
REJECT_TEXT_CHARS = 200

_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_RUN = re.compile(r"[A-Za-z0-9-]{1,128}")
#: Plain decimal or scientific notation in ASCII (Decimal alone would also take "1_000", "Infinity" or Arabic digits).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
#: Values are bounded so that sums stay exact decimals (Decimal's default context has 28 digits).
_MAX_ABS_VALUE = Decimal("1e15")
_MAX_DECIMALS = 6

EXIT_FAILED = 1
EXIT_USAGE = 2


class JobError(Exception):
    """A failure with a message meant for the job's log."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------------------------------------------------ parsing


class _TooLong:
    """A line over :data:`MAX_LINE_BYTES` (its content was dropped while reading)."""

    def __init__(self, size: int) -> None:
        self.size = size


def read_lines(chunks: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | _TooLong]:
    """Split a byte stream into lines (``\\n``, with an optional ``\\r`` before it), holding at most one line.

    A line longer than ``max_line_bytes`` is yielded as a :class:`_TooLong` and its bytes are discarded as they come.
    """
    pending = bytearray()
    dropping = 0  # bytes of an over-long line dropped so far (0: not dropping)
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if dropping:
                dropping += len(piece)
            elif len(pending) + len(piece) > max_line_bytes:
                dropping = len(pending) + len(piece)
                pending.clear()
            else:
                pending += piece
            if end < 0:
                break
            start = end + 1
            if dropping:
                yield _TooLong(dropping)
                dropping = 0
            else:
                yield bytes(pending).removesuffix(b"\r")
                pending.clear()
    if dropping:
        yield _TooLong(dropping)
    elif pending:
        yield bytes(pending).removesuffix(b"\r")


def parse_event(fields: Mapping[str, str]) -> dict[str, str]:
    """One event from its named fields, normalised; raises ValueError with the reason."""
    event_id = fields["event_id"].strip()
    if not _EVENT_ID.fullmatch(event_id):
        raise ValueError(f"event_id {event_id[:40]!r} is not 1-128 letters, digits or . _ : -")
    raw_time = fields["occurred_at"].strip()
    try:
        moment = datetime.fromisoformat(raw_time)
    except ValueError:
        raise ValueError(f"occurred_at {raw_time[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"occurred_at {raw_time[:40]!r} has no time zone (add Z or +00:00)")
    try:
        # isoformat, not strftime: glibc's %Y does not pad years before 1000, and the day is the first 10 characters.
        occurred_at = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    except OverflowError:
        raise ValueError(f"occurred_at {raw_time[:40]!r} is out of range in UTC") from None
    event_type = fields["event_type"].strip().lower()
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ValueError(f"event_type {event_type[:40]!r} is not a letter then up to 63 letters, digits or _")
    raw_value = fields["value"].strip()
    if not _NUMBER.fullmatch(raw_value):
        raise ValueError(f"value {raw_value[:40]!r} is not a number")
    try:
        value = Decimal(raw_value)
    except InvalidOperation:
        raise ValueError(f"value {raw_value[:40]!r} is not a number") from None
    if not value.is_finite() or abs(value) >= _MAX_ABS_VALUE:
        raise ValueError(f"value {raw_value[:40]!r} is not a finite number below 1e15 in magnitude")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_DECIMALS and value != value.quantize(Decimal("1e-6")):
        raise ValueError(f"value {raw_value[:40]!r} has more than {_MAX_DECIMALS} decimal places")
    normalised = value.quantize(Decimal("1e-6")).normalize() if value else Decimal(0)
    return {
        "event_id": event_id,
        "occurred_at": occurred_at,
        "event_type": event_type,
        "value": format(normalised, "f"),
    }


@dataclass
class IngestResult:
    """What one upload became: line counts, and the curated and rejects object bodies (as files)."""

    events: int = 0
    rejected: int = 0
    blank: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_percent(self) -> float:
        lines = self.events + self.rejected
        return 100.0 * self.rejected / lines if lines else 0.0


def ingest_stream(
    chunks: Iterable[bytes], source: str, curated: IO[bytes], rejects: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES
) -> IngestResult:
    """Parse an upload's bytes, writing each event to ``curated`` and each other non-blank line to ``rejects``.

    Raises JobError when the upload has no usable header (empty, not UTF-8, or a required column missing).
    """
    result = IngestResult()
    lines = read_lines(chunks, max_line_bytes)
    header: list[str] | None = None
    header_line = 0
    for number, line in enumerate(lines, start=1):
        if isinstance(line, _TooLong):
            raise JobError(f"{source}: the header (line {number}) is over {max_line_bytes} bytes")
        text = _decode(line, source, number, header=True)
        if text.strip():
            try:
                names = next(csv.reader([text.removeprefix("\ufeff")], strict=True))
            except csv.Error as error:  # a lone carriage return inside the line, an unclosed quote
                raise JobError(f"{source}: the header (line {number}) is not valid CSV ({error})") from None
            header = [name.strip().lower() for name in names]
            header_line = number
            break
    if header is None:
        raise JobError(f"{source}: the file is empty (expected a header with {', '.join(COLUMNS)})")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise JobError(f"{source}: the header lacks {', '.join(missing)} (it has {', '.join(header)[:200]})")
    if len(set(header)) != len(header):
        raise JobError(f"{source}: the header names a column twice ({', '.join(header)[:200]})")
    seen: dict[str, int] = {}

    def reject(number: int, reason: str, text: str) -> None:
        result.rejected += 1
        kind = reason.split(" ", 2)[0] if not reason.startswith("line") else "line"
        result.reasons[kind] = result.reasons.get(kind, 0) + 1
        entry = {"source": source, "line": number, "reason": reason, "text": text[:REJECT_TEXT_CHARS]}
        rejects.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")

    for number, line in enumerate(lines, start=header_line + 1):
        if isinstance(line, _TooLong):
            reject(number, f"line is {line.size} bytes, over the {max_line_bytes}-byte limit", "")
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            reject(number, f"line is not UTF-8 (byte {error.start})", line.decode("utf-8", "replace"))
            continue
        if not text.strip():
            result.blank += 1
            continue
        try:
            row = next(csv.reader([text], strict=True))
        except csv.Error as error:
            reject(number, f"line is not valid CSV ({error})", text)
            continue
        if len(row) != len(header):
            reject(number, f"line has {len(row)} fields, the header {len(header)}", text)
            continue
        try:
            event = parse_event(dict(zip(header, row, strict=True)))
        except ValueError as error:
            reject(number, str(error), text)
            continue
        first = seen.get(event["event_id"])
        if first is not None:
            reject(number, f"event_id {event['event_id']!r} repeats line {first}", text)
            continue
        seen[event["event_id"]] = number
        event.update(source=source, line=str(number))
        curated.write(json.dumps(event, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        result.events += 1
    return result


def _decode(line: bytes, source: str, number: int, *, header: bool) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        what = "the header" if header else "a line"
        raise JobError(f"{source}: {what} (line {number}) is not UTF-8 (byte {error.start})") from None


def output_name(upload_key: str) -> str:
    """The curated/rejects object name of an upload: a hash of its key (any key fits S3's 1,024-byte limit)."""
    return hashlib.sha256(upload_key.encode()).hexdigest() + ".jsonl"


# ------------------------------------------------------------------------------------------------------------- ingest


def _body_chunks(body: Any) -> Iterator[bytes]:
    while chunk := body.read(CHUNK_BYTES):
        yield chunk


def _get_upload(s3: Any, bucket: str, key: str) -> tuple[str, dict[str, Any]]:
    """The key as stored and its GetObject response; an EventBridge key may arrive URL-encoded, so a missing key is
    tried once decoded."""
    for candidate in dict.fromkeys([key, unquote_plus(key)]):
        try:
            return candidate, s3.get_object(Bucket=bucket, Key=candidate)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise JobError(f"s3://{bucket}/{candidate}: {error}") from None
    raise JobError(f"s3://{bucket}/{key} does not exist")


def ingest(s3: Any, bucket: str, key: str, *, max_object_bytes: int = MAX_OBJECT_BYTES) -> IngestResult:
    """Curate one upload: rewrite ``curated/`` and ``rejects/`` for it. Raises JobError on a refused upload and when
    too many lines are rejected (after writing both objects)."""
    if not key.startswith(INCOMING_PREFIX):
        raise JobError(f"key {key[:200]!r} is outside {INCOMING_PREFIX} (the job reads nothing else)", EXIT_USAGE)
    key, response = _get_upload(s3, bucket, key)
    size = int(response.get("ContentLength", 0))
    if size > max_object_bytes:
        response["Body"].close()
        raise JobError(f"s3://{bucket}/{key} is {size} bytes, over the {max_object_bytes}-byte limit of one job")
    etag = str(response.get("ETag", "")).strip('"')
    name = output_name(key)
    with tempfile.TemporaryFile() as curated, tempfile.TemporaryFile() as rejects:
        result = ingest_stream(_body_chunks(response["Body"]), key, curated, rejects)
        # Rejects first, curated last: the sweep treats an upload as done when curated/ holds its ETag, so a job
        # stopped in between is redone.
        for prefix, body, metadata in ((REJECTS_PREFIX, rejects, {}), (CURATED_PREFIX, curated, {"source-etag": etag})):
            body.seek(0)
            s3.upload_fileobj(
                body,
                bucket,
                prefix + name,
                ExtraArgs={"ContentType": "application/x-ndjson", "Metadata": metadata},
            )
    LOG.info(
        "s3://%s/%s: %d events to %s%s, %d lines rejected %s, %d blank",
        bucket,
        key,
        result.events,
        CURATED_PREFIX,
        name,
        result.rejected,
        json.dumps(result.reasons, sort_keys=True),
        result.blank,
    )
    if result.rejected_percent > MAX_REJECTED_PERCENT:
        raise JobError(
            f"s3://{bucket}/{key}: {result.rejected} of {result.events + result.rejected} lines rejected "
            f"({result.rejected_percent:.1f}% > {MAX_REJECTED_PERCENT:g}%); see {REJECTS_PREFIX}{name}"
        )
    return result


def _list(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def sweep(s3: Any, bucket: str) -> tuple[int, int, list[str]]:
    """Curate every upload whose curated object is missing or from another version: (checked, curated, failed keys).

    What the event path missed (an event in the dead-letter queue, a job that failed) is picked up the next night.
    """
    checked, done, failed = 0, 0, []
    for item in _list(s3, bucket, INCOMING_PREFIX):
        key = item["Key"]
        if not key.endswith(UPLOAD_SUFFIX):
            continue
        checked += 1
        etag = str(item.get("ETag", "")).strip('"')
        try:
            head = s3.head_object(Bucket=bucket, Key=CURATED_PREFIX + output_name(key))
            if head.get("Metadata", {}).get("source-etag") == etag:
                continue
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
                raise JobError(f"s3://{bucket}/{CURATED_PREFIX}: {error}") from None
        try:
            ingest(s3, bucket, key)
            done += 1
        except JobError as error:
            LOG.error("%s", error)
            failed.append(key)
    LOG.info("sweep: %d uploads checked, %d curated now, %d failed", checked, done, len(failed))
    return checked, done, failed


# ---------------------------------------------------------------------------------------------------------- analytics


#: A group's sum as ``format(Decimal, "f")`` writes it: ASCII digits, an optional sign and fraction, nothing else.
_SUM: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _count(data: Mapping[str, Any], name: str) -> int:
    """``data[name]`` as a count: a JSON integer, not negative (``bool`` is an ``int`` in Python: refused too)."""
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} {value!r} is not a whole number >= 0")
    return value


def shard_of(event_id: str, shards: int) -> int:
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big") % shards


@dataclass
class Partial:
    """One shard's counts: per (day, event type) the number of events and the sum of their values."""

    records: int = 0
    duplicates: int = 0
    conflicts: int = 0
    invalid: int = 0
    groups: dict[tuple[str, str], tuple[int, Decimal]] = field(default_factory=dict)

    def add(self, day: str, event_type: str, value: Decimal) -> None:
        count, total = self.groups.get((day, event_type), (0, Decimal(0)))
        self.groups[(day, event_type)] = (count + 1, total + value)

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "invalid": self.invalid,
            "groups": [
                {"day": day, "event_type": kind, "count": count, "sum": format(total, "f")}
                for (day, kind), (count, total) in sorted(self.groups.items())
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Partial:
        """The part :meth:`to_json` wrote; anything else is a ``ValueError`` naming the field (``KeyError`` for a
        missing one). The report turns either into its "is malformed" error.

        Strict, because a part is read back from S3: a count that is not a whole number (``int()`` would truncate
        1.9 to 1 and read ``true`` as 1), a sum that is not written as :meth:`to_json` writes it (``Decimal`` would
        also read "1_000", " 1 ", other scripts' digits, "NaN"), or the same (day, event type) twice (the second would
        silently replace the first) would make the report wrong without failing it.
        """
        partial = cls(
            records=_count(data, "records"),
            duplicates=_count(data, "duplicates"),
            conflicts=_count(data, "conflicts"),
            invalid=_count(data, "invalid"),
        )
        groups = data["groups"]
        if not isinstance(groups, list):
            raise ValueError(f"groups is {type(groups).__name__}, not a list")
        for group in groups:
            if not isinstance(group, dict):
                raise ValueError(f"a group is {type(group).__name__}, not an object")
            day, kind = group["day"], group["event_type"]
            if not isinstance(day, str) or not isinstance(kind, str):
                raise ValueError(f"group day {day!r} and event_type {kind!r} must be strings")
            if (day, kind) in partial.groups:
                raise ValueError(f"group ({day}, {kind}) appears twice")
            total = group["sum"]
            if not isinstance(total, str) or not _SUM.fullmatch(total):
                raise ValueError(f"group ({day}, {kind}) sum {total!r} is not a decimal string like '-12.50'")
            count = _count(group, "count")
            if count == 0:
                raise ValueError(f"group ({day}, {kind}) has count 0")
            partial.groups[(day, kind)] = (count, Decimal(total))
        return partial

    def merge(self, other: Partial) -> None:
        self.records += other.records
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.invalid += other.invalid
        for group, (count, total) in other.groups.items():
            mine = self.groups.get(group, (0, Decimal(0)))
            self.groups[group] = (mine[0] + count, mine[1] + total)


def _curated_event(line: bytes) -> dict[str, str] | None:
    """A curated line, checked again (the analytics team trusts no input): None when malformed."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            return None
        event = parse_event({c: data[c] for c in COLUMNS if isinstance(data.get(c), str)})
    except (ValueError, KeyError):
        return None
    return event


def aggregate_shard(lines: Iterable[bytes], index: int, shards: int) -> Partial:
    """Count the events of shard ``index`` among ``lines`` (curated objects in key order), each event id once."""
    partial = Partial()
    seen: dict[str, str] = {}  # event id -> fingerprint of the copy counted
    for line in lines:
        if not line.strip():
            continue
        event = _curated_event(line)
        if event is None:
            partial.invalid += 1
            continue
        event_id = event["event_id"]
        if shard_of(event_id, shards) != index:
            continue
        fingerprint = f"{event['occurred_at']}|{event['event_type']}|{event['value']}"
        counted = seen.get(event_id)
        if counted is not None:
            partial.duplicates += 1
            if counted != fingerprint:
                partial.conflicts += 1
            continue
        seen[event_id] = fingerprint
        partial.records += 1
        partial.add(event["occurred_at"][:10], event["event_type"], Decimal(event["value"]))
    return partial


def part_key(run: str, index: int, shards: int) -> str:
    return f"{AGGREGATES_PREFIX}{run}/part-{index:05d}-of-{shards:05d}.json"


def aggregate(s3: Any, bucket: str, run: str, index: int, shards: int) -> Partial:
    """Array child ``index`` of ``shards``: read every curated object, write this shard's part."""

    def lines() -> Iterator[bytes]:
        for item in sorted(_list(s3, bucket, CURATED_PREFIX), key=lambda i: str(i["Key"])):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"]
            for line in read_lines(_body_chunks(body)):
                yield b"\x00" if isinstance(line, _TooLong) else line  # an over-long curated line counts as invalid

    partial = aggregate_shard(lines(), index, shards)
    data = {"run": run, "shard": index, "shards": shards, **partial.to_json()}
    s3.put_object(
        Bucket=bucket,
        Key=part_key(run, index, shards),
        Body=json.dumps(data, sort_keys=True).encode(),
        ContentType="application/json",
    )
    LOG.info("shard %d of %d: %d events, %d duplicates (%d conflicting), %d invalid lines", index, shards,
             partial.records, partial.duplicates, partial.conflicts, partial.invalid)  # fmt: skip
    return partial


def report(s3: Any, bucket: str, run: str, shards: int) -> dict[str, Any]:
    """Merge the run's parts into ``reports/<run>.json`` and ``reports/latest.json``; every part must be there."""
    total = Partial()
    missing = []
    for index in range(shards):
        try:
            body = s3.get_object(Bucket=bucket, Key=part_key(run, index, shards))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                missing.append(index)
                continue
            raise JobError(f"s3://{bucket}/{part_key(run, index, shards)}: {error}") from None
        try:
            data = json.loads(body)
            if (data["run"], data["shard"], data["shards"]) != (run, index, shards):
                raise ValueError("run, shard or shards differ from its name")
            total.merge(Partial.from_json(data))
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise JobError(f"s3://{bucket}/{part_key(run, index, shards)} is malformed: {error}") from None
    if missing:
        raise JobError(
            f"run {run}: parts {', '.join(map(str, missing[:20]))} of {shards} are missing; no report written "
            "(a partial report would under-count)"
        )
    document = {"run": run, "shards": shards, **total.to_json()}
    body = json.dumps(document, sort_keys=True, indent=1).encode()
    for key in (f"{REPORTS_PREFIX}{run}.json", f"{REPORTS_PREFIX}latest.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    LOG.info("run %s: %d events in %d groups reported", run, total.records, len(total.groups))
    return document


# --------------------------------------------------------------------------------------------------------------- main


def _given(value: str | None) -> bool:
    """False for a missing parameter, including an unsubstituted ``Ref::name``."""
    return bool(value) and not str(value).startswith("Ref::")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="jobs.py", description="The fair-share teams' jobs.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("ingest", "sweep", "aggregate", "report"):
        sub = commands.add_parser(name)
        sub.add_argument("--bucket", required=True)
        if name == "ingest":
            sub.add_argument("--key", required=True)
        if name in ("aggregate", "report"):
            sub.add_argument("--shards", required=True)
            sub.add_argument("--run", default=None, help="default: the array job's id (AWS_BATCH_JOB_ID)")
        if name == "aggregate":
            sub.add_argument("--index", default=None, help="default: AWS_BATCH_JOB_ARRAY_INDEX")
    return parser.parse_args(argv)


def _shards(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 10_000:
        raise JobError(f"--shards {text[:20]!r} is not 1-10000", EXIT_USAGE)
    return int(text)


def run(args: argparse.Namespace, environ: Mapping[str, str], s3: Any) -> int:
    if not _given(args.bucket):
        raise JobError("missing job parameter 'bucket'", EXIT_USAGE)
    if args.command == "ingest":
        if not _given(args.key):
            raise JobError("missing job parameter 'key'", EXIT_USAGE)
        ingest(s3, args.bucket, args.key)
        return 0
    if args.command == "sweep":
        return EXIT_FAILED if sweep(s3, args.bucket)[2] else 0
    shards = _shards(args.shards)
    job_id = environ.get("AWS_BATCH_JOB_ID", "")
    run_id = args.run if _given(args.run) else job_id.split(":")[0]
    if not _RUN.fullmatch(run_id or ""):
        raise JobError(
            f"run id {str(run_id)[:60]!r}: pass --run (letters, digits, -) or run as a Batch job", EXIT_USAGE
        )
    if args.command == "report":
        report(s3, args.bucket, run_id, shards)
        return 0
    raw_index = (
        args.index if args.index is not None else environ.get("AWS_BATCH_JOB_ARRAY_INDEX", "0" if shards == 1 else "")
    )
    if not re.fullmatch(r"[0-9]{1,5}", raw_index) or int(raw_index) >= shards:
        raise JobError(f"array index {raw_index[:20]!r} is not 0-{shards - 1}", EXIT_USAGE)
    aggregate(s3, args.bucket, run_id, int(raw_index), shards)
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the container; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args, os.environ if environ is None else environ, boto3.client("s3"))
    except JobError as error:
        LOG.error("%s", error)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        LOG.error("AWS call failed: %s", error)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
