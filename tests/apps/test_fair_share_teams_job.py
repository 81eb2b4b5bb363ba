"""The fair-share teams' job code, run in-process against moto's S3 with realistic event files and hostile ones.

What must hold: every non-blank line of an upload ends up in exactly one of curated/ and rejects/; processing an
upload again changes nothing; the nightly aggregation counts each event id once across uploads and shards; a report
is written only from every part of its run.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.fair_share_teams.job import jobs

from ..aws_mock import mocked_aws_for_module, plain_upload_client, reset_backends
from ..properties import examples

BUCKET = "team-data"
KEY = "incoming/2026-12-01/clicks.csv"
EVENT_TYPES = ["page_view", "add_to_cart", "checkout", "search"]
FAST = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# (row as written, the start of the reason the job must give)
MALFORMED: list[tuple[list[str], str]] = [
    (["", "2026-12-01T10:00:00Z", "page_view", "1"], "event_id ''"),
    (["bad id!", "2026-12-01T10:00:00Z", "page_view", "1"], "event_id 'bad id!'"),
    (["e-x1", "yesterday", "page_view", "1"], "occurred_at 'yesterday' is not an ISO 8601 time"),
    (["e-x2", "2026-12-01T10:00:00", "page_view", "1"], "occurred_at '2026-12-01T10:00:00' has no time zone"),
    (["e-x3", "2026-12-01T10:00:00Z", "Page View", "1"], "event_type 'page view'"),
    (["e-x4", "2026-12-01T10:00:00Z", "search", "NaN"], "value 'NaN' is not a number"),
    (["e-x5", "2026-12-01T10:00:00Z", "search", "1e20"], "value '1e20' is not a finite number below 1e15"),
    (["e-x6", "2026-12-01T10:00:00Z", "search", "0.0000001"], "value '0.0000001' has more than 6 decimal places"),
    (["e-x7", "2026-12-01T10:00:00Z", "search"], "line has 3 fields, the header 4"),
]


def events(count: int, start: int = 0) -> list[list[str]]:
    """Click-stream rows: ids e-<n>, times across two days in several offsets, values with up to 2 decimals."""
    rows = []
    for i in range(start, start + count):
        offset = ["Z", "+01:00", "-05:00", "+05:30"][i % 4]
        hour = (i * 7) % 24
        rows.append([f"e-{i}", f"2026-12-0{1 + i % 2}T{hour:02d}:{i % 60:02d}:00{offset}", EVENT_TYPES[i % 4],
                     f"{(i * 37) % 1000 / 100:.2f}"])  # fmt: skip
    return rows


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, newline: str = "\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header or list(jobs.COLUMNS))
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def s3_client() -> Iterator[Any]:
    """moto, fake credentials and an S3 client, once for the module (see ``mocked_aws_for_module``)."""
    with mocked_aws_for_module():
        yield boto3.client("s3")


@pytest.fixture
def s3(s3_client: Any) -> Any:
    """An empty moto (``reset_backends``) with the team's bucket."""
    reset_backends()
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


