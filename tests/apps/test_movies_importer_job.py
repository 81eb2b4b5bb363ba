"""The movies importer's job code, run in-process against moto's S3 and DynamoDB with a real zip of a real CSV."""

from __future__ import annotations

import csv
import io
import json
import logging
import tracemalloc
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from apps.movies_importer.job import importer

from ..aws_mock import mocked_aws_for_module, on_demand_table, reset_backends

BUCKET = "movies-uploads"
KEY = "uploads/movies.zip"
TABLE = "Movies"
GENRES = ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Drama", "Fantasy", "Romance", "Sci-Fi"]
GOOD_ROWS = 300

# (row as written, reason the importer must give). Titles with commas and quotes are GOOD rows (see good_rows).
MALFORMED: list[tuple[list[str], str]] = [
    (["9001", "Too Few Fields (1999)", "Drama"], "expected 4 fields, got 3"),
    (["9002", "Too Many Fields (1999)", "Drama", "3.5", "extra"], "expected 4 fields, got 5"),
    (["abc", "Letters For An Id (2001)", "Comedy", "3.0"], "movieId 'abc' is not a positive integer"),
    (["-7", "Negative Id (2002)", "Comedy", "3.0"], "movieId '-7' is not a positive integer"),
    (["12.5", "Fractional Id (2003)", "Comedy", "3.0"], "movieId '12.5' is not a positive integer"),
    (["9003", "Words For A Rating (2004)", "Drama", "four"], "rating 'four' is not a number"),
    (["9004", "Rating Too High (2005)", "Drama", "7.5"], "rating '7.5' is not between 0 and 5"),
    (["9005", "Rating Not A Number (2006)", "Drama", "NaN"], "rating 'NaN' is not between 0 and 5"),
    (["9006", "   ", "Drama", "2.0"], "title is empty"),
]


def good_rows() -> list[list[str]]:
    """MovieLens-like rows: ids with gaps, titles with commas, quotes and non-ASCII, empty genres, ratings 0-5."""
    rows = []
    for i in range(1, GOOD_ROWS + 1):
        movie_id = str(i * 3)
        title = f"Movie Number {i} ({1950 + i % 70})"
        if i % 10 == 0:
            title = f'Adventures of "Shorty", The ({1950 + i % 70})'
        elif i % 15 == 0:
            title = f"Amélie, Part {i} ({2001})"
        genres = "|".join(GENRES[(i + k) % len(GENRES)] for k in range(i % 4)) or importer.NO_GENRES
        rating = f"{(i * 37 % 51) / 10:.2f}"  # 0.00 .. 5.00
        rows.append([movie_id, title, genres, rating])
    return rows


def expected_item(row: list[str]) -> dict[str, Any]:
    genres = [] if row[2] == importer.NO_GENRES else row[2].split("|")
    return {"movieId": Decimal(row[0]), "title": row[1], "genres": genres, "rating": Decimal(row[3])}


