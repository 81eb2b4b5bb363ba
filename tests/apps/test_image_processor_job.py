"""The image processor's job code, in-process: S3 and DynamoDB in moto, Rekognition through a botocore Stubber."""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from apps.image_processor.job import detect_labels as job

from ..aws_mock import mocked_aws_for_module, on_demand_table, reset_backends

BUCKET = "images-bucket"
TABLE = "image-labels"
REGION = "us-east-1"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


DETECT_LABELS_RESPONSE: dict[str, Any] = {
    "Labels": [
        {"Name": "Dog", "Confidence": 98.7654321, "Parents": [{"Name": "Animal"}, {"Name": "Pet"}], "Instances": []},
        {"Name": "Grass", "Confidence": 81.25, "Parents": [{"Name": "Plant"}], "Instances": []},
    ],
    "LabelModelVersion": "3.0",
}


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    """moto, fake credentials, S3 and DynamoDB clients, once for the module (see ``mocked_aws_for_module``)."""
    with mocked_aws_for_module(REGION):
        yield boto3.client("s3"), boto3.client("dynamodb")


@pytest.fixture
def aws(clients: tuple[Any, Any]) -> None:
    """An empty moto (``reset_backends``) with the images bucket and the labels table."""
    reset_backends()
    s3, dynamodb = clients
    s3.create_bucket(Bucket=BUCKET)
    on_demand_table(dynamodb, TABLE, "image")