def read_jsonl(s3: Any, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return [json.loads(line) for line in body.splitlines()]


def outputs(s3: Any, key: str = KEY) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    name = jobs.output_name(key)
    return read_jsonl(s3, jobs.CURATED_PREFIX + name), read_jsonl(s3, jobs.REJECTS_PREFIX + name)


def put(s3: Any, body: bytes, key: str = KEY) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


# ------------------------------------------------------------------------------------------------------------ ingest


def test_every_line_is_curated_or_rejected_with_its_line_number_and_reason(s3: Any) -> None:
    good = events(400)
    rows: list[list[str]] = []
    for index, row in enumerate(good):
        rows.append(row)
        if index % 40 == 39:
            rows.append(MALFORMED[index // 40 % len(MALFORMED)][0])
    put(s3, csv_bytes(rows))
    result = jobs.ingest(s3, BUCKET, KEY)
    curated, rejects = outputs(s3)
    assert (result.events, result.rejected) == (400, 10)
    assert [c["event_id"] for c in curated] == [row[0] for row in good]
    # Line numbers: the header is line 1
    expected = [(line, row) for line, row in enumerate(rows, start=2) if row not in good]
    assert [r["line"] for r in rejects] == [line for line, _ in expected]
    reasons = {tuple(row): reason for row, reason in MALFORMED}
    for reject, (_, row) in zip(rejects, expected, strict=True):
        assert reject["reason"].startswith(reasons[tuple(row)]), reject
        assert reject["source"] == KEY
    assert len(curated) + len(rejects) == len(rows)


def test_curated_events_are_normalised_to_utc_and_plain_decimals(s3: Any) -> None:
    put(s3, csv_bytes([["e-1", "2026-12-01T23:30:00-05:00", "Checkout", "12.50"], ["e-2", "2026-12-01T00:00:00+01:00",
                                                                               "search", "-0"]]))  # fmt: skip
    jobs.ingest(s3, BUCKET, KEY)
    curated, rejects = outputs(s3)
    assert rejects == []
    assert curated[0] == {"event_id": "e-1", "occurred_at": "2026-12-02T04:30:00.000000Z", "event_type": "checkout",
                          "value": "12.5", "source": KEY, "line": "2"}  # fmt: skip
    assert curated[1]["occurred_at"] == "2026-11-30T23:00:00.000000Z" and curated[1]["value"] == "0"
    head = s3.head_object(Bucket=BUCKET, Key=jobs.CURATED_PREFIX + jobs.output_name(KEY))
    assert head["Metadata"]["source-etag"] == s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"')


def test_header_in_any_order_with_extra_columns_a_bom_and_crlf(s3: Any) -> None:
    header = ["value", "session", "event_type", "occurred_at", "event_id"]
    rows = [[r[3], "s-1", r[2], r[1], r[0]] for r in events(20)]
    put(s3, b"\xef\xbb\xbf" + csv_bytes(rows, header, newline="\r\n"))
    result = jobs.ingest(s3, BUCKET, KEY)
    assert (result.events, result.rejected) == (20, 0)
    assert [c["event_id"] for c in outputs(s3)[0]] == [f"e-{i}" for i in range(20)]


def test_a_repeated_event_id_in_one_file_is_rejected_naming_the_first_line(s3: Any) -> None:
    rows = [*events(20), events(1)[0]]
    put(s3, csv_bytes(rows))
    jobs.ingest(s3, BUCKET, KEY)
    curated, rejects = outputs(s3)
    assert len(curated) == 20
    assert rejects == [
        {"source": KEY, "line": 22, "reason": "event_id 'e-0' repeats line 2", "text": ",".join(rows[0])}
    ]


def test_processing_an_upload_twice_leaves_the_same_outputs(s3: Any) -> None:
    put(s3, csv_bytes([*events(50), MALFORMED[0][0]]))
    jobs.ingest(s3, BUCKET, KEY)
    first = outputs(s3)
    jobs.ingest(s3, BUCKET, KEY)
    assert outputs(s3) == first
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(listed) == 3  # the upload, its curated object, its rejects object: nothing added by the second run


def test_an_empty_file_is_a_clear_error_and_writes_nothing(s3: Any) -> None:
    put(s3, b"")
    with pytest.raises(jobs.JobError, match="the file is empty"):
        jobs.ingest(s3, BUCKET, KEY)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [KEY]


def test_a_header_only_file_curates_nothing_and_succeeds(s3: Any) -> None:
    put(s3, csv_bytes([]) + b"\n\n")
    result = jobs.ingest(s3, BUCKET, KEY)
    assert (result.events, result.rejected, result.blank) == (0, 0, 2)
    assert outputs(s3) == ([], [])  # written, so the sweep sees the upload as done


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"id,when,kind,amount\n1,2,3,4\n", "the header lacks event_id, occurred_at, event_type, value"),
        (b"event_id,occurred_at,event_type,value,value\n", "names a column twice"),
        (b"\xff\xfeevent_id\n", "is not UTF-8"),
        (b"x" * (jobs.MAX_LINE_BYTES + 1) + b"\n", r"the header \(line 1\) is over"),
        (b'event_id,"occurred_at,event_type,value\n', r"the header \(line 1\) is not valid CSV \(unexpected end"),
        (b"\n\revent_id,occurred_at\n", r"the header \(line 2\) is not valid CSV \(new-line character"),
    ],
)
def test_a_file_without_a_usable_header_is_a_clear_error(s3: Any, body: bytes, message: str) -> None:
    put(s3, body)
    with pytest.raises(jobs.JobError, match=message):
        jobs.ingest(s3, BUCKET, KEY)