def csv_text(rows: list[list[str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or ["movieId", "title", "genres", "rating"])
    writer.writerows(rows)
    return out.getvalue()


def zipped(text: str, name: str = "movies.csv") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return out.getvalue()


def mixed_rows() -> tuple[list[list[str]], list[list[str]]]:
    """(all rows in file order, the good ones): a malformed row after every 30 good ones, then a blank line."""
    good = good_rows()
    rows: list[list[str]] = []
    bad = iter(MALFORMED)
    for index, row in enumerate(good, start=1):
        rows.append(row)
        if index % 30 == 0:
            rows.append(next(bad, ([], ""))[0])  # the tenth insertion is a blank line, which is skipped silently
    return rows, good


def expected_reports(rows: list[list[str]]) -> list[tuple[int, str]]:
    """(line number, reason) of each malformed row; the header is line 1 and no field spans lines."""
    reasons = {tuple(row): reason for row, reason in MALFORMED}
    return [(line, reasons[tuple(row)]) for line, row in enumerate(rows, start=2) if tuple(row) in reasons]


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    """moto, fake credentials and the S3 and DynamoDB clients, once for the module (see ``mocked_aws_for_module``)."""
    with mocked_aws_for_module():
        yield boto3.client("s3"), boto3.client("dynamodb")


@pytest.fixture
def aws(clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """An empty moto (``reset_backends``) with the S3 bucket and the DynamoDB table (movieId: Number)."""
    for name in ("BUCKET", "FILE_PATH", "TABLE_NAME", "MAX_MALFORMED_PERCENT", "PROGRESS_EVERY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    reset_backends()
    s3, dynamodb = clients
    s3.create_bucket(Bucket=BUCKET)
    on_demand_table(dynamodb, TABLE, "movieId", "N")
    return s3, dynamodb


ENV = {"BUCKET": BUCKET, "FILE_PATH": KEY, "TABLE_NAME": TABLE}


def scan(dynamodb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        items.extend(page["Items"])
    return items


def table_items() -> dict[Decimal, dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(TABLE)
    items: list[dict[str, Any]] = []
    response = table.scan()
    items.extend(response["Items"])
    while "LastEvaluatedKey" in response:
        response = table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items.extend(response["Items"])
    return {item["movieId"]: item for item in items}


# ------------------------------------------------------------------------------------------ the real import


def test_imports_exactly_the_good_rows_and_reports_the_malformed(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    s3, _ = aws
    rows, good = mixed_rows()
    assert len(rows) == GOOD_ROWS + len(MALFORMED) + 1  # a few hundred rows, some malformed, one blank
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    with caplog.at_level(logging.INFO, logger="movies_importer"):
        code = importer.main([], {**ENV, "PROGRESS_EVERY": "100"})

    assert code == importer.EXIT_OK  # 9 of 309 rows malformed: under the default 10 %
    assert table_items() == {Decimal(r[0]): expected_item(r) for r in good}
    # Every malformed row is reported with its line number and its reason, and nothing else is.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    reported = [m for m in warnings if "malformed row skipped" in m]
    expected = expected_reports(rows)
    assert len(expected) == len(MALFORMED)
    assert [m.split(": ", 2)[:2] for m in reported] == [[f"line {n}", "malformed row skipped"] for n, _ in expected]
    for message, (_, reason) in zip(reported, expected, strict=True):
        assert message.split(": ", 2)[2].startswith(reason + ": ")
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "progress: 100 rows read, 3 malformed" in info
    assert any(m.startswith(f"done: {GOOD_ROWS + len(MALFORMED)} rows read, {GOOD_ROWS} items written") for m in info)


def test_items_have_dynamodb_types_number_string_list(aws: tuple[Any, Any]) -> None:
    s3, dynamodb = aws
    rows = [
        ["11", "American President, The (1995)", "Comedy|Drama|Romance", "3.67"],
        ["182727", "A Christmas Story Live! (2017)", importer.NO_GENRES, "2.5"],
    ]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], ENV) == importer.EXIT_OK

    by_id = {item["movieId"]["N"]: item for item in scan(dynamodb)}
    assert by_id["11"] == {
        "movieId": {"N": "11"},
        "title": {"S": "American President, The (1995)"},
        "genres": {"L": [{"S": "Comedy"}, {"S": "Drama"}, {"S": "Romance"}]},
        "rating": {"N": "3.67"},
    }
    assert by_id["182727"]["genres"] == {"L": []}
    assert by_id["182727"]["rating"] == {"N": "2.5"}


def test_report_lists_line_numbers_and_reasons(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    rows = [["1", "Toy Story (1995)", "Animation", "3.9"], *(row for row, _ in MALFORMED)]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))
    settings = importer.Settings(BUCKET, KEY, TABLE)

    report = importer.import_movies(s3, boto3.resource("dynamodb").Table(TABLE), settings)

    assert (report.rows, report.written, report.malformed) == (1 + len(MALFORMED), 1, len(MALFORMED))
    assert [(m.line, m.reason) for m in report.malformed_rows] == [
        (line, reason) for line, (_, reason) in enumerate(MALFORMED, start=3)
    ]


def test_too_many_malformed_rows_fail_the_job_but_keep_the_good_ones(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    good = good_rows()[:20]
    rows = good + [row for row, _ in MALFORMED]  # 9 of 29 rows: 31 %
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], ENV) == importer.EXIT_TOO_MANY_MALFORMED
    assert len(table_items()) == 20
    assert importer.main(["--max-malformed-percent", "50"], ENV) == importer.EXIT_OK


def test_duplicate_movie_ids_keep_the_last_row(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, _ = aws
    rows = [["5", "First Title (1990)", "Drama", "1.0"], ["5", "Second Title (1990)", "Drama", "4.0"]]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], ENV) == importer.EXIT_OK
    assert table_items()[Decimal(5)]["title"] == "Second Title (1990)"
    assert "line 3: movieId 5 seen before; this row replaces it" in caplog.text


def test_header_columns_in_another_order_with_extra_columns(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    text = csv_text([["2.75", "Heat (1995)", "8", "Action|Crime", "x"]], ["rating", "title", "movieId", "genres", "y"])
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(text))

    assert importer.main([], ENV) == importer.EXIT_OK
    assert table_items() == {
        Decimal(8): {
            "movieId": Decimal(8),
            "title": "Heat (1995)",
            "genres": ["Action", "Crime"],
            "rating": Decimal("2.75"),
        }
    }


# ------------------------------------------------------------------------------------------ empty files


def test_header_only_csv_imports_nothing_and_succeeds(aws: tuple[Any, Any]) -> None:
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text([])))

    assert importer.main([], ENV) == importer.EXIT_OK
    assert scan(dynamodb) == []


