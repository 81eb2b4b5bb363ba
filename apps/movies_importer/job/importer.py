"""Movies importer: load a zipped movie-ratings CSV from S3 into a DynamoDB table.

Inputs (each from a command-line option, else from the environment variable):

* ``--bucket`` / ``BUCKET``: the S3 bucket holding the upload;
* ``--file-path`` / ``FILE_PATH``: the object key of the zip in that bucket, e.g. ``uploads/movies.zip``;
* ``--table-name`` / ``TABLE_NAME``: the DynamoDB table (partition key ``movieId``, a number);
* ``--max-malformed-percent`` / ``MAX_MALFORMED_PERCENT``: fail the job above this share of rejected rows
  (default 10);
* ``--progress-every`` / ``PROGRESS_EVERY``: log progress every N data rows (default 1000);
* ``--rejects-prefix`` / ``REJECTS_PREFIX``: where the rejected rows go in the same bucket (default ``rejects/``);
* ``--max-uncompressed-mb`` / ``MAX_UNCOMPRESSED_MB``: the largest CSV accepted, uncompressed (default 1024).

In AWS Batch the job definition's command passes the job parameters as options
(``--file-path Ref::file_path`` ...), so a Step Functions execution or ``aws batch submit-job --parameters`` chooses
the file per run; the environment variables keep the script runnable by hand the way the original was. A value that
is empty, or still the literal ``Ref::name`` (a parameter nobody supplied), counts as missing: the job stops with a
message naming every missing input, instead of printing and carrying on.

The zip must hold exactly one ``.csv`` file (``__MACOSX/`` entries are ignored), UTF-8, with a header row naming at
least these columns, in any order (MovieLens' ``movies.csv`` plus each movie's average rating)::

    movieId,title,genres,rating
    1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy,3.92
    11,"American President, The (1995)",Comedy|Drama|Romance,3.67
    182727,A Christmas Story Live! (2017),(no genres listed),2.5

Each good row becomes one item: ``movieId`` (Number, a positive integer: the partition key), ``title`` (String),
``genres`` (List of Strings, split on ``|``; MovieLens' ``(no genres listed)`` gives an empty list) and ``rating``
(Number, 0 to 5). A later row with the same ``movieId`` replaces the earlier one (counted as a duplicate).

**Every row is either written or rejected with its reason; no row can lose the others.** A row is rejected when it
has the wrong number of fields, a ``movieId`` that is not a positive integer of at most 38 digits, a rating that is
not a number from 0 to 5 that DynamoDB can store (at most 38 significant digits, magnitude 1E-130 to 9.99E+125), an
empty title, a line longer than :data:`MAX_LINE_BYTES`, or an item over DynamoDB's 400 KB item limit. These are
DynamoDB's documented limits ("Supported data types and naming rules", "Service, account, and table quotas"), checked
per row before the row joins a 25-item BatchWriteItem, so that one bad row cannot fail a batch of good ones. The
rejected rows (line number, reason, the row's first 1,000 characters) are written to
``s3://<bucket>/<rejects prefix><file path>.rejects.jsonl`` (one JSON object per line; an empty object when nothing
was rejected, so that the object always describes the latest import of that file), and the first 100 are logged.
The job then fails (exit code 3) only when rejected rows exceed ``MAX_MALFORMED_PERCENT`` of the data rows, because
that many usually means a wrong or corrupted file; the good rows are written either way.

**Whole-file problems are found before anything is written.** The importer reads the CSV twice, streaming both times:
the first pass checks that it is UTF-8, within ``MAX_UNCOMPRESSED_MB`` (the declared size in the zip is checked
first, the bytes actually read are counted too), has the header and parses as CSV to its end (an unterminated quote,
a bare carriage return in an unquoted field); only the second pass writes. A file in another encoding is therefore
a clear error naming the line of the first invalid byte, with no partial import (rejecting rows one by one would
write the rows that happen to be ASCII and drop the rest, which is worse than asking for the file again). Encrypted
zips and compression methods Python cannot read (deflate64, which Windows' "Send to compressed folder" writes for
large files, and others) are refused by name before any row is read. Memory stays bounded whatever the zip holds:
lines are read in 64 KiB pieces and a line longer than :data:`MAX_LINE_BYTES` is skipped (and rejected) without
being kept.

**Re-running is idempotent.** Items are keyed by ``movieId`` and written whole (PutItem semantics), ratings are
normalised (``3.670`` is stored as ``3.67``), duplicates resolve to the last row in file order, and the rejects object
is overwritten: the same upload imported twice gives the same table and the same rejects object. Items of movies that
a later file no longer lists are kept (the importer only adds and replaces).

Exit codes: 0 success; 1 fatal error (missing input, object not found or unreadable, not a zip, an encrypted or
unsupported zip, no or wrong CSV header, not UTF-8, too large, DynamoDB error); 2 invalid command line; 3 too many
rejected rows.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import json
import logging
import math
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException, InvalidOperation
from typing import IO, Any

import boto3
from boto3.dynamodb.types import DYNAMODB_CONTEXT
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger("movies_importer")

#: The columns the header must name (extra columns are allowed and ignored).
REQUIRED_COLUMNS = ("movieId", "title", "genres", "rating")
#: MovieLens' marker for a movie without genres.
NO_GENRES = "(no genres listed)"
MAX_RATING = Decimal(5)

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_MALFORMED = 3

DEFAULT_MAX_MALFORMED_PERCENT = 10.0
DEFAULT_PROGRESS_EVERY = 1000
DEFAULT_REJECTS_PREFIX = "rejects/"
#: The largest CSV accepted, uncompressed. A MovieLens movies.csv is about 3 MB; 1 GiB is hundreds of times that, and
#: still far below what the job's one-hour timeout could import (DynamoDB writes, not reading, bound the run time).
DEFAULT_MAX_UNCOMPRESSED_MB = 1024
#: Malformed rows logged (and kept in the report) one by one; the rest are only counted (all go to the rejects object).
MAX_REPORTED_ROWS = 100
#: A line longer than this is rejected without being kept in memory: more than DynamoDB's 400 KB item limit, and
#: small next to the job's 2 GiB.
MAX_LINE_BYTES = 1024 * 1024
#: DynamoDB's item size limit (attribute names and values, UTF-8).
MAX_ITEM_BYTES = 400 * 1024
#: DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 to 9.99...E+125 (or zero).
MAX_NUMBER_DIGITS = 38
MIN_NUMBER_MAGNITUDE = Decimal("1E-130")
MAX_NUMBER_MAGNITUDE = Decimal("1E126")
#: S3 keys are at most 1,024 bytes of UTF-8.
MAX_S3_KEY_BYTES = 1024
#: Characters of a rejected row kept in the rejects object.
REJECT_TEXT_CHARACTERS = 1000
#: Bytes read from the zip at a time.
READ_BYTES = 64 * 1024
#: Compression methods Python's zipfile reads (stored, deflate, bzip2, lzma); deflate64 (9) and others it cannot.
SUPPORTED_COMPRESSION = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}

_POSITIVE_INT = re.compile(r"[0-9]+")


class ImporterError(Exception):
    """A fatal problem: the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Settings:
    bucket: str
    file_path: str
    table_name: str
    max_malformed_percent: float = DEFAULT_MAX_MALFORMED_PERCENT
    progress_every: int = DEFAULT_PROGRESS_EVERY
    rejects_prefix: str = DEFAULT_REJECTS_PREFIX
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_MB * 1024 * 1024


