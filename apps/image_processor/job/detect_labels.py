"""Label one image in S3 with Amazon Rekognition DetectLabels and store the labels in a DynamoDB table.

Run by the ImageProcessor job definition as::

    python /app/detect_labels.py --bucket Ref::bucket --key Ref::key --table Ref::table

AWS Batch replaces each ``Ref::name`` with the job parameter ``name``: the upload trigger passes ``bucket`` and ``key``
from the S3 "Object Created" event, the job definition's default parameters supply ``table``. A parameter that was
never passed reaches the container as the literal text ``Ref::name``; the job treats that as missing and stops with
exit code 2 and a message naming the parameter, instead of sending nonsense to Rekognition.

The table item (partition key ``image`` = ``s3://bucket/key``) holds the labels with their confidences (as
``Decimal``, which is what DynamoDB numbers are), the parent labels, the model version and when it was labelled.
Labelling the same image again overwrites its item, so a retried or re-submitted job is harmless.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger("detect_labels")

#: DetectLabels asks for at most this many labels ...
MAX_LABELS = 10
#: ... with at least this confidence (percent). Rekognition's own default is 55, which labels a lot of noise.
MIN_CONFIDENCE = 75.0
#: Rekognition's limit for an image read from S3 (15 MB); larger images fail with ImageTooLargeException.
MAX_IMAGE_BYTES = 15 * 1024 * 1024

#: Exit code for missing or invalid parameters (the job should not be retried with the same input).
EXIT_USAGE = 2
#: Exit code when the image cannot be labelled (missing, too large, unsupported format, AWS error).
EXIT_FAILED = 1


class JobError(Exception):
    """A failure with a message meant for the job's log; ``exit_code`` is what the container exits with."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Request:
    """What to label and where to store it."""

    bucket: str
    key: str
    table: str
    max_labels: int = MAX_LABELS
    min_confidence: float = MIN_CONFIDENCE

    @property
    def image_id(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _given(value: str | None) -> bool:
    """False for a missing or empty value and for an unsubstituted ``Ref::name`` placeholder."""
    return bool(value and value.strip()) and not (value or "").startswith("Ref::")


def parse_args(argv: Sequence[str]) -> Request:
    """The request from the command line; every missing parameter is named in one ``JobError``."""
    parser = argparse.ArgumentParser(prog="detect_labels", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bucket", help="bucket of the image (job parameter 'bucket')")
    parser.add_argument("--key", help="key of the image (job parameter 'key')")
    parser.add_argument("--table", help="DynamoDB table for the labels (job parameter 'table')")
    parser.add_argument("--max-labels", type=int, default=MAX_LABELS, help=f"default {MAX_LABELS}")
    parser.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE, help=f"default {MIN_CONFIDENCE}")
    args = parser.parse_args(list(argv))
    missing = [name for name in ("bucket", "key", "table") if not _given(getattr(args, name))]
    if missing:
        raise JobError(
            "missing job parameter(s): "
            + ", ".join(missing)
            + ". Submit the job with --parameters "
            + ",".join(f"{name}=..." for name in missing)
            + " (a literal 'Ref::name' in the command means the parameter was not passed).",
            EXIT_USAGE,
        )
    if not 1 <= args.max_labels <= 1000:
        raise JobError(f"--max-labels {args.max_labels} is out of range: use 1-1000", EXIT_USAGE)
    if not 0 <= args.min_confidence <= 100:
        raise JobError(f"--min-confidence {args.min_confidence} is out of range: use 0-100 (percent)", EXIT_USAGE)
    return Request(args.bucket, args.key, args.table, args.max_labels, args.min_confidence)


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        head: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise JobError(
                f"s3://{bucket}/{key}: access denied (the job may read only the bucket's upload prefix)"
            ) from error
        raise JobError(f"s3://{bucket}/{key}: cannot read it: {error}") from error
    return head


def locate_image(s3: Any, request: Request) -> tuple[Request, int]:
    """The request with the key as stored, and the image's size; checks the image exists and is small enough.

    S3 event notifications URL-encode keys ("red flower.jpg" arrives as "red+flower.jpg"); when the key as given does
    not exist but its decoded form does, the decoded key is used.
    """
    head = _head(s3, request.bucket, request.key)
    if head is None:
        decoded = unquote_plus(request.key)
        if decoded != request.key:
            head = _head(s3, request.bucket, decoded)
            if head is not None:
                request = Request(request.bucket, decoded, request.table, request.max_labels, request.min_confidence)
    if head is None:
        raise JobError(f"{request.image_id} does not exist (was it deleted before the job ran?)")
    size = int(head.get("ContentLength", 0))
    if size > MAX_IMAGE_BYTES:
        raise JobError(
            f"{request.image_id} is {size} bytes; Rekognition reads images from S3 up to {MAX_IMAGE_BYTES} bytes"
        )
    return request, size


def detect_labels(rekognition: Any, request: Request) -> dict[str, Any]:
    """Call DetectLabels on the S3 object (Rekognition reads it with the job's own credentials)."""
    try:
        response: dict[str, Any] = rekognition.detect_labels(
            Image={"S3Object": {"Bucket": request.bucket, "Name": request.key}},
            MaxLabels=request.max_labels,
            MinConfidence=request.min_confidence,
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise JobError(f"Rekognition could not label {request.image_id}: {code}: {error}") from error
    return response


def _decimal(value: float) -> Decimal:
    """A DynamoDB number from a float, rounded to what Rekognition's confidences mean (3 decimals)."""
    return Decimal(str(round(value, 3)))


def to_item(request: Request, response: dict[str, Any], *, size: int, now: datetime | None = None) -> dict[str, Any]:
    """The table item for one labelled image."""
    labels = [
        {
            "name": label["Name"],
            "confidence": _decimal(label["Confidence"]),
            "parents": [parent["Name"] for parent in label.get("Parents", [])],
            "instances": len(label.get("Instances", [])),
        }
        for label in response.get("Labels", [])
    ]
    item: dict[str, Any] = {
        "image": request.image_id,
        "bucket": request.bucket,
        "key": request.key,
        "size_bytes": size,
        "labels": labels,
        "label_names": [label["name"] for label in labels],
        "max_labels": request.max_labels,
        "min_confidence": _decimal(request.min_confidence),
        "labelled_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    if response.get("LabelModelVersion"):
        item["model_version"] = response["LabelModelVersion"]
    return item


def process(request: Request, *, s3: Any, rekognition: Any, dynamodb: Any) -> dict[str, Any]:
    """Label the image and store the item; returns the item written."""
    request, size = locate_image(s3, request)
    LOG.info("labelling %s (%d bytes)", request.image_id, size)
    response = detect_labels(rekognition, request)
    item = to_item(request, response, size=size)
    try:
        dynamodb.Table(request.table).put_item(Item=item)
    except ClientError as error:
        raise JobError(f"could not write the labels of {request.image_id} to table {request.table}: {error}") from error
    LOG.info(
        "%s: %d label(s) written to %s: %s",
        request.image_id,
        len(item["labels"]),
        request.table,
        ", ".join(f"{label['name']} ({label['confidence']}%)" for label in item["labels"]) or "none",
    )
    return item


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the container; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        request = parse_args(sys.argv[1:] if argv is None else argv)
        process(
            request,
            s3=boto3.client("s3"),
            rekognition=boto3.client("rekognition"),
            dynamodb=boto3.resource("dynamodb"),
        )
    except JobError as error:
        LOG.error("%s", error)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