def test_empty_csv_without_header_is_a_clear_error(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(""))

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert "the CSV is empty: no header row" in caplog.text
    assert scan(dynamodb) == []


def test_wrong_header_is_a_clear_error(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"))

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert "lacks title, genres" in caplog.text


# ------------------------------------------------------------------------------------------ fatal errors


@pytest.mark.parametrize("missing", ["BUCKET", "FILE_PATH", "TABLE_NAME"])
def test_missing_input_fails_with_a_clear_message(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture, missing: str
) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}

    assert importer.main([], env) == importer.EXIT_FATAL
    assert "missing required input" in caplog.text
    assert missing in caplog.text
    assert [m for m in ENV if m != missing and m in caplog.text.split("missing required input")[1]] == []


def test_all_missing_inputs_are_named_at_once(caplog: pytest.LogCaptureFixture) -> None:
    assert importer.main([], {}) == importer.EXIT_FATAL
    for name in ("BUCKET (--bucket", "FILE_PATH (--file-path", "TABLE_NAME (--table-name"):
        assert name in caplog.text


def test_unsubstituted_batch_parameter_counts_as_missing(caplog: pytest.LogCaptureFixture) -> None:
    argv = ["--bucket", "b", "--file-path", "Ref::file_path", "--table-name", "t"]

    assert importer.main(argv, {}) == importer.EXIT_FATAL
    assert "FILE_PATH (--file-path, job parameter 'file_path')" in caplog.text


def test_options_override_the_environment(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="other/today.zip", Body=zipped(csv_text(good_rows()[:3])))

    argv = ["--file-path", "/other/today.zip"]  # a leading slash is tolerated
    assert importer.main(argv, {**ENV, "FILE_PATH": "does/not/exist.zip"}) == importer.EXIT_OK
    assert len(table_items()) == 3