@dataclass(frozen=True)
class MalformedRow:
    line: int  # line number in the CSV file (the header is line 1)
    reason: str
    text: str  # the row as read, shortened to REJECT_TEXT_CHARACTERS


@dataclass
class ImportReport:
    rows: int = 0  # data rows read (blank lines excluded): always written + malformed
    written: int = 0  # items sent to DynamoDB (duplicates included: the last one wins)
    duplicates: int = 0
    malformed: int = 0  # rejected rows
    malformed_rows: list[MalformedRow] = field(default_factory=list)  # the first MAX_REPORTED_ROWS
    rejects: IO[bytes] | None = None  # every rejected row, one JSON object per line (a temporary file)
    rejects_location: str = ""

    @property
    def malformed_percent(self) -> float:
        return 100.0 * self.malformed / self.rows if self.rows else 0.0


# --------------------------------------------------------------------------------------------------- settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="importer", description="Import a zipped movies CSV from S3 into DynamoDB.")
    parser.add_argument("--bucket", help="S3 bucket (default: $BUCKET)")
    parser.add_argument("--file-path", help="object key of the zip (default: $FILE_PATH)")
    parser.add_argument("--table-name", help="DynamoDB table (default: $TABLE_NAME)")
    parser.add_argument("--max-malformed-percent", help="fail above this share of malformed rows (default: 10)")
    parser.add_argument("--progress-every", help="log progress every N rows (default: 1000)")
    parser.add_argument("--rejects-prefix", help="where rejected rows go in the bucket (default: rejects/)")
    parser.add_argument("--max-uncompressed-mb", help="largest CSV accepted, uncompressed (default: 1024)")
    return parser