def test_lines_that_are_not_utf8_or_not_csv_are_rejected_not_fatal(s3: Any) -> None:
    good = csv_bytes(events(30))
    put(s3, good + b"e-x,2026-12-01T00:00:00Z,search,\xe91\n" + b'e-y,"2026-12-01T00:00:00Z,search,1\n' + b"a\x00b\n")
    result = jobs.ingest(s3, BUCKET, KEY)  # 3 of 33 lines: under the 10% that fails the job
    assert (result.events, result.rejected) == (30, 3)
    reasons = [r["reason"] for r in outputs(s3)[1]]
    assert reasons[0] == "line is not UTF-8 (byte 32)"
    assert reasons[1] == "line is not valid CSV (unexpected end of data)"  # an unclosed quote: one line, one reject
    assert reasons[2] == "line has 1 fields, the header 4"


def test_too_many_rejected_lines_fail_the_job_after_writing_both_outputs(s3: Any) -> None:
    rows = events(10) + [row for row, _ in MALFORMED[:5]]
    put(s3, csv_bytes(rows))
    with pytest.raises(jobs.JobError, match=r"5 of 15 lines rejected \(33.3% > 10%\)"):
        jobs.ingest(s3, BUCKET, KEY)
    curated, rejects = outputs(s3)
    assert (len(curated), len(rejects)) == (10, 5)  # nothing lost: the good lines are curated all the same


def test_a_huge_line_is_rejected_in_bounded_memory(s3: Any) -> None:
    huge = b"e-h,2026-12-01T00:00:00Z,search," + b"9" * (32 * 1024 * 1024) + b"\n"
    body = csv_bytes(events(100)) + huge + csv_bytes(events(5, start=100))[len(",".join(jobs.COLUMNS)) + 1 :]
    put(plain_upload_client(), body)  # the same object, stored four times faster (see plain_upload_client)
    tracemalloc.start()
    try:
        result = jobs.ingest(s3, BUCKET, KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.events, result.rejected) == (105, 1)
    assert outputs(s3)[1][0]["reason"].startswith(f"line is {len(huge) - 1} bytes")
    # moto holds the object itself; the job adds a few chunks on top, never the 32 MiB line
    assert peak < len(huge) + 8 * jobs.CHUNK_BYTES + 4 * jobs.MAX_LINE_BYTES, peak


def test_an_object_over_the_size_limit_is_refused_before_reading(s3: Any) -> None:
    put(s3, csv_bytes(events(10)))
    with pytest.raises(jobs.JobError, match="over the 100-byte limit of one job"):
        jobs.ingest(s3, BUCKET, KEY, max_object_bytes=100)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [KEY]


def test_a_url_encoded_key_from_the_event_is_found_decoded(s3: Any) -> None:
    key = "incoming/daily export (1).csv"
    put(s3, csv_bytes(events(3)), key=key)
    jobs.ingest(s3, BUCKET, "incoming/daily+export+%281%29.csv")
    assert len(outputs(s3, key)[0]) == 3


def test_missing_objects_and_keys_outside_incoming_are_clear_errors(s3: Any) -> None:
    with pytest.raises(jobs.JobError, match="does not exist"):
        jobs.ingest(s3, BUCKET, "incoming/none.csv")
    with pytest.raises(jobs.JobError, match="outside incoming/") as caught:
        jobs.ingest(s3, BUCKET, "curated/x.jsonl")
    assert caught.value.exit_code == jobs.EXIT_USAGE


# ------------------------------------------------------------------------------------------------------------- sweep