def test_missing_object_is_a_clear_error(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert f"s3://{BUCKET}/{KEY} does not exist" in caplog.text


def test_missing_bucket_is_a_clear_error(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    assert importer.main([], {**ENV, "BUCKET": "no-such-bucket"}) == importer.EXIT_FATAL
    assert "no-such-bucket" in caplog.text


def test_missing_table_is_a_clear_error(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(good_rows()[:2])))

    assert importer.main([], {**ENV, "TABLE_NAME": "NoSuchTable"}) == importer.EXIT_FATAL
    assert "writing to table 'NoSuchTable' failed" in caplog.text


def test_object_that_is_not_a_zip(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=csv_text(good_rows()[:2]).encode())

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert "is not a zip archive" in caplog.text


def test_zip_must_hold_exactly_one_csv(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    s3, _ = aws
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.csv", csv_text([]))
        archive.writestr("b.csv", csv_text([]))
        archive.writestr("__MACOSX/._a.csv", "resource fork")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=out.getvalue())

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert "must hold exactly one .csv file" in caplog.text


def test_macos_metadata_in_the_zip_is_ignored(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("export/movies.csv", csv_text(good_rows()[:4]))
        archive.writestr("__MACOSX/export/._movies.csv", "resource fork")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=out.getvalue())

    assert importer.main([], ENV) == importer.EXIT_OK
    assert len(table_items()) == 4


def test_invalid_options_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert importer.main(["--no-such-option"], ENV) == importer.EXIT_USAGE
    assert importer.main(["--max-malformed-percent", "150"], ENV) == importer.EXIT_FATAL
    assert importer.main(["--progress-every", "zero"], ENV) == importer.EXIT_FATAL
    # only ASCII numbers: int() and float() would read these as 10 and 3
    assert importer.main(["--progress-every", "1_0"], ENV) == importer.EXIT_FATAL
    assert importer.main([], {**ENV, "MAX_MALFORMED_PERCENT": "\u0663"}) == importer.EXIT_FATAL


# ------------------------------------------------------------------------------- hostile and unlucky input (issue 16)


def rejects_object(s3: Any, key: str = KEY) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=BUCKET, Key=f"rejects/{key}.rejects.jsonl")["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


def test_numbers_dynamodb_cannot_store_are_rejected_rows_not_a_lost_batch(aws: tuple[Any, Any]) -> None:
    # Old code: decimal.Inexact / Underflow escaped from boto3's serializer and the whole import died.
    s3, _ = aws
    good = good_rows()[:30]
    rows = [
        *good[:10],
        ["1" * 40, "Forty Digit Id (2000)", "Drama", "3.0"],
        ["77", "Tiny Rating (2000)", "Drama", "1E-200"],
        ["78", "Long Rating (2000)", "Drama", "1." + "1" * 40],
        *good[10:],
    ]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], {**ENV, "MAX_MALFORMED_PERCENT": "50"}) == importer.EXIT_OK

    assert table_items() == {Decimal(r[0]): expected_item(r) for r in good}
    assert [(r["line"], r["reason"]) for r in rejects_object(s3)] == [
        (12, f"movieId '{'1' * 40}' has more than DynamoDB's 38 digits"),
        (13, f"rating '1E-200' {CANNOT_STORE}"),
        (14, f"rating '{'1.' + '1' * 40}' {CANNOT_STORE}"),
    ]


CANNOT_STORE = "cannot be stored in DynamoDB (at most 38 significant digits, magnitude 1E-130 to 9.99E+125)"


def test_an_item_over_400_kb_is_a_rejected_row(aws: tuple[Any, Any]) -> None:
    # Old code: DynamoDB's ValidationException failed the import (and the 24 other items of its batch).
    s3, _ = aws
    rows = [["1", "x" * (400 * 1024), "Drama", "3"], *good_rows()[:5]]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], {**ENV, "MAX_MALFORMED_PERCENT": "50"}) == importer.EXIT_OK

    assert len(table_items()) == 5
    (rejected,) = rejects_object(s3)
    assert rejected["line"] == 2 and "DynamoDB's item limit is 409600 (400 KB)" in rejected["reason"]
    assert len(rejected["text"]) == importer.REJECT_TEXT_CHARACTERS


def test_a_huge_line_is_rejected_in_bounded_memory(aws: tuple[Any, Any]) -> None:
    # Old code: the whole line went through memory (a 1 GiB line took the process to 2.3 GiB).
    s3, _ = aws
    huge = b"1,Endless (2000),Drama," + b"9" * (20 * 1024 * 1024) + b"\n"
    rest = csv_text(good_rows()[:5]).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("movies.csv", rest[: rest.index(b"\n") + 1] + huge + rest[rest.index(b"\n") + 1 :])
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=out.getvalue())
    assert len(out.getvalue()) < 1024 * 1024  # a small zip

    tracemalloc.start()
    try:
        report = importer.import_movies(
            s3, boto3.resource("dynamodb").Table(TABLE), importer.Settings(BUCKET, KEY, TABLE)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 * 1024 * 1024, peak
    assert (report.rows, report.written, report.malformed) == (6, 5, 1)
    assert report.malformed_rows[0].line == 2
    assert report.malformed_rows[0].reason == f"the line is longer than {importer.MAX_LINE_BYTES} bytes"


def test_a_csv_above_the_uncompressed_cap_is_refused_before_writing(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(good_rows()[:3]) + "\n" * (2 << 20)))  # 2 MiB

    assert importer.main([], {**ENV, "MAX_UNCOMPRESSED_MB": "1"}) == importer.EXIT_FATAL
    assert "above MAX_UNCOMPRESSED_MB=1" in caplog.text
    assert scan(dynamodb) == []