def _given(value: str | None) -> str | None:
    """None for an absent value, an empty one, or an unsubstituted Batch ``Ref::name`` placeholder."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.startswith("Ref::"):
        return None
    return value


def load_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Settings from the command line, falling back to the environment. Raises ImporterError naming what is missing."""
    args = _parser().parse_args(list(argv))
    required = {
        "bucket": ("BUCKET", "--bucket", args.bucket),
        "file_path": ("FILE_PATH", "--file-path", args.file_path),
        "table_name": ("TABLE_NAME", "--table-name", args.table_name),
    }
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, (env_name, option, arg) in required.items():
        value = _given(arg) or _given(environ.get(env_name))
        if value is None:
            missing.append(f"{env_name} ({option}, job parameter '{name}')")
        else:
            values[name] = value
    if missing:
        raise ImporterError(
            "missing required input: "
            + ", ".join(missing)
            + ". Set the environment variable or pass the option; in AWS Batch, pass the job parameter (the job "
            "definition's command maps each parameter to its option)."
        )
    max_percent = _number(
        args.max_malformed_percent, environ.get("MAX_MALFORMED_PERCENT"), DEFAULT_MAX_MALFORMED_PERCENT, float
    )
    if not 0 <= max_percent <= 100:
        raise ImporterError(f"MAX_MALFORMED_PERCENT={max_percent:g} is outside 0-100.")
    progress = int(_number(args.progress_every, environ.get("PROGRESS_EVERY"), DEFAULT_PROGRESS_EVERY, int))
    if progress < 1:
        raise ImporterError(f"PROGRESS_EVERY={progress} must be at least 1.")
    max_mb = int(
        _number(args.max_uncompressed_mb, environ.get("MAX_UNCOMPRESSED_MB"), DEFAULT_MAX_UNCOMPRESSED_MB, int)
    )
    if max_mb < 1:
        raise ImporterError(f"MAX_UNCOMPRESSED_MB={max_mb} must be at least 1.")
    rejects_prefix = _given(args.rejects_prefix) or _given(environ.get("REJECTS_PREFIX")) or DEFAULT_REJECTS_PREFIX
    key = values["file_path"].lstrip("/")
    return Settings(
        values["bucket"], key, values["table_name"], max_percent, progress, rejects_prefix.lstrip("/"), max_mb << 20
    )


#: Numbers as the settings accept them: ASCII digits and a sign; for a float also a fraction and an exponent.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def _number(arg: str | None, env: str | None, default: float, kind: type[int] | type[float]) -> float:
    raw = _given(arg) or _given(env)
    if raw is None:
        return default
    # ASCII digits only: int() and float() also read "1_0" and other scripts' digits ("٣" as 3)
    if not (_INTEGER if kind is int else _DECIMAL).fullmatch(raw):
        raise ImporterError(f"{raw!r} is not a valid {kind.__name__}.")
    value = kind(raw)
    if not math.isfinite(value):
        raise ImporterError(f"{raw!r} is not a finite number.")
    return value


# --------------------------------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Columns:
    movie_id: int
    title: int
    genres: int
    rating: int
    count: int


