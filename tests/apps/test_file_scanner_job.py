"""The file scanner's job code, in-process against moto's S3 and DynamoDB, on generated multi-megabyte files."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.file_scanner.job import scanner as job

from ..aws_mock import mocked_aws_for_module, on_demand_table, reset_backends
from ..properties import examples

UPLOADS = "uploads-bucket"
RESULTS = "results-bucket"
TABLE = "scan-status"
REGION = "us-east-1"
CHUNK = 64 * 1024  # small chunks, so a few MiB cross many chunk boundaries

AWS_KEY = b"AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key id: 20 characters
TEMP_KEY = b"ASIAY34FZKBOKMUTVV7A"
PEM = b"-----BEGIN RSA PRIVATE KEY-----"
GITHUB = b"ghp_" + b"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
WORDS = (b"user", b"login", b"ok", b"GET", b"/api/items", b"200", b"latency_ms=12", b"AKIA", b"key", b"region=eu")


def text_file(size: int, plants: dict[int, bytes], seed: int = 7) -> bytes:
    """``size`` bytes of log-like text lines, with each ``plants`` value written at its offset.

    The lines are those of :func:`reference_text` (``random.Random(seed)``: a word count ``randint(3, 14)``, then
    that many ``choice(WORDS)``), drawn three times faster: CPython answers both with ``getrandbits(4)``, the top 4 bits
    of one 32-bit output, retried while the value is out of range (12 and 10 values), and ``getrandbits(32 * n)``
    holds the next n outputs, the first in the lowest bits. ``test_text_file_is_the_reference_text`` checks that the
    two agree, so the files stay the ones the expectations were written against.
    """
    rng = random.Random(seed)
    parts: list[bytes] = []
    length = 0
    line: list[bytes] = []
    remaining = 0  # words still to draw for the current line; 0: the next draw is a line's word count
    while length < size:
        outputs = rng.getrandbits(32 * 65536).to_bytes(4 * 65536, "little")
        for top_byte in outputs[3::4]:
            draw = top_byte >> 4
            if remaining == 0:
                if draw < 12:
                    remaining = 3 + draw
            elif draw < 10:
                line.append(WORDS[draw])
                remaining -= 1
                if remaining == 0:
                    parts.append(b" ".join(line) + b"\n")
                    length += len(parts[-1])
                    line = []
                    if length >= size:
                        break
    return _plant(b"".join(parts)[:size], plants)


def reference_text(size: int, plants: dict[int, bytes], seed: int = 7) -> bytes:
    """:func:`text_file`, written plainly (slow: about 0.4 s a MiB)."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    length = 0
    while length < size:
        line = b" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) + b"\n"
        parts.append(line)
        length += len(line)
    return _plant(b"".join(parts)[:size], plants)


def _plant(text: bytes, plants: dict[int, bytes]) -> bytes:
    data = bytearray(text)
    for offset, value in plants.items():
        data[offset - 1 : offset + len(value) + 1] = b" " + value + b" "  # separated from the neighbouring words
    return bytes(data)


@pytest.mark.parametrize(
    ("size", "seed"), [(0, 7), (1, 7), (600, 3), (500_000, 7), (70_000, 11)]
)  # 500 kB: several blocks of draws
def test_text_file_is_the_reference_text(size: int, seed: int) -> None:
    plants = {size // 2: AWS_KEY} if size > 100 else {}
    assert text_file(size, plants, seed) == reference_text(size, plants, seed)


def expected_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    """moto, fake credentials, S3 and DynamoDB clients, once for the module (see ``mocked_aws_for_module``)."""
    with mocked_aws_for_module(REGION):
        yield boto3.client("s3"), boto3.client("dynamodb")


@pytest.fixture
def aws(clients: tuple[Any, Any]) -> Any:
    """An empty moto (``reset_backends``) with the uploads (versioned) and results buckets and the status table."""
    reset_backends()
    s3, dynamodb = clients
    for bucket in (UPLOADS, RESULTS):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=UPLOADS, VersioningConfiguration={"Status": "Enabled"})
    on_demand_table(dynamodb, TABLE, "key")
    return s3


def environ(**extra: str) -> dict[str, str]:
    return {
        "RESULTS_BUCKET": RESULTS,
        "STATUS_TABLE": TABLE,
        "CHUNK_SIZE": str(CHUNK),
        "AWS_BATCH_JOB_ID": "0b5f2a52-5d2b-4c55-a3a4-000000000001",
        "AWS_BATCH_JOB_ATTEMPT": "1",
        **extra,
    }


