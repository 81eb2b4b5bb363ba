"""Property-based tests (hypothesis) of the movies importer's row parsing.

GIVEN generated rows (arbitrary text, and valid MovieLens-like rows written through csv.writer) THEN parsing never
raises anything but the ValueError of a rejected row, every accepted item is one DynamoDB stores as given (boto3's
serializer takes it, it is within 400 KB), every row is either an item or a rejection, and no valid row is lost.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.movies_importer.job import importer

from ..properties import examples

FAST = settings(max_examples=examples(80), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = importer._Columns(movie_id=0, title=1, genres=2, rating=3, count=4)
SERIALIZER = TypeSerializer()

cells = st.text(max_size=30) | st.sampled_from(["1E-200", "1E+200", "NaN", "-0", "0E-300", "1" * 40, "Infinity", " 5 "])
numberish = st.decimals(allow_nan=True, allow_infinity=True).map(str) | st.integers().map(str)
any_rows = st.lists(cells | numberish, max_size=6)


def check_item(item: dict[str, Any]) -> None:
    """What DynamoDB requires of an item the importer writes."""
    serialized = {k: SERIALIZER.serialize(v) for k, v in item.items()}  # raises on numbers DynamoDB cannot store
    assert set(serialized) == {"movieId", "title", "genres", "rating"}
    assert 0 < item["movieId"] < 10**38
    assert 0 <= item["rating"] <= 5
    assert item["title"] == item["title"].strip() != ""
    assert importer.item_size(item) <= importer.MAX_ITEM_BYTES


def two_passes(data: bytes) -> tuple[importer.ImportReport, list[dict[str, Any]]]:
    """What import_movies does with the CSV's bytes: the checking pass, then the rows (without DynamoDB)."""
    importer.check_file(io.BytesIO(data), "test.csv", 1 << 30)
    report = importer.ImportReport()
    bounded = importer.BoundedLines(
        io.BytesIO(data), importer.MAX_LINE_BYTES, lambda n, text: importer.reject(report, n, "too long", text)
    )
    return report, list(importer.read_items(bounded, report, 1000, lambda: bounded.number))


HEADER = b"movieId,title,genres,rating\n"
junk_bytes = st.binary(max_size=200) | st.lists(
    st.sampled_from([b",", b'"', b"\n", b"\r", b"1", b"2.5", b"\xc3", b"\xa9", b"x", b"|", b"\xef\xbb\xbf"]),
    max_size=60,
).map(b"".join)


@FAST
@given(body=junk_bytes, header=st.booleans())
def test_any_bytes_are_a_clear_error_before_writing_or_rows_written_and_rejected(body: bytes, header: bool) -> None:
    """Arbitrary bytes: the first pass refuses them (ImporterError, nothing written yet), or every row of the second
    pass is an item or a rejection - no other exception in either pass."""
    try:
        report, items = two_passes((HEADER if header else b"") + body)
    except importer.ImporterError as error:
        assert "Nothing was written" in str(error) or "header" in str(error) or "empty" in str(error)
        return
    assert report.rows == len(items) + report.malformed
    for item in items:
        check_item(item)


@FAST
@given(row=any_rows)
def test_any_row_is_an_item_dynamodb_accepts_or_a_rejection(row: list[str]) -> None:
    try:
        item = importer.parse_item(row, COLUMNS)
    except ValueError as error:
        assert str(error)  # the reason that goes to the rejects object
    else:
        check_item(item)


ratings = st.decimals(min_value=0, max_value=5, places=2, allow_nan=False) | st.sampled_from(
    [Decimal("0"), Decimal("5"), Decimal("3.670"), Decimal("1E-5"), Decimal("0.1234567890123456789012345678901234567")]
)
titles = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=60).filter(
    lambda t: t.strip() == t and t != ""
)
genres = st.lists(st.from_regex(r"[A-Za-z][A-Za-z -]{0,15}[A-Za-z]", fullmatch=True), max_size=5)
valid_rows = st.tuples(st.integers(1, 10**38 - 1), titles, genres, ratings)


@settings(FAST, max_examples=examples(30))  # whole files: fewer, larger examples
@given(rows=st.lists(valid_rows, max_size=15), junk=st.lists(any_rows, max_size=8), seed=st.randoms())
def test_every_row_is_written_or_rejected_and_no_valid_row_is_lost(
    rows: list[tuple[int, str, list[str], Decimal]], junk: list[list[str]], seed: Any
) -> None:
    """A CSV of valid rows with junk rows shuffled in, through csv.writer and the importer's own line reader."""
    lines: list[list[str]] = [[str(i), t, "|".join(g) or importer.NO_GENRES, str(r)] for i, t, g, r in rows]
    lines += junk
    seed.shuffle(lines)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # CRLF, as spreadsheets write it (and \r in a field is quoted)
    writer.writerow(["movieId", "title", "genres", "rating"])
    writer.writerows(lines)
    report, items = two_passes(out.getvalue().encode())

    assert report.rows == len(items) + report.malformed
    assert report.rows == sum(1 for line in lines if any(cell.strip() for cell in line))
    for item in items:
        check_item(item)
    accepted = {(i["movieId"], i["title"], tuple(i["genres"]), i["rating"]) for i in items}
    for movie_id, title, genre_list, rating in rows:
        assert (
            movie_id,
            title,
            tuple(genre_list),
            rating,
        ) in accepted  # not lost, not altered (rating compared by value)