def test_the_sweep_curates_only_uploads_not_yet_curated_or_changed_since(s3: Any) -> None:
    for name in ("a", "b", "c"):
        put(s3, csv_bytes(events(5)), key=f"incoming/{name}.csv")
    put(s3, b"not,a,csv", key="incoming/readme.txt")  # not an upload: the rule would not have sent it either
    jobs.ingest(s3, BUCKET, "incoming/a.csv")
    jobs.ingest(s3, BUCKET, "incoming/b.csv")
    put(s3, csv_bytes(events(7)), key="incoming/b.csv")  # replaced after it was curated
    put(s3, b"", key="incoming/d.csv")  # fails, and must not stop the others
    checked, done, failed = jobs.sweep(s3, BUCKET)
    assert (checked, done, failed) == (4, 2, ["incoming/d.csv"])
    assert len(outputs(s3, "incoming/b.csv")[0]) == 7 and len(outputs(s3, "incoming/c.csv")[0]) == 5
    assert jobs.sweep(s3, BUCKET) == (4, 0, ["incoming/d.csv"])  # a second sweep redoes nothing


# --------------------------------------------------------------------------------------------------------- analytics


def curated_lines(rows: list[list[str]], source: str = KEY) -> list[bytes]:
    out = []
    for line, row in enumerate(rows, start=2):
        event = jobs.parse_event(dict(zip(jobs.COLUMNS, row, strict=True)))
        out.append(json.dumps({**event, "source": source, "line": str(line)}).encode())
    return out


def expected_groups(rows: list[list[str]]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    groups: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for row in rows:
        event = jobs.parse_event(dict(zip(jobs.COLUMNS, row, strict=True)))
        key = (event["occurred_at"][:10], event["event_type"])
        count, total = groups.get(key, (0, Decimal(0)))
        groups[key] = (count + 1, total + Decimal(event["value"]))
    return groups


def test_shards_partition_the_events_and_count_each_id_once(s3: Any) -> None:
    rows = events(300)
    lines = curated_lines(rows) + curated_lines(rows[:40], "incoming/resent.csv")  # 40 events uploaded twice
    changed = [*rows[50][:3], "999.99"]  # the same id with another value: a conflict, first copy wins
    lines += [*curated_lines([changed], "incoming/z.csv"), b"{not json", b'{"event_id": "e-1"}', b"[]"]
    total = jobs.Partial()
    for index in range(4):
        total.merge(jobs.aggregate_shard(lines, index, 4))
    assert (total.records, total.duplicates, total.conflicts) == (300, 41, 1)
    assert total.invalid == 3 * 4  # every child sees the malformed lines
    assert total.groups == expected_groups(rows)


def test_aggregate_and_report_end_to_end(s3: Any) -> None:
    rows = events(120)
    put(s3, csv_bytes(rows[:70]), key="incoming/one.csv")
    put(s3, csv_bytes(rows[60:]), key="incoming/two.csv")  # ten events in both uploads
    jobs.sweep(s3, BUCKET)
    for index in range(3):
        environ = {"AWS_BATCH_JOB_ID": "run-1:" + str(index), "AWS_BATCH_JOB_ARRAY_INDEX": str(index)}
        assert jobs.main(["aggregate", "--bucket", BUCKET, "--shards", "3"], environ) == 0
    assert jobs.main(["report", "--bucket", BUCKET, "--shards", "3", "--run", "run-1"], {}) == 0
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="reports/latest.json")["Body"].read())
    assert report == json.loads(s3.get_object(Bucket=BUCKET, Key="reports/run-1.json")["Body"].read())
    assert (report["records"], report["duplicates"], report["conflicts"]) == (120, 10, 0)
    got = {(g["day"], g["event_type"]): (g["count"], Decimal(g["sum"])) for g in report["groups"]}
    assert got == expected_groups(rows)


def test_a_report_with_a_missing_part_is_not_written(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    jobs.aggregate(s3, BUCKET, "run-2", 0, 2)
    assert jobs.main(["report", "--bucket", BUCKET, "--shards", "2", "--run", "run-2"], {}) == jobs.EXIT_FAILED
    assert "parts 1 of 2 are missing; no report written" in caplog.text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=jobs.REPORTS_PREFIX)


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b'{"run": "run-3", "shard": 0, "shards": 9}', b'{"run": "other", "shard": 0, "shards": 1}']
)
def test_a_malformed_part_fails_the_report(s3: Any, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=jobs.part_key("run-3", 0, 1), Body=body)
    with pytest.raises(jobs.JobError, match="is malformed"):
        jobs.report(s3, BUCKET, "run-3", 1)