def current_version(key: str) -> str | None:
    try:
        return str(boto3.client("s3").head_object(Bucket=UPLOADS, Key=key)["VersionId"])
    except ClientError:
        return None


def item(key: str, version: str | None = None) -> dict[str, Any] | None:
    """The status item of ``key`` at ``version`` (default: its current version, if it exists)."""
    table = boto3.resource("dynamodb").Table(TABLE)
    found: dict[str, Any] | None = table.get_item(
        Key={"key": job.status_key(key, version or current_version(key))}
    ).get("Item")
    return found


def result(s3: Any, key: str, version: str | None = None) -> dict[str, Any]:
    """The result JSON of ``key`` at ``version`` (default: its current version)."""
    body = s3.get_object(Bucket=RESULTS, Key=job.result_key(key, version or current_version(key)))["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def result_keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=RESULTS).get("Contents", [])]


# --- the whole job against S3 and DynamoDB ---------------------------------------------------------------------------

STRADDLING = 5 * CHUNK - 9  # starts 9 bytes before the end of the fifth chunk: 9 + 11 bytes on each side
PLANTS = {
    1_000: AWS_KEY,
    STRADDLING: TEMP_KEY,
    2 * CHUNK - 15: PEM,  # straddles too
    1_234_567: GITHUB,
    3 * 1024 * 1024 + 5: AWS_KEY,
}


def test_a_multi_megabyte_upload_is_scanned_into_a_result_json_and_a_succeeded_item(aws: Any) -> None:
    # GIVEN a 4 MiB text file with five planted secrets, two of them straddling a chunk boundary
    data = text_file(4 * 1024 * 1024 + 123, PLANTS)
    key = "incoming/2024/app server.log"
    version = aws.put_object(Bucket=UPLOADS, Key=key, Body=data)["VersionId"]
    # WHEN the job scans it in 64 KiB chunks
    code = job.main(["--bucket", UPLOADS, "--key", key], environ())
    # THEN the result JSON describes the file exactly
    assert code == 0
    out = result(aws, key)
    assert out["bucket"] == UPLOADS and out["key"] == key and out["version_id"] == version
    assert out["size"] == len(data)
    assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert out["content"] == "text"
    assert out["lines"] == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    # ... with every planted secret once, at its offset and line, in offset order
    found = [(f["offset"], f["pattern"], f["length"], f["line"]) for f in out["findings"]]
    names = {AWS_KEY: "aws-access-key-id", TEMP_KEY: "aws-access-key-id", PEM: "private-key", GITHUB: "github-token"}
    assert found == [(o, names[v], len(v), expected_line(data, o)) for o, v in sorted(PLANTS.items())]
    assert (STRADDLING, "aws-access-key-id", 20, expected_line(data, STRADDLING)) in found
    assert out["findings_count"] == 5 and out["findings_truncated"] is False
    assert out["findings_by_pattern"] == {
        "aws-access-key-id": 3,
        "private-key": 1,
        "github-token": 1,
        "slack-token": 0,
    }
    # ... and never the secret itself
    text = json.dumps(out)
    assert AWS_KEY.decode() not in text and GITHUB.decode() not in text
    assert out["findings"][0]["preview"] == "AKIA..."
    # AND the status item says SUCCEEDED with the same facts and when it ran
    status = item(key)
    assert status is not None
    assert status["status"] == "SUCCEEDED"
    assert status["sha256"] == out["sha256"] and status["size"] == len(data) and status["findings_count"] == 5
    assert status["result"] == f"s3://{RESULTS}/results/{key}.v-{version}.json"
    assert status["object_key"] == key and status["version_id"] == version
    assert status["job_id"] == environ()["AWS_BATCH_JOB_ID"] and status["attempt"] == "1"
    assert status["bucket"] == UPLOADS
    assert status["started_at"] <= status["finished_at"]
    assert "error" not in status


def test_a_missing_object_records_failed_and_writes_no_result(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN no such object WHEN the job runs
    code = job.main(["--bucket", UPLOADS, "--key", "incoming/gone.bin"], environ())
    # THEN it fails with a message naming the object, and the table says FAILED with that message
    assert code == job.EXIT_FAILED
    assert f"s3://{UPLOADS}/incoming/gone.bin does not exist" in caplog.text
    status = item("incoming/gone.bin")
    assert status is not None
    assert status["status"] == "FAILED"
    assert "does not exist" in status["error"]
    assert status["bucket"] == UPLOADS and "finished_at" in status
    assert result_keys(aws) == []


def test_a_missing_key_parameter_stops_the_job_before_touching_aws(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a submission without parameters (Batch leaves the literal Ref:: text in the command)
    code = job.main(["--bucket", "Ref::bucket", "--key", "Ref::key"], environ())
    # THEN the job exits with the usage code and says which parameter is missing
    assert code == job.EXIT_USAGE
    assert "missing job parameter 'key'" in caplog.text
    assert boto3.client("dynamodb").scan(TableName=TABLE)["Count"] == 0


def test_a_missing_bucket_parameter_records_failed_for_the_key(aws: Any) -> None:
    code = job.main(["--key", "incoming/a.log"], environ())
    assert code == job.EXIT_USAGE
    status = item("incoming/a.log")
    assert status is not None
    assert status["status"] == "FAILED" and "missing job parameter 'bucket'" in status["error"]


@pytest.mark.parametrize("missing", ["RESULTS_BUCKET", "STATUS_TABLE"])
def test_missing_configuration_is_named(aws: Any, missing: str, caplog: pytest.LogCaptureFixture) -> None:
    env = environ()
    del env[missing]
    assert job.main(["--bucket", UPLOADS, "--key", "k"], env) == job.EXIT_USAGE
    assert missing in caplog.text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHUNK_SIZE", "lots", "not an integer"),
        ("CHUNK_SIZE", "1_048_576", "not an integer"),  # int() would read it
        ("CHUNK_SIZE", "\u0661" + "\u0660" * 6, "not an integer"),  # 1000000 in Arabic-Indic digits
        ("CHUNK_SIZE", "10", "out of range"),
        ("SCAN_PATTERNS", "{not json", "not valid JSON"),
        ("SCAN_PATTERNS", '[{"name": "x", "regex": "("}]', "exactly the keys"),
        ("SCAN_PATTERNS", '[{"name": "x", "regex": "(", "max_length": 5}]', "invalid regex"),
        ("SCAN_PATTERNS", '[{"name": "x", "regex": "a", "max_length": 0}]', "max_length=0"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(
    aws: Any, name: str, value: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert job.main(["--bucket", UPLOADS, "--key", "k"], environ(**{name: value})) == job.EXIT_USAGE
    assert message in caplog.text


def test_custom_patterns_replace_the_defaults(aws: Any) -> None:
    # GIVEN a file with an internal ticket id and an AWS key, and a pattern list with only the ticket id
    data = text_file(300_000, {100_000: b"TICKET-12345", 200_000: AWS_KEY})
    aws.put_object(Bucket=UPLOADS, Key="t.log", Body=data)
    patterns = json.dumps([{"name": "ticket", "regex": r"TICKET-[0-9]{5}", "max_length": 12}])
    # WHEN scanned
    assert job.main(["--bucket", UPLOADS, "--key", "t.log"], environ(SCAN_PATTERNS=patterns)) == 0
    # THEN only the ticket is reported
    out = result(aws, "t.log")
    assert [(f["pattern"], f["offset"]) for f in out["findings"]] == [("ticket", 100_000)]
    assert out["findings_by_pattern"] == {"ticket": 1}


def test_a_pattern_matching_more_than_its_max_length_fails_the_scan(aws: Any) -> None:
    aws.put_object(Bucket=UPLOADS, Key="t.log", Body=b"x TICKET-123456789 y\n")
    patterns = json.dumps([{"name": "ticket", "regex": r"TICKET-[0-9]+", "max_length": 12}])
    assert job.main(["--bucket", UPLOADS, "--key", "t.log"], environ(SCAN_PATTERNS=patterns)) == job.EXIT_USAGE
    status = item("t.log")
    assert status is not None
    assert status["status"] == "FAILED" and "more than its max_length 12" in status["error"]


def test_a_url_encoded_key_from_the_event_is_decoded(aws: Any) -> None:
    aws.put_object(Bucket=UPLOADS, Key="incoming/my file.log", Body=b"hello " + AWS_KEY + b"\n")
    assert job.main(["--bucket", UPLOADS, "--key", "incoming/my+file.log"], environ()) == 0
    assert result(aws, "incoming/my file.log")["findings_count"] == 1
    status = item("incoming/my file.log")
    assert status is not None and status["status"] == "SUCCEEDED"


def test_findings_are_bounded_but_all_counted(aws: Any) -> None:
    plants = {1_000 + 50 * i: AWS_KEY for i in range(40)}
    aws.put_object(Bucket=UPLOADS, Key="many.log", Body=text_file(100_000, plants))
    assert job.main(["--bucket", UPLOADS, "--key", "many.log"], environ(MAX_FINDINGS="5")) == 0
    out = result(aws, "many.log")
    assert [f["offset"] for f in out["findings"]] == sorted(plants)[:5]
    assert out["findings_count"] == 40 and out["findings_truncated"] is True


def test_sigterm_during_the_scan_records_interrupted(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a scan that receives SIGTERM (a Spot reclaim or a timeout) part-way through
    aws.put_object(Bucket=UPLOADS, Key="big.log", Body=text_file(1_000_000, {}))
    original = job.StreamScanner.feed
    fed: list[int] = []

    def feed(self: job.StreamScanner, chunk: bytes) -> None:
        fed.append(len(chunk))
        if len(fed) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        original(self, chunk)

    monkeypatch.setattr(job.StreamScanner, "feed", feed)
    # WHEN the job runs
    code = job.main(["--bucket", UPLOADS, "--key", "big.log"], environ())
    # THEN it stops at once with 143 and the status says INTERRUPTED (the next attempt sets RUNNING again)
    assert code == job.EXIT_INTERRUPTED
    assert len(fed) == 3
    status = item("big.log")
    assert status is not None and status["status"] == "INTERRUPTED"
    assert result_keys(aws) == []
    assert signal.getsignal(signal.SIGTERM) is not job._on_sigterm  # the handler is removed again


def test_a_rescan_overwrites_the_status_item_of_its_version_a_new_upload_gets_its_own(aws: Any) -> None:
    first = aws.put_object(Bucket=UPLOADS, Key="r.log", Body=b"clean\n")["VersionId"]
    assert job.main(["--bucket", UPLOADS, "--key", "r.log"], environ()) == 0
    assert job.main(["--bucket", UPLOADS, "--key", "r.log"], environ(AWS_BATCH_JOB_ATTEMPT="2")) == 0
    aws.put_object(Bucket=UPLOADS, Key="r.log", Body=b"now with " + AWS_KEY + b"\n")
    assert job.main(["--bucket", UPLOADS, "--key", "r.log"], environ()) == 0
    old, new = item("r.log", first), item("r.log")
    assert old is not None and new is not None
    assert old["findings_count"] == 0 and old["attempt"] == "2"
    assert new["findings_count"] == 1
    assert new["sha256"] == hashlib.sha256(b"now with " + AWS_KEY + b"\n").hexdigest()


# --- the stream scanner on its own -----------------------------------------------------------------------------------

EDGE_PLANTS = {
    50: AWS_KEY,
    131: b"X" + AWS_KEY,  # preceded by a letter: part of a longer token, not a key id
    200: AWS_KEY + b"Z",  # followed by a letter: not a key id either
    260: PEM,
    333: GITHUB,
    420: b"xoxb-1234567890-abcdefghij",
    480: TEMP_KEY,
}
EDGE_DATA = text_file(600, EDGE_PLANTS, seed=3)
EDGE_EXPECTED = [(50, "aws-access-key-id"), (260, "private-key"), (333, "github-token")]
EDGE_EXPECTED += [(420, "slack-token"), (480, "aws-access-key-id")]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 19, 20, 21, 40, 64, 97, 128, 599, 600, 4096])
def test_chunk_boundaries_never_change_what_is_found(chunk_size: int) -> None:
    # GIVEN a file whose secrets (and non-secrets that look like them) fall on every kind of chunk boundary
    # WHEN scanned in chunks of this size
    out = job.scan_bytes(EDGE_DATA, chunk_size=chunk_size)
    # THEN exactly the real secrets are found, once each, at the right offsets and lines
    assert [(f["offset"], f["pattern"]) for f in out["findings"]] == EDGE_EXPECTED
    assert [f["line"] for f in out["findings"]] == [expected_line(EDGE_DATA, o) for o, _ in EDGE_EXPECTED]
    assert out["sha256"] == hashlib.sha256(EDGE_DATA).hexdigest() and out["size"] == 600


def test_scanning_in_chunks_finds_what_one_whole_pass_finds() -> None:
    # GIVEN 1 MiB with 200 secrets at random offsets, and the same patterns applied to the whole file at once
    rng = random.Random(11)
    offsets = sorted(rng.sample(range(10, 1024 * 1024 - 100, 97), 200))
    data = text_file(1024 * 1024, {o: rng.choice((AWS_KEY, TEMP_KEY, PEM, GITHUB)) for o in offsets})
    whole = sorted(
        (m.start(), p.name) for p in job.DEFAULT_PATTERNS for m in p.regex.finditer(data)
    )  # the oracle: no chunks
    # WHEN scanned in odd-sized chunks
    out = job.scan_bytes(data, chunk_size=4093)
    # THEN both agree, and both found every planted secret
    assert [(f["offset"], f["pattern"]) for f in out["findings"]] == whole
    assert [o for o, _ in whole] == offsets


#: Pieces that put secrets, near-secrets and their context on every side of a chunk boundary.
PIECES = st.sampled_from(
    [AWS_KEY, TEMP_KEY, PEM, GITHUB, b"xoxb-1234567890-abcdefghij", AWS_KEY[:10], GITHUB[:20], b"-----BEGIN ",
     b"X" + AWS_KEY, AWS_KEY + b"Z", b"_" + GITHUB, b"-xoxp-1234567890",
     b"A", b"Z", b"7", b"_", b"-", b" ", b"\n", b"\r\n", b"\x00", "é✓".encode(), b"\xe2\x9c", b"\xff"]
)  # fmt: skip


@settings(max_examples=examples(100), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    filler=st.integers(min_value=0, max_value=150),  # windows report nothing until a feed passes the longest match
    pieces=st.lists(st.one_of(PIECES, st.binary(max_size=24)), max_size=40),
    cuts=st.lists(
        st.integers(min_value=1, max_value=4) | st.integers(min_value=1, max_value=97), min_size=1, max_size=60
    ),
    max_findings=st.integers(min_value=0, max_value=6),
)
def test_any_split_into_chunks_reports_what_one_whole_pass_reports(
    filler: int, pieces: list[bytes], cuts: list[int], max_findings: int
) -> None:
    # GIVEN any bytes, fed in chunks of any sizes (a feed may be shorter than the longest pattern)
    data = b"." * filler + b"".join(pieces)
    whole = job.StreamScanner(max_findings=max_findings)
    whole.feed(data)
    expected = whole.finish()
    chunked = job.StreamScanner(max_findings=max_findings)
    offset, sizes = 0, iter(cuts * (len(data) // len(cuts) + 1))
    while offset < len(data):
        size = next(sizes)
        chunked.feed(data[offset : offset + size])
        offset += size
    # THEN the result is the one-pass result: no finding lost or reported twice, same offsets, lines and counts
    assert chunked.finish() == expected
    # AND the one pass finds exactly what the patterns find in the whole file, each at its line
    oracle = sorted((m.start(), p.name) for p in job.DEFAULT_PATTERNS for m in p.regex.finditer(data))
    assert expected["findings_count"] == len(oracle)
    assert [(f["offset"], f["pattern"]) for f in expected["findings"]] == oracle[:max_findings]
    assert [f["line"] for f in expected["findings"]] == [expected_line(data, o) for o, _ in oracle[:max_findings]]


def test_memory_stays_flat_whatever_the_file_size() -> None:
    scanner = job.StreamScanner()
    for _ in range(200):
        scanner.feed(b"a" * CHUNK)
        assert len(scanner._carry) <= max(p.max_length for p in job.DEFAULT_PATTERNS) + 2 * job.CONTEXT_BYTES
    assert scanner.finish()["size"] == 200 * CHUNK


@pytest.mark.parametrize(
    ("data", "content", "lines"),
    [
        (b"", "text", 0),
        (b"one line without newline", "text", 1),
        (b"a\nb\n", "text", 2),
        ("naïve café ✓\nsecond\n".encode(), "text", 2),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", None),
        (b"latin-1 caf\xe9\n", "binary", None),
        ("ends inside a character ✓".encode()[:-1], "binary", None),
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 2, 5, 1000])
def test_text_or_binary_and_lines(data: bytes, content: str, lines: int | None, chunk_size: int) -> None:
    # multi-byte UTF-8 characters split across chunks stay text; NUL bytes or invalid UTF-8 make it binary
    out = job.scan_bytes(data, chunk_size=chunk_size)
    assert (out["content"], out["lines"]) == (content, lines)


def test_default_patterns_declare_their_true_maximum_length() -> None:
    parser: Any = getattr(re, "_parser")  # noqa: B009 - the regex parser module (Python 3.11+) computes widths
    for pattern in job.DEFAULT_PATTERNS:
        _, widest = parser.parse(pattern.regex.pattern).getwidth()
        assert widest == pattern.max_length, pattern.name


# --- hostile and unlucky input (issue 16) ---------------------------------------------------------------------------


def test_the_version_of_the_event_is_scanned_even_after_an_overwrite(aws: Any) -> None:
    # Old code: the job read whatever the key held when it started, so the secret in version 1 was never scanned.
    leaked = aws.put_object(Bucket=UPLOADS, Key="incoming/c.env", Body=b"KEY=" + AWS_KEY + b"\n")["VersionId"]
    clean = aws.put_object(Bucket=UPLOADS, Key="incoming/c.env", Body=b"KEY=redacted\n")["VersionId"]

    argv = ["--bucket", UPLOADS, "--key", "incoming/c.env", "--version-id"]
    assert job.main([*argv, leaked], environ()) == 0
    assert job.main([*argv, clean], environ()) == 0

    assert result(aws, "incoming/c.env", leaked)["findings_count"] == 1
    assert result(aws, "incoming/c.env", leaked)["version_id"] == leaked
    assert result(aws, "incoming/c.env", clean)["findings_count"] == 0
    assert sorted(result_keys(aws)) == sorted(
        [f"results/incoming/c.env.v-{leaked}.json", f"results/incoming/c.env.v-{clean}.json"]
    )
    status = item("incoming/c.env", leaked)
    assert status is not None and status["status"] == "SUCCEEDED" and status["findings_count"] == 1


def test_a_version_deleted_before_the_job_ran_records_failed_for_that_version(aws: Any) -> None:
    gone = aws.put_object(Bucket=UPLOADS, Key="incoming/d.bin", Body=b"x")["VersionId"]
    aws.put_object(Bucket=UPLOADS, Key="incoming/d.bin", Body=b"y")
    aws.delete_object(Bucket=UPLOADS, Key="incoming/d.bin", VersionId=gone)

    code = job.main(["--bucket", UPLOADS, "--key", "incoming/d.bin", "--version-id", gone], environ())

    assert code == job.EXIT_FAILED
    status = item("incoming/d.bin", gone)
    assert status is not None and status["status"] == "FAILED" and f"version {gone}" in status["error"]
    assert result_keys(aws) == []


@pytest.mark.parametrize("version", ["Ref::version_id", "", "null"])
def test_without_a_version_id_the_current_version_is_scanned(aws: Any, version: str) -> None:
    current = aws.put_object(Bucket=UPLOADS, Key="m.log", Body=AWS_KEY)["VersionId"]
    assert job.main(["--bucket", UPLOADS, "--key", "m.log", "--version-id", version], environ()) == 0
    assert result(aws, "m.log", current)["findings_count"] == 1


def test_a_1013_character_key_gets_a_result_key_within_s3s_limit(aws: Any) -> None:
    # Old code: results/<key>.json was 1,026 bytes, which S3 refuses.
    key = "incoming/" + "k" * 1004
    assert len(key) == 1013
    version = aws.put_object(Bucket=UPLOADS, Key=key, Body=b"clean\n")["VersionId"]

    assert job.main(["--bucket", UPLOADS, "--key", key, "--version-id", version], environ()) == 0

    (written,) = result_keys(aws)
    assert len(written.encode()) <= 1024
    assert written == job.result_key(key, version)
    assert result(aws, key, version)["key"] == key


@pytest.mark.parametrize("key", ["a" * 1024, "é" * 512, "incoming/" + "日本" * 169, "x"])
def test_result_keys_are_unique_deterministic_and_short_enough(key: str) -> None:
    versions = [None, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", "null-ish.v2"]
    keys = [job.result_key(key, v) for v in versions]
    assert all(len(k.encode()) <= 1024 and k.startswith("results/") for k in keys)
    assert len(set(keys)) == len(keys)
    assert keys == [job.result_key(key, v) for v in versions]
    assert job.result_key(key + "b", versions[1]) != keys[1]
