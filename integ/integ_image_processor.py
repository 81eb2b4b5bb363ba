"""Integration test of the image processor: upload an image, find its labels item in DynamoDB.

What a user does after ``cdk deploy ImageProcessor``: ``aws s3 cp photo.png s3://<bucket>/uploads/photo.png``; S3
tells EventBridge, whose rule submits the labelling job on the On-Demand EC2 environment. Here a ``BucketDeployment``
uploads ``fixtures/images/integ-test.png`` (a red disc, 256x256) as the last resource of the stack, after the rule
exists (an image cannot be sent through an SDK call's JSON parameters). The assertions wait until the job's item
appears (the job's last step; a new instance takes a few minutes to start) and check that a job SUCCEEDED in the
queue. Which labels Rekognition gives a red disc is not asserted: only that the job stored its answer.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import integ_tests_alpha as integ

from apps.image_processor.stack import UPLOAD_PREFIX, ImageProcessorStack
from integ._common import FIXTURES, SHORT_TIMEOUT, disposable, integ_test, main, wait_until

IMAGE = FIXTURES / "images" / "integ-test.png"
IMAGE_KEY = f"{UPLOAD_PREFIX}{IMAGE.name}"


def build(app: cdk.App) -> integ.IntegTest:
    stack = ImageProcessorStack(app, "IntegImageProcessor")
    disposable(stack)
    # WHEN an image is uploaded under uploads/, after the rule that submits the job exists
    upload = s3deploy.BucketDeployment(
        stack,
        "IntegUpload",
        sources=[s3deploy.Source.asset(str(FIXTURES / "images"))],
        destination_bucket=stack.images,
        destination_key_prefix=UPLOAD_PREFIX,
        prune=False,
        retain_on_delete=False,
    )
    upload.node.add_dependency(stack.trigger)
    test = integ_test(app, "ImageProcessor", [stack])

    # THEN the job writes the image's item (partition key s3://bucket/key; its size proves it read the object)
    image_id = f"s3://{stack.images.bucket_name}/{IMAGE_KEY}"
    item = wait_until(
        test.assertions.aws_api_call(
            "DynamoDB", "getItem", {"TableName": stack.table.table_name, "Key": {"image": {"S": image_id}}}
        ),
        integ.ExpectedResult.object_like(
            {
                "Item": {
                    "image": {"S": image_id},
                    "key": {"S": IMAGE_KEY},
                    "size_bytes": {"N": str(IMAGE.stat().st_size)},
                }
            }
        ),
    )
    # AND the queue lists the job as SUCCEEDED (the item is written last: the job exits right after it)
    succeeded = wait_until(
        test.assertions.aws_api_call(
            "Batch", "listJobs", {"jobQueue": stack.platform.queue.job_queue_arn, "jobStatus": "SUCCEEDED"}
        ),
        integ.ExpectedResult.object_like(
            {"jobSummaryList": integ.Match.array_with([integ.Match.object_like({"status": "SUCCEEDED"})])}
        ),
        timeout=SHORT_TIMEOUT,
    )
    item.next(succeeded)
    return test


if __name__ == "__main__":
    main(build)
