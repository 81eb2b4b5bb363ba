"""The image processor: each image uploaded under ``uploads/`` is labelled by Rekognition in a Batch job on EC2.

S3 sends "Object Created" to EventBridge; a rule (JPEG and PNG keys under ``uploads/`` only) submits the job with
the object's bucket and key as job parameters, and the job definition supplies the table as a default parameter
(no Lambda in between). The job calls Rekognition DetectLabels on the S3 object and writes the labels to DynamoDB.

Compared with the tutorial this follows ("Understanding AWS Batch: A Brief Introduction and Sample Project"): the
upload is really connected to the job (the original's Lambda was never subscribed to the bucket), the table reaches
the job as the table (the original passed the bucket name as the table name), and the job may touch only its one
bucket prefix, its one table and DetectLabels.
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from apps._tables import grant_table_key
from batch_constructs import (
    BatchPlatform,
    S3UploadTrigger,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    stack_encryption_key,
)
from batch_constructs.compliance import acknowledge, acknowledge_in_packs

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"

#: Images uploaded under this prefix are labelled; the job may read nothing else in the bucket.
UPLOAD_PREFIX: Final = "uploads/"
#: The formats DetectLabels reads (JPEG and PNG), in the spellings cameras and phones write.
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")
#: Each job is one DetectLabels call and one PutItem: seconds of work, waiting on the network.
JOB_VCPUS: Final = 1
JOB_MEMORY: Final = cdk.Size.mebibytes(1024)
#: A job that has not finished in ten minutes is hung (boto3 retries throttled calls itself): stop paying for it.
JOB_TIMEOUT: Final = cdk.Duration.minutes(10)
#: The environment's ceiling: 16 images labelled at once (16 one-vCPU jobs) bounds the bill of an upload burst.
MAX_VCPUS: Final = 16


class ImageProcessorStack(cdk.Stack):
    """Images bucket, labels table, an On-Demand EC2 Batch platform, the labelling job and its upload trigger.

    Attributes:
        images / access_logs / table / platform / job / trigger: what the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        # KMS with the stack's key (which also encrypts the logs and the dead-letter queue).
        self.images = data_bucket(
            self,
            "Images",
            access_logs=self.access_logs,
            noncurrent_version_expiration=cdk.Duration.days(30),
            replication_reason=(
                "The bucket holds uploaded images that their owners still have and can upload again; it is versioned "
                "and retained on stack deletion."
            ),
        )
        self.table = dynamodb.Table(
            self,
            "Labels",
            partition_key=dynamodb.Attribute(name="image", type=dynamodb.AttributeType.STRING),  # s3://bucket/key
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # nothing billed while no image is labelled
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=stack_encryption_key(self),  # see apps/_tables.py
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        # EC2 On-Demand (as the tutorial): an upload is labelled within minutes of arriving, never held RUNNABLE by a
        # Spot shortage; the job lasts seconds, so Spot's discount would save cents per thousand images. Min vCPUs 0:
        # no instance runs while nothing is uploaded.
        self.platform = BatchPlatform(
            self, "Platform", fargate=False, fargate_spot=False, on_demand=True, max_vcpus=MAX_VCPUS
        )
        self.job = self.platform.add_job(
            "LabelJob",
            image=ecs.ContainerImage.from_asset(str(JOB_DIR)),
            vcpus=JOB_VCPUS,
            memory=JOB_MEMORY,
            timeout=JOB_TIMEOUT,
            command=[
                "python",
                "/app/detect_labels.py",
                "--bucket",
                "Ref::bucket",
                "--key",
                "Ref::key",
                "--table",
                "Ref::table",
            ],
            parameters={"table": self.table.table_name},
        )
        self._grant_job_access()
        self.trigger = S3UploadTrigger(
            self,
            "OnUpload",
            bucket=self.images,
            job=self.job,
            prefixes=[UPLOAD_PREFIX],
            suffixes=IMAGE_SUFFIXES,
        )
        self._acknowledge_inherent_findings()

        cdk.CfnOutput(self, "ImagesBucketName", value=self.images.bucket_name)
        cdk.CfnOutput(self, "LabelsTableName", value=self.table.table_name)
        cdk.CfnOutput(self, "JobQueueArn", value=self.platform.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job.log_group.log_group_name)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=self.trigger.dead_letter_queue.queue_url)

    def _grant_job_access(self) -> None:
        """Exactly what detect_labels.py calls, with no wildcard action.

        Rekognition reads the image from S3 with the caller's credentials, so the job role itself needs GetObject
        (also what HeadObject checks) under ``uploads/`` and kms:Decrypt of the bucket's key. ListBucket makes a missing
        key a 404 (which the job reports, and uses to try the URL-decoded key) rather than a 403. DetectLabels has no
        resource-level permissions. PutItem on the one table, and its key through DynamoDB (apps/_tables.py).
        """
        role = self.job.job_role
        grant_read_objects(role, self.images, UPLOAD_PREFIX)
        for statement in (
            iam.PolicyStatement(actions=["rekognition:DetectLabels"], resources=["*"]),
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[self.table.table_arn]),
        ):
            role.add_to_principal_policy(statement)
        grant_table_key(role, self.table)  # the table's key, through DynamoDB only

    def _acknowledge_inherent_findings(self) -> None:
        """The findings this architecture cannot fix, each on the one resource or policy it is about."""
        job_policy = self.job.job_role.node.find_child("Policy")  # the JobRole's managed policy
        acknowledge(
            job_policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only rekognition:DetectLabels uses Resource '*': the action has no resource-level permission (IAM service "
            "authorization reference) and reads only images the role may already read from S3.",
        )
        acknowledge_in_packs(
            self.table.node.find_child("Resource"),
            "DynamoDBInBackupPlan",
            "The table holds one labels item per image, all derived from the retained, versioned images bucket: "
            "point-in-time recovery (on) restores it to any second of the last 35 days, and re-running the job on an "
            "image rebuilds its item. An AWS Backup plan would add a third copy, a vault and a role at extra cost.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