def _read_header(reader: Iterator[list[str]]) -> _Columns:
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as error:
        raise ImporterError(f"the CSV header cannot be parsed ({error}). Nothing was written.") from None
    if header is None:
        raise ImporterError(f"the CSV is empty: no header row. Expected a header naming {', '.join(REQUIRED_COLUMNS)}.")
    names = [cell.strip() for cell in header]
    absent = [c for c in REQUIRED_COLUMNS if c not in names]
    if absent:
        raise ImporterError(
            f"the CSV header {names} lacks {', '.join(absent)}. Expected at least {', '.join(REQUIRED_COLUMNS)}."
        )
    index = names.index
    return _Columns(index("movieId"), index("title"), index("genres"), index("rating"), len(names))


def dynamodb_number(value: Decimal, what: str) -> Decimal:
    """``value`` normalised, or ValueError when DynamoDB cannot store it (digits, magnitude)."""
    if value.is_zero():
        return Decimal(0)
    digits = len("".join(map(str, value.as_tuple().digits)).rstrip("0"))  # significant digits: 3.670 has 3
    magnitude = abs(value)
    if digits > MAX_NUMBER_DIGITS or not MIN_NUMBER_MAGNITUDE <= magnitude < MAX_NUMBER_MAGNITUDE:
        raise ValueError(
            f"{what} cannot be stored in DynamoDB (at most {MAX_NUMBER_DIGITS} significant digits, magnitude "
            "1E-130 to 9.99E+125)"
        )
    try:
        return value.normalize(DYNAMODB_CONTEXT)  # 3.670 -> 3.67; traps any rounding or clamping
    except DecimalException:
        raise ValueError(f"{what} cannot be stored in DynamoDB exactly") from None


def item_size(item: Mapping[str, Any]) -> int:
    """An upper bound of the item's size as DynamoDB counts it (names and values in UTF-8; a number at most 21
    bytes; a list 3 bytes plus 1 per element)."""

    def size(value: Any) -> int:
        if isinstance(value, str):
            return len(value.encode("utf-8"))
        if isinstance(value, (int, Decimal)):
            return 21
        if isinstance(value, list):
            return 3 + sum(size(v) + 1 for v in value)
        raise TypeError(f"unexpected attribute type {type(value).__name__}")

    return sum(len(name.encode("utf-8")) + size(value) for name, value in item.items())


def parse_item(row: Sequence[str], columns: _Columns) -> dict[str, Any]:
    """One CSV row -> one DynamoDB item. Raises ValueError with the reason for a row to reject."""
    if len(row) != columns.count:
        raise ValueError(f"expected {columns.count} fields, got {len(row)}")
    raw_id = row[columns.movie_id].strip()
    if not _POSITIVE_INT.fullmatch(raw_id) or int(raw_id) == 0:
        raise ValueError(f"movieId {raw_id[:50]!r} is not a positive integer")
    movie_id = int(raw_id)
    if len(str(movie_id)) > MAX_NUMBER_DIGITS:
        raise ValueError(f"movieId {raw_id[:50]!r} has more than DynamoDB's {MAX_NUMBER_DIGITS} digits")
    title = row[columns.title].strip()
    if not title:
        raise ValueError("title is empty")
    raw_rating = row[columns.rating].strip()
    try:
        rating = Decimal(raw_rating)
    except (InvalidOperation, ValueError):
        raise ValueError(f"rating {raw_rating[:50]!r} is not a number") from None
    if not rating.is_finite() or not 0 <= rating <= MAX_RATING:
        raise ValueError(f"rating {raw_rating[:50]!r} is not between 0 and {MAX_RATING}")
    rating = dynamodb_number(rating, f"rating {raw_rating[:50]!r}")
    raw_genres = row[columns.genres].strip()
    genres = [] if raw_genres == NO_GENRES else [g.strip() for g in raw_genres.split("|") if g.strip()]
    item = {"movieId": movie_id, "title": title, "genres": genres, "rating": rating}
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValueError(f"the item would be {size} bytes; DynamoDB's item limit is {MAX_ITEM_BYTES} (400 KB)")
    return item