@pytest.fixture
def rekognition(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A stubbed Rekognition client, handed to the job wherever it asks boto3 for one."""
    client = boto3.client("rekognition")
    real_client = boto3.client

    def client_factory(service: str, *args: Any, **kwargs: Any) -> Any:
        return client if service == "rekognition" else real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", client_factory)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def upload(key: str, body: bytes | None = None) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=png() if body is None else body)


def stored_item(bucket: str, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        boto3.resource("dynamodb").Table(TABLE).get_item(Key={"image": f"s3://{bucket}/{key}"}).get("Item")
    )
    return item


def expect_detect_labels(stubber: Stubber, key: str, **params: Any) -> None:
    stubber.add_response(
        "detect_labels",
        DETECT_LABELS_RESPONSE,
        expected_params={
            "Image": {"S3Object": {"Bucket": BUCKET, "Name": key}},
            "MaxLabels": params.get("MaxLabels", job.MAX_LABELS),
            "MinConfidence": params.get("MinConfidence", job.MIN_CONFIDENCE),
        },
    )


def test_labels_of_an_uploaded_image_land_in_the_table_with_decimal_confidences(rekognition: Stubber) -> None:
    # GIVEN an image in the bucket, and Rekognition expecting exactly that object with the job's label settings
    upload("uploads/dog.png")
    expect_detect_labels(rekognition, "uploads/dog.png", MaxLabels=10, MinConfidence=75.0)
    # WHEN the container runs with the parameters the trigger and the job definition pass
    code = job.main(["--bucket", BUCKET, "--key", "uploads/dog.png", "--table", TABLE])
    # THEN it succeeds and the table holds the image's labels with their confidences as DynamoDB numbers
    assert code == 0
    item = stored_item(BUCKET, "uploads/dog.png")
    assert item is not None
    assert item["bucket"] == BUCKET and item["key"] == "uploads/dog.png"
    assert item["labels"] == [
        {"name": "Dog", "confidence": Decimal("98.765"), "parents": ["Animal", "Pet"], "instances": 0},
        {"name": "Grass", "confidence": Decimal("81.25"), "parents": ["Plant"], "instances": 0},
    ]
    assert all(isinstance(label["confidence"], Decimal) for label in item["labels"])
    assert item["label_names"] == ["Dog", "Grass"]
    assert item["size_bytes"] == len(png())
    assert item["model_version"] == "3.0"


def test_label_settings_reach_detect_labels(rekognition: Stubber) -> None:
    upload("uploads/dog.png")
    expect_detect_labels(rekognition, "uploads/dog.png", MaxLabels=3, MinConfidence=90.0)
    code = job.main(
        [
            "--bucket",
            BUCKET,
            "--key",
            "uploads/dog.png",
            "--table",
            TABLE,
            "--max-labels",
            "3",
            "--min-confidence",
            "90",
        ]
    )
    assert code == 0
    item = stored_item(BUCKET, "uploads/dog.png")
    assert item is not None and item["max_labels"] == 3 and item["min_confidence"] == Decimal("90.0")


def test_a_url_encoded_key_from_the_event_is_decoded_when_only_the_decoded_object_exists(rekognition: Stubber) -> None:
    # GIVEN "red flower.jpg", which S3 event notifications spell "red+flower.jpg"
    upload("uploads/red flower.jpg")
    expect_detect_labels(rekognition, "uploads/red flower.jpg")
    # WHEN the job gets the encoded key
    code = job.main(["--bucket", BUCKET, "--key", "uploads/red+flower.jpg", "--table", TABLE])
    # THEN it labels the real object and stores it under its real key
    assert code == 0
    assert stored_item(BUCKET, "uploads/red flower.jpg") is not None
    assert stored_item(BUCKET, "uploads/red+flower.jpg") is None


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        ([], "bucket, key, table"),
        (["--bucket", BUCKET, "--key", "Ref::key", "--table", TABLE], "key"),
        (["--bucket", BUCKET, "--key", "uploads/dog.png", "--table", "Ref::table"], "table"),
        (["--bucket", "", "--key", "uploads/dog.png", "--table", TABLE], "bucket"),
    ],
)
def test_missing_parameters_stop_the_job_with_a_message_naming_them(
    rekognition: Stubber, caplog: pytest.LogCaptureFixture, argv: list[str], missing: str
) -> None:
    # GIVEN a submission that did not pass every parameter (Batch then leaves the literal Ref::name in the command)
    with caplog.at_level(logging.ERROR):
        # WHEN the container starts
        code = job.main(argv)
    # THEN it exits with the usage code before calling any AWS API, naming what is missing
    assert code == job.EXIT_USAGE
    assert f"missing job parameter(s): {missing}." in caplog.text
    assert "--parameters" in caplog.text


@pytest.mark.parametrize(("flag", "value"), [("--max-labels", "0"), ("--min-confidence", "101")])
def test_out_of_range_label_settings_are_refused(rekognition: Stubber, flag: str, value: str) -> None:
    code = job.main(["--bucket", BUCKET, "--key", "k.png", "--table", TABLE, flag, value])
    assert code == job.EXIT_USAGE


def test_a_missing_image_fails_without_calling_rekognition(
    rekognition: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    code = job.main(["--bucket", BUCKET, "--key", "uploads/gone.png", "--table", TABLE])
    assert code == job.EXIT_FAILED
    assert f"s3://{BUCKET}/uploads/gone.png does not exist" in caplog.text


def test_an_image_over_rekognitions_s3_limit_is_refused(
    rekognition: Stubber, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job, "MAX_IMAGE_BYTES", 100)
    upload("uploads/huge.png", b"x" * 101)
    code = job.main(["--bucket", BUCKET, "--key", "uploads/huge.png", "--table", TABLE])
    assert code == job.EXIT_FAILED
    assert "is 101 bytes" in caplog.text
    assert stored_item(BUCKET, "uploads/huge.png") is None


def test_a_rekognition_error_fails_the_job_and_writes_nothing(
    rekognition: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    upload("uploads/not-an-image.png", b"plain text")
    rekognition.add_client_error("detect_labels", "InvalidImageFormatException", "Request has invalid image format")
    code = job.main(["--bucket", BUCKET, "--key", "uploads/not-an-image.png", "--table", TABLE])
    assert code == job.EXIT_FAILED
    assert "InvalidImageFormatException" in caplog.text
    assert stored_item(BUCKET, "uploads/not-an-image.png") is None


def test_relabelling_an_image_overwrites_its_item(rekognition: Stubber) -> None:
    upload("uploads/dog.png")
    expect_detect_labels(rekognition, "uploads/dog.png")
    rekognition.add_response("detect_labels", {"Labels": [{"Name": "Cat", "Confidence": 99.0}]})
    assert job.main(["--bucket", BUCKET, "--key", "uploads/dog.png", "--table", TABLE]) == 0
    assert job.main(["--bucket", BUCKET, "--key", "uploads/dog.png", "--table", TABLE]) == 0
    item = stored_item(BUCKET, "uploads/dog.png")
    assert item is not None and item["label_names"] == ["Cat"]
    assert boto3.client("dynamodb").scan(TableName=TABLE)["Count"] == 1


def test_an_object_outside_the_jobs_permissions_fails_with_a_clear_message(
    rekognition: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an S3 client that is refused the object (the job role reads only the upload prefix)
    s3 = boto3.client("s3")
    with Stubber(s3) as denied:
        denied.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
        request = job.Request(BUCKET, "private/secret.png", TABLE)
        # WHEN the job looks for the image
        with pytest.raises(job.JobError, match="access denied") as error:
            job.locate_image(s3, request)
    # THEN it fails with a message saying why, not with a traceback
    assert error.value.exit_code == job.EXIT_FAILED