def _part(**changes: Any) -> dict[str, Any]:
    """A well-formed part of run-4 (one shard of one), with ``changes`` applied to its counts or its one group."""
    group = {"day": "2026-01-01", "event_type": "click", "count": 2, "sum": "3.5"}
    part: dict[str, Any] = {"run": "run-4", "shard": 0, "shards": 1, "records": 2, "duplicates": 0, "conflicts": 0}
    part |= {"invalid": 0, "groups": [group]}
    for key, value in changes.items():
        if key in group:
            group[key] = value
        else:
            part[key] = value
    return part


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (_part(records=1.9), "records 1.9 is not a whole number"),  # int() would read 1
        (_part(duplicates=True), "duplicates True is not a whole number"),  # int() would read 1
        (_part(conflicts=-1), "conflicts -1 is not a whole number"),
        (_part(invalid="0"), "invalid '0' is not a whole number"),
        (_part(groups={}), "groups is dict, not a list"),
        (_part(groups=["x"]), "a group is str, not an object"),
        (_part(day=20260101), "must be strings"),
        (_part(count=2.5), "count 2.5 is not a whole number"),
        (_part(count=0), "has count 0"),
        (_part(sum=3.5), r"sum 3.5 is not a decimal string"),
        (_part(sum="NaN"), r"sum 'NaN' is not a decimal string"),
        (_part(sum="Infinity"), r"sum 'Infinity' is not a decimal string"),
        (_part(sum="3,5"), r"sum '3,5' is not a decimal string"),
        (_part(sum="1_000"), r"sum '1_000' is not a decimal string"),  # Decimal() reads 1000
        (_part(sum=" 3.5"), r"sum ' 3.5' is not a decimal string"),  # Decimal() strips
        (_part(sum="٣.5"), r"is not a decimal string"),  # Decimal() reads Arabic-Indic digits
        (_part(sum="1E+3"), r"sum '1E\+3' is not a decimal string"),
    ],
)
def test_a_part_with_a_wrong_field_fails_the_report_naming_it(s3: Any, part: dict[str, Any], message: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=jobs.part_key("run-4", 0, 1), Body=json.dumps(part).encode())
    with pytest.raises(jobs.JobError, match=message):
        jobs.report(s3, BUCKET, "run-4", 1)


def test_a_part_with_the_same_group_twice_fails_the_report(s3: Any) -> None:
    # GIVEN a part listing one (day, event type) twice: reading it would keep only the second entry
    part = _part()
    part["groups"] = part["groups"] * 2
    s3.put_object(Bucket=BUCKET, Key=jobs.part_key("run-4", 0, 1), Body=json.dumps(part).encode())
    with pytest.raises(jobs.JobError, match=r"group \(2026-01-01, click\) appears twice"):
        jobs.report(s3, BUCKET, "run-4", 1)


def test_a_well_formed_part_is_read_back_exactly(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=jobs.part_key("run-4", 0, 1), Body=json.dumps(_part()).encode())
    report = jobs.report(s3, BUCKET, "run-4", 1)
    assert report["records"] == 2
    assert report["groups"] == [{"day": "2026-01-01", "event_type": "click", "count": 2, "sum": "3.5"}]


@settings(max_examples=examples(50), deadline=None)
@given(
    counts=st.tuples(*[st.integers(0, 10**12)] * 4),
    groups=st.dictionaries(
        st.tuples(st.text(max_size=12), st.text(max_size=12)),
        st.tuples(st.integers(1, 10**9), st.decimals(allow_nan=False, allow_infinity=False, places=6)),
        max_size=8,
    ),
)
def test_every_part_to_json_writes_is_read_back_unchanged(
    counts: tuple[int, int, int, int], groups: dict[tuple[str, str], tuple[int, Decimal]]
) -> None:
    partial = jobs.Partial(*counts, groups=dict(groups))
    again = jobs.Partial.from_json(json.loads(json.dumps(partial.to_json())))
    assert again == partial