class BoundedLines:
    """The lines of a binary stream as text, each at most ``max_line`` bytes; longer lines are rejected unread.

    Reads ``READ_BYTES`` at a time, so memory is bounded by ``max_line`` whatever the stream holds; a BOM at the start
    is dropped. ``number`` is the physical line number of the last line read (1-based). Raises ImporterError when a
    line is not UTF-8 or the stream holds more than ``max_bytes``.
    """

    def __init__(
        self, raw: IO[bytes], max_line: int, on_overlong: Any, *, max_bytes: int | None = None, where: str = "the CSV"
    ) -> None:
        self.raw, self.max_line, self.on_overlong = raw, max_line, on_overlong
        self.max_bytes, self.where = max_bytes, where
        self.number = 0
        self.size = 0

    def _text(self, line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ImporterError(
                f"{self.where}: the CSV is not UTF-8 (line {self.number}: {error.reason}). Nothing was written. "
                "Save it as UTF-8 and upload it again."
            ) from None

    def __iter__(self) -> Iterator[str]:
        buffer = b""
        skipping = False  # inside an overlong line: drop bytes until its end
        first = True
        while True:
            chunk = self.raw.read(READ_BYTES)
            if first:
                chunk = chunk.removeprefix(codecs.BOM_UTF8)
                first = False
            if not chunk:
                break
            self.size += len(chunk)
            if self.max_bytes is not None and self.size > self.max_bytes:
                raise ImporterError(
                    f"{self.where}: the CSV is larger than MAX_UNCOMPRESSED_MB={self.max_bytes >> 20} uncompressed "
                    "(its zip entry said otherwise). Nothing was written."
                )
            buffer += chunk
            start = 0
            while True:
                end = buffer.find(b"\n", start)
                if end < 0:
                    break
                line, start = buffer[start : end + 1], end + 1
                if skipping:
                    skipping = False
                    continue
                self.number += 1
                if len(line) > self.max_line:
                    self.on_overlong(self.number, line[:REJECT_TEXT_CHARACTERS].decode("utf-8", "replace"))
                    continue
                yield self._text(line)
            buffer = buffer[start:]
            if len(buffer) > self.max_line:
                if not skipping:
                    self.number += 1
                    self.on_overlong(self.number, buffer[:REJECT_TEXT_CHARACTERS].decode("utf-8", "replace"))
                    skipping = True
                buffer = b""
        if buffer and not skipping:
            self.number += 1
            yield self._text(buffer)


def check_file(raw: IO[bytes], where: str, max_bytes: int) -> None:
    """First pass, before anything is written: the whole CSV is UTF-8, within ``max_bytes``, has the header and
    parses as CSV to its end (rows are not validated: a bad row is rejected later, on its own)."""
    lines = BoundedLines(raw, MAX_LINE_BYTES, lambda n, text: None, max_bytes=max_bytes, where=where)
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(lines, strict=True)
    _read_header(reader)
    try:
        for _ in reader:
            pass
    except csv.Error as error:
        raise ImporterError(
            f"{where}: line {lines.number}: the CSV cannot be parsed ({error}). Nothing was written."
        ) from None


def read_items(
    lines: Iterable[str], report: ImportReport, progress_every: int, line_number: Any = None
) -> Iterator[dict[str, Any]]:
    """The good rows of a CSV as items; rejected rows go to ``report`` (and the log) instead.

    ``line_number()`` gives the physical line of the row just read (default: the csv reader's count).
    """
    csv.field_size_limit(MAX_LINE_BYTES)  # a field cannot be longer than its line (the default is 128 KiB)
    reader = csv.reader(lines, strict=True)
    where = line_number or (lambda: reader.line_num)
    columns = _read_header(reader)
    seen: set[int] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. an unterminated quote: the rest of the file cannot be trusted
            raise ImporterError(f"line {where()}: the CSV cannot be parsed further ({error}).") from None
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        try:
            item = parse_item(row, columns)
        except ValueError as error:
            reject(report, where(), str(error), ",".join(row))
        else:
            if item["movieId"] in seen:
                report.duplicates += 1
                LOG.warning("line %d: movieId %d seen before; this row replaces it", where(), item["movieId"])
            seen.add(item["movieId"])
            yield item
        if report.rows % progress_every == 0:
            LOG.info("progress: %d rows read, %d malformed", report.rows, report.malformed)


def reject(report: ImportReport, line: int, reason: str, text: str) -> None:
    """Count a rejected row, log the first MAX_REPORTED_ROWS, and add it to the rejects file."""
    report.malformed += 1
    text = text[:REJECT_TEXT_CHARACTERS]
    if report.rejects is not None:
        record = {"line": line, "reason": reason, "text": text}
        report.rejects.write(json.dumps(record, ensure_ascii=False).encode("utf-8", "replace") + b"\n")
    if report.malformed <= MAX_REPORTED_ROWS:
        report.malformed_rows.append(MalformedRow(line, reason, text))
        LOG.warning("line %d: malformed row skipped: %s: %r", line, reason, text[:200])
    elif report.malformed == MAX_REPORTED_ROWS + 1:
        LOG.warning("more than %d malformed rows: counting the rest without logging each", MAX_REPORTED_ROWS)


# --------------------------------------------------------------------------------------------------- AWS


def _download(s3: Any, bucket: str, key: str, target: IO[bytes]) -> None:
    try:
        s3.download_fileobj(bucket, key, target)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            raise ImporterError(
                f"s3://{bucket}/{key} does not exist. Upload the zip there, or fix FILE_PATH."
            ) from None
        if code == "NoSuchBucket":
            raise ImporterError(f"bucket {bucket!r} does not exist. Fix BUCKET.") from None
        if code in {"403", "AccessDenied"}:
            raise ImporterError(
                f"access denied reading s3://{bucket}/{key}: the job role needs s3:GetObject on it (and kms:Decrypt "
                "if the bucket uses a KMS key)."
            ) from None
        raise ImporterError(f"reading s3://{bucket}/{key} failed: {error}") from None
    except BotoCoreError as error:
        raise ImporterError(f"reading s3://{bucket}/{key} failed: {error}") from None
    target.seek(0)


def _csv_member(archive: zipfile.ZipFile, where: str, max_bytes: int) -> zipfile.ZipInfo:
    """The one CSV in the zip, checked for what would fail later: encryption, compression method, declared size."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".csv") and not info.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        found = ", ".join(info.filename for info in archive.infolist()[:20]) or "nothing"
        raise ImporterError(f"{where} must hold exactly one .csv file; it holds: {found}.")
    member = members[0]
    if member.flag_bits & 0x1:
        raise ImporterError(f"{where}: {member.filename} is encrypted. Upload it zipped without a password.")
    if member.compress_type not in SUPPORTED_COMPRESSION:
        method = "deflate64" if member.compress_type == 9 else f"method {member.compress_type}"
        raise ImporterError(
            f"{where}: {member.filename} is compressed with {method}, which the importer cannot read. Re-zip it with "
            f"one of: {', '.join(SUPPORTED_COMPRESSION.values())} (e.g. `zip movies.zip movies.csv`)."
        )
    if member.file_size > max_bytes:
        raise ImporterError(
            f"{where}: {member.filename} is {member.file_size} bytes uncompressed, above MAX_UNCOMPRESSED_MB="
            f"{max_bytes >> 20}. Split the file, or raise MAX_UNCOMPRESSED_MB."
        )
    LOG.info("reading %s from %s (%d bytes uncompressed)", member.filename, where, member.file_size)
    return member


def _open(archive: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> IO[bytes]:
    try:
        return archive.open(member)
    except (NotImplementedError, RuntimeError) as error:  # a method or encryption the checks above did not catch
        raise ImporterError(f"{where}: {member.filename} cannot be read: {error}") from None


def rejects_key(prefix: str, file_path: str) -> str:
    """Where the rejected rows of ``file_path`` go: ``<prefix><file_path>.rejects.jsonl``, within S3's 1,024 bytes
    (a longer path is cut and made unique with a hash of the whole path)."""
    suffix = ".rejects.jsonl"
    key = f"{prefix}{file_path}{suffix}"
    if len(key.encode("utf-8")) <= MAX_S3_KEY_BYTES:
        return key
    tag = "-" + hashlib.sha256(file_path.encode("utf-8")).hexdigest()[:16]
    room = MAX_S3_KEY_BYTES - len(f"{prefix}{tag}{suffix}".encode())
    head = file_path.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{head}{tag}{suffix}"


def _write_rejects(s3: Any, settings: Settings, report: ImportReport) -> None:
    assert report.rejects is not None
    key = rejects_key(settings.rejects_prefix, settings.file_path)
    report.rejects.seek(0)
    try:
        s3.upload_fileobj(report.rejects, settings.bucket, key, ExtraArgs={"ContentType": "application/x-ndjson"})
    except (ClientError, BotoCoreError) as error:
        raise ImporterError(
            f"the import finished, but writing the rejected rows to s3://{settings.bucket}/{key} failed: {error}. "
            "The job role needs s3:PutObject there."
        ) from None
    report.rejects_location = f"s3://{settings.bucket}/{key}"


def import_movies(s3: Any, table: Any, settings: Settings) -> ImportReport:
    """Download, check, unzip, parse and batch-write; write the rejects object. Raises ImporterError on fatal
    problems (those found by the checks before any write)."""
    where = f"s3://{settings.bucket}/{settings.file_path}"
    report = ImportReport()
    with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as rejects:
        # on disk, not in memory: exports can be larger than the job's RAM
        report.rejects = rejects
        LOG.info("downloading %s", where)
        _download(s3, settings.bucket, settings.file_path, spool)
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile:
            raise ImporterError(f"{where} is not a zip archive. Upload the CSV zipped.") from None
        with archive:
            member = _csv_member(archive, where, settings.max_uncompressed_bytes)
            try:
                with _open(archive, member, where) as raw:
                    check_file(raw, where, settings.max_uncompressed_bytes)
                with _open(archive, member, where) as raw:
                    lines = BoundedLines(raw, MAX_LINE_BYTES, lambda n, text: _overlong(report, n, text))
                    with table.batch_writer(overwrite_by_pkeys=["movieId"]) as writer:
                        for item in read_items(lines, report, settings.progress_every, lambda: lines.number):
                            writer.put_item(Item=item)
                            report.written += 1
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                hint = " Fix TABLE_NAME." if code == "ResourceNotFoundException" else ""
                raise ImporterError(f"writing to table {settings.table_name!r} failed: {error}.{hint}") from None
            except (BotoCoreError, zipfile.BadZipFile, EOFError, OSError) as error:
                raise ImporterError(f"importing {where} failed: {error}") from None
        _write_rejects(s3, settings, report)
        report.rejects = None
    return report


def _overlong(report: ImportReport, line: int, text: str) -> None:
    report.rows += 1
    reject(report, line, f"the line is longer than {MAX_LINE_BYTES} bytes", text)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    s3: Any = None,
    dynamodb: Any = None,
) -> int:
    """Run the import and return the exit code (see the module docstring). Clients default to boto3's."""
    env = os.environ if environ is None else environ
    try:
        settings = load_settings(sys.argv[1:] if argv is None else argv, env)
    except SystemExit as exit_:  # argparse: it has printed the usage message
        return EXIT_USAGE if exit_.code else EXIT_OK
    except ImporterError as error:
        LOG.error("%s", error)
        return EXIT_FATAL
    s3 = s3 if s3 is not None else boto3.client("s3")
    dynamodb = dynamodb if dynamodb is not None else boto3.resource("dynamodb")
    try:
        report = import_movies(s3, dynamodb.Table(settings.table_name), settings)
    except ImporterError as error:
        LOG.error("import failed: %s", error)
        return EXIT_FATAL
    LOG.info(
        "done: %d rows read, %d items written to %s (%d duplicate movieIds), %d malformed rows skipped (listed in %s)",
        report.rows,
        report.written,
        settings.table_name,
        report.duplicates,
        report.malformed,
        report.rejects_location,
    )
    if report.malformed_percent > settings.max_malformed_percent:
        LOG.error(
            "%d of %d rows (%.1f%%) were malformed, above MAX_MALFORMED_PERCENT=%g: the good rows were written, but "
            "the file needs a look (see the lines logged above).",
            report.malformed,
            report.rows,
            report.malformed_percent,
            settings.max_malformed_percent,
        )
        return EXIT_TOO_MANY_MALFORMED
    return EXIT_OK


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