def _patched_zip(text: str, *, flag_bits: int = 0, method: int | None = None) -> bytes:
    """A stored zip of one CSV, its headers then patched: encryption flag, or a compression method zipfile lacks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("movies.csv", text)
    data = bytearray(out.getvalue())
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    for flags_at, method_at in ((local + 6, local + 8), (central + 8, central + 10)):
        data[flags_at : flags_at + 2] = (int.from_bytes(data[flags_at : flags_at + 2], "little") | flag_bits).to_bytes(
            2, "little"
        )
        if method is not None:
            data[method_at : method_at + 2] = method.to_bytes(2, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_patched_zip(csv_text(good_rows()[:3]), flag_bits=0x1), "movies.csv is encrypted"),
        (_patched_zip(csv_text(good_rows()[:3]), method=9), "compressed with deflate64"),
        (_patched_zip(csv_text(good_rows()[:3]), method=99), "compressed with method 99"),
    ],
)
def test_encrypted_and_unsupported_zips_are_clear_errors(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture, body: bytes, message: str
) -> None:
    # Old code: RuntimeError ("password required") or NotImplementedError escaped.
    s3, dynamodb = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert message in caplog.text
    assert scan(dynamodb) == []


def test_a_wrong_encoding_is_found_before_any_row_is_written(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Old code: the rows before the first non-UTF-8 byte were written, then the import failed.
    s3, dynamodb = aws
    text = csv_text(good_rows()[:200]).encode("utf-8")
    text += "200000,Amélie (2001),Comedy|Romance,4.1\n".encode("latin-1")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("movies.csv", text)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=out.getvalue())

    assert importer.main([], ENV) == importer.EXIT_FATAL
    assert scan(dynamodb) == []
    assert "the CSV is not UTF-8 (line 202: invalid continuation byte). Nothing was written." in caplog.text


def test_every_row_is_written_or_in_the_rejects_object(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    rows, good = mixed_rows()
    rows += [["x", f"Bad {i}", "Drama", "1"] for i in range(150)]  # more than the 100 rows logged
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))
    settings = importer.Settings(BUCKET, KEY, TABLE, max_malformed_percent=100)

    report = importer.import_movies(s3, boto3.resource("dynamodb").Table(TABLE), settings)

    rejected = rejects_object(s3)
    assert report.rows == report.written + report.malformed == GOOD_ROWS + len(MALFORMED) + 150
    assert len(rejected) == report.malformed == len(MALFORMED) + 150
    assert [(r["line"], r["reason"]) for r in rejected[: len(MALFORMED)]] == expected_reports(rows)
    assert report.rejects_location == f"s3://{BUCKET}/rejects/{KEY}.rejects.jsonl"
    assert len(table_items()) == len(good)


def test_rerunning_the_same_upload_gives_the_same_table(aws: tuple[Any, Any]) -> None:
    s3, dynamodb = aws
    rows, _ = mixed_rows()
    rows += [["5", "Again (1990)", "Drama", "3.670"]]  # a duplicate id, and a rating that is normalised
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(rows)))

    assert importer.main([], ENV) == importer.EXIT_OK
    first, first_rejects = sorted(map(json.dumps, scan(dynamodb))), rejects_object(s3)
    assert importer.main([], ENV) == importer.EXIT_OK

    assert sorted(map(json.dumps, scan(dynamodb))) == first
    assert rejects_object(s3) == first_rejects
    assert table_items()[Decimal(5)]["rating"] == Decimal("3.67")


def test_an_import_without_rejects_still_overwrites_the_rejects_object(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text([["x", "Bad", "Drama", "1"], *good_rows()[:20]])))
    assert importer.main([], ENV) == importer.EXIT_OK
    assert len(rejects_object(s3)) == 1

    s3.put_object(Bucket=BUCKET, Key=KEY, Body=zipped(csv_text(good_rows()[:20])))
    assert importer.main([], ENV) == importer.EXIT_OK
    assert rejects_object(s3) == []


def test_rejects_key_stays_within_s3s_1024_bytes() -> None:
    long_path = "uploads/" + "é" * 600 + ".zip"
    key = importer.rejects_key("rejects/", long_path)
    assert len(key.encode()) <= 1024
    assert key == importer.rejects_key("rejects/", long_path)
    assert key != importer.rejects_key("rejects/", long_path.replace(".zip", "2.zip"))
    assert importer.rejects_key("rejects/", "uploads/movies.zip") == "rejects/uploads/movies.zip.rejects.jsonl"