# -------------------------------------------------------------------------------------------------------------- main


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["ingest", "--bucket", BUCKET, "--key", "Ref::key"], {}, "missing job parameter 'key'"),
        (["sweep", "--bucket", "Ref::bucket"], {}, "missing job parameter 'bucket'"),
        (["aggregate", "--bucket", BUCKET, "--shards", "four"], {}, "--shards 'four' is not 1-10000"),
        (["aggregate", "--bucket", BUCKET, "--shards", "4"], {}, "run id ''"),
        (["aggregate", "--bucket", BUCKET, "--shards", "4"], {"AWS_BATCH_JOB_ID": "j1"}, "array index ''"),
        (["report", "--bucket", BUCKET, "--shards", "4", "--run", "../x"], {}, "run id '../x'"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(
    s3: Any, argv: list[str], environ: dict[str, str], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert jobs.main(argv, environ) == jobs.EXIT_USAGE
    assert message in caplog.text


def test_main_ingests_an_upload(s3: Any) -> None:
    put(s3, csv_bytes(events(10)))
    assert jobs.main(["ingest", "--bucket", BUCKET, "--key", KEY], {}) == 0
    assert len(outputs(s3)[0]) == 10


# -------------------------------------------------------------------------------------------------------- properties


@FAST
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=8), limit=st.integers(1, 64))
def test_read_lines_splits_like_bytes_split_whatever_the_chunks(data: bytes, cuts: list[int], limit: int) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    got = list(jobs.read_lines(chunks, limit))
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert len(got) == len(expected)
    for line, want in zip(got, expected, strict=True):
        if len(want) > limit:
            assert isinstance(line, jobs._TooLong) and line.size == len(want)
        else:
            assert line == want.removesuffix(b"\r")


#: Any text, or the edges of each field: times at the ends of the calendar, the largest value, short forms.
EDGES = ["2026-12-01T10:00:00+02:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "1e14", "-.5", "e-1"]
field_text = st.one_of(st.text(max_size=30), st.sampled_from(EDGES))


@FAST
@given(fields=st.fixed_dictionaries({c: field_text for c in jobs.COLUMNS}))
def test_any_fields_are_an_event_that_parses_to_itself_or_a_reason(fields: dict[str, str]) -> None:
    try:
        event = jobs.parse_event(fields)
    except ValueError as error:
        assert str(error)
        return
    assert jobs.parse_event(event) == event  # curated events are a fixed point: analytics reads them back
    assert event["occurred_at"].endswith("Z") and len(event["occurred_at"][:10]) == 10
    assert Decimal(event["value"]).is_finite()


@FAST
@given(body=st.binary(max_size=2000), rows=st.lists(st.lists(field_text, min_size=0, max_size=5), max_size=12))
@example(body=b"\r\x00", rows=[])  # a carriage return inside the header line: csv.Error, once not caught
def test_any_upload_is_a_clear_error_or_every_line_accounted_for_once(body: bytes, rows: list[list[str]]) -> None:
    for data in (body, csv_bytes(rows) + body):
        curated, rejects = io.BytesIO(), io.BytesIO()
        try:
            result = jobs.ingest_stream([data], KEY, curated, rejects)
        except jobs.JobError as error:
            assert KEY in str(error)
            continue
        curated_lines_ = curated.getvalue().splitlines()
        reject_lines = rejects.getvalue().splitlines()
        assert (len(curated_lines_), len(reject_lines)) == (result.events, result.rejected)
        lines = list(jobs.read_lines([data]))
        header_at = next(i for i, line in enumerate(lines) if isinstance(line, bytes) and line.decode().strip())
        assert result.events + result.rejected + result.blank == len(lines) - header_at - 1
        numbers = [json.loads(c)["line"] for c in curated_lines_] + [str(json.loads(r)["line"]) for r in reject_lines]
        assert len(set(numbers)) == len(numbers)  # no line twice


@FAST
@given(
    ids=st.lists(st.integers(0, 40), max_size=80),
    shards=st.integers(1, 6),
    seed=st.randoms(use_true_random=False),
)
def test_sharded_counts_equal_one_count_of_each_distinct_event(
    ids: list[int], shards: int, seed: random.Random
) -> None:
    rows = [events(1, start=i)[0] for i in ids]
    seed.shuffle(rows)
    lines = curated_lines(rows)
    total = jobs.Partial()
    for index in range(shards):
        total.merge(jobs.aggregate_shard(lines, index, shards))
    assert total.records == len(set(ids)) and total.duplicates == len(ids) - len(set(ids)) and total.conflicts == 0
    distinct = list({row[0]: row for row in rows}.values())
    assert total.groups == expected_groups(distinct)
