"""Integration test of the file scanner: upload a file with a fake secret, find the scan's status item and result.

What a user does after ``cdk deploy FileScanner``: ``aws s3 cp file s3://<uploads>/incoming/file``; S3 tells
EventBridge, whose rule submits the scanner job on the Spot (then On-Demand) environment. Here the assertion stack
uploads a small text file with ``PutObject`` (the user's ``aws s3 cp``), waits until the status item says
``SUCCEEDED`` with the one finding the file holds (a new Spot instance takes a few minutes), and checks that the
result JSON is in the results bucket.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from apps.file_scanner.stack import INCOMING_PREFIX, RESULTS_PREFIX, FileScannerStack
from batch_constructs.storage import stack_encryption_key
from integ._common import allow_key, disposable, integ_test, main, wait_until

KEY = f"{INCOMING_PREFIX}integ-test.txt"
#: One string the scanner's default "aws-access-key-id" pattern finds (made up: AKIA and 16 upper-case letters or
#: digits), in a few lines of text that match nothing else.
BODY = "\n".join(
    [
        "batch-constructs integration test file.",
        "A made-up access key id for the scanner to find: " + "AKIA" + "INTEGTEST0000000",
        "Nothing else here looks like a secret.",
        "",
    ]
)


def build(app: cdk.App) -> integ.IntegTest:
    stack = FileScannerStack(app, "IntegFileScanner")
    disposable(stack)
    test = integ_test(app, "FileScanner", [stack])

    # WHEN a file is uploaded under incoming/ (the bucket encrypts it with the stack's KMS key)
    upload = test.assertions.aws_api_call(
        "S3", "putObject", {"Bucket": stack.uploads.bucket_name, "Key": KEY, "Body": BODY}
    )
    allow_key(upload, stack_encryption_key(stack), ["kms:GenerateDataKey"])
    # THEN the status item says SUCCEEDED with one finding ...
    status = wait_until(
        test.assertions.aws_api_call(
            "DynamoDB", "getItem", {"TableName": stack.table.table_name, "Key": {"key": {"S": KEY}}}
        ),
        integ.ExpectedResult.object_like(
            {"Item": {"key": {"S": KEY}, "status": {"S": "SUCCEEDED"}, "findings_count": {"N": "1"}}}
        ),
    )
    # ... AND the result JSON in the results bucket names the key and counts the finding (GetObject: ListObjectsV2 is
    # no IAM action, and the permission integ-tests derives from it would be refused)
    result = test.assertions.aws_api_call(
        "S3", "getObject", {"Bucket": stack.results.bucket_name, "Key": f"{RESULTS_PREFIX}{KEY}.json"}
    )
    result.expect(
        integ.ExpectedResult.object_like(
            {"Body": integ.Match.serialized_json(integ.Match.object_like({"key": KEY, "findings_count": 1}))}
        )
    )
    allow_key(result, stack_encryption_key(stack), ["kms:Decrypt"])
    upload.next(status).next(result)
    return test


if __name__ == "__main__":
    main(build)
