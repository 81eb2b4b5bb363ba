"""Movies importer: load a zipped movie-ratings CSV from S3 into a DynamoDB table.

Inputs (each from a command-line option, else from the environment variable):

* ``--bucket`` / ``BUCKET``: the S3 bucket holding the upload;
* ``--file-path`` / ``FILE_PATH``: the object key of the zip in that bucket, e.g. ``uploads/movies.zip``;
* ``--table-name`` / ``TABLE_NAME``: the DynamoDB table (partition key ``movieId``, a number);
* ``--max-malformed-percent`` / ``MAX_MALFORMED_PERCENT``: fail the job above this share of malformed rows
  (default 10);
* ``--progress-every`` / ``PROGRESS_EVERY``: log progress every N data rows (default 1000).

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

Malformed rows (wrong number of fields, a ``movieId`` that is not a positive integer, a rating that is not a number in
0-5, an empty title) are logged with their line number and skipped; every good row is still written. The job then
fails (exit code 3) only when malformed rows exceed ``MAX_MALFORMED_PERCENT`` of the data rows, because that many
usually means a wrong or corrupted file that someone should look at; the good rows are written either way, and a
re-run rewrites the same items (idempotent). A header-only CSV imports nothing and succeeds.

Exit codes: 0 success; 1 fatal error (missing input, object not found or unreadable, not a zip, no or wrong CSV
header, DynamoDB error); 2 invalid command line; 3 too many malformed rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import boto3
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
#: Malformed rows logged (and kept in the report) one by one; the rest are only counted.
MAX_REPORTED_ROWS = 100

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


@dataclass(frozen=True)
class MalformedRow:
    line: int  # line number in the CSV file (the header is line 1)
    reason: str
    text: str  # the row as read, shortened to 200 characters


@dataclass
class ImportReport:
    rows: int = 0  # data rows read (blank lines excluded)
    written: int = 0  # items sent to DynamoDB (duplicates included: the last one wins)
    duplicates: int = 0
    malformed: int = 0
    malformed_rows: list[MalformedRow] = field(default_factory=list)  # the first MAX_REPORTED_ROWS

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
    key = values["file_path"].lstrip("/")
    return Settings(values["bucket"], key, values["table_name"], max_percent, progress)


def _number(arg: str | None, env: str | None, default: float, kind: type[int] | type[float]) -> float:
    raw = _given(arg) or _given(env)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImporterError(f"{raw!r} is not a valid {kind.__name__}.") from None
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
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(reader, None)
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


def parse_item(row: Sequence[str], columns: _Columns) -> dict[str, Any]:
    """One CSV row -> one DynamoDB item. Raises ValueError with the reason for a malformed row."""
    if len(row) != columns.count:
        raise ValueError(f"expected {columns.count} fields, got {len(row)}")
    raw_id = row[columns.movie_id].strip()
    if not _POSITIVE_INT.fullmatch(raw_id) or int(raw_id) == 0:
        raise ValueError(f"movieId {raw_id!r} is not a positive integer")
    title = row[columns.title].strip()
    if not title:
        raise ValueError("title is empty")
    raw_rating = row[columns.rating].strip()
    try:
        rating = Decimal(raw_rating)
    except InvalidOperation:
        raise ValueError(f"rating {raw_rating!r} is not a number") from None
    if not rating.is_finite() or not 0 <= rating <= MAX_RATING:
        raise ValueError(f"rating {raw_rating!r} is not between 0 and {MAX_RATING}")
    raw_genres = row[columns.genres].strip()
    genres = [] if raw_genres == NO_GENRES else [g.strip() for g in raw_genres.split("|") if g.strip()]
    return {"movieId": int(raw_id), "title": title, "genres": genres, "rating": rating}


def read_items(lines: Iterable[str], report: ImportReport, progress_every: int) -> Iterator[dict[str, Any]]:
    """The good rows of a CSV as items; malformed rows go to ``report`` (and the log) instead."""
    reader = csv.reader(lines, strict=True)
    columns = _read_header(reader)
    seen: set[int] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. an unterminated quote: the rest of the file cannot be trusted
            raise ImporterError(f"line {reader.line_num}: the CSV cannot be parsed further ({error}).") from None
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        try:
            item = parse_item(row, columns)
        except ValueError as error:
            _report_malformed(report, reader.line_num, str(error), row)
        else:
            if item["movieId"] in seen:
                report.duplicates += 1
                LOG.warning("line %d: movieId %d seen before; this row replaces it", reader.line_num, item["movieId"])
            seen.add(item["movieId"])
            yield item
        if report.rows % progress_every == 0:
            LOG.info("progress: %d rows read, %d malformed", report.rows, report.malformed)


def _report_malformed(report: ImportReport, line: int, reason: str, row: Sequence[str]) -> None:
    report.malformed += 1
    if report.malformed <= MAX_REPORTED_ROWS:
        text = ",".join(row)[:200]
        report.malformed_rows.append(MalformedRow(line, reason, text))
        LOG.warning("line %d: malformed row skipped: %s: %r", line, reason, text)
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


def _open_csv(archive: zipfile.ZipFile, where: str) -> IO[bytes]:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".csv") and not info.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        found = ", ".join(info.filename for info in archive.infolist()) or "nothing"
        raise ImporterError(f"{where} must hold exactly one .csv file; it holds: {found}.")
    LOG.info("reading %s from %s (%d bytes uncompressed)", members[0].filename, where, members[0].file_size)
    return archive.open(members[0])


def import_movies(s3: Any, table: Any, settings: Settings) -> ImportReport:
    """Download, unzip, parse and batch-write. Raises ImporterError on fatal problems."""
    where = f"s3://{settings.bucket}/{settings.file_path}"
    report = ImportReport()
    with tempfile.TemporaryFile() as spool:  # on disk, not in memory: exports can be larger than the job's RAM
        LOG.info("downloading %s", where)
        _download(s3, settings.bucket, settings.file_path, spool)
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile:
            raise ImporterError(f"{where} is not a zip archive. Upload the CSV zipped.") from None
        with archive, _open_csv(archive, where) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            try:
                with table.batch_writer(overwrite_by_pkeys=["movieId"]) as writer:
                    for item in read_items(text, report, settings.progress_every):
                        writer.put_item(Item=item)
                        report.written += 1
            except UnicodeDecodeError as error:
                raise ImporterError(f"{where}: the CSV is not UTF-8 ({error}).") from None
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                hint = " Fix TABLE_NAME." if code == "ResourceNotFoundException" else ""
                raise ImporterError(f"writing to table {settings.table_name!r} failed: {error}.{hint}") from None
            except (BotoCoreError, zipfile.BadZipFile) as error:
                raise ImporterError(f"importing {where} failed: {error}") from None
    return report


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
        "done: %d rows read, %d items written to %s (%d duplicate movieIds), %d malformed rows skipped",
        report.rows,
        report.written,
        settings.table_name,
        report.duplicates,
        report.malformed,
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
