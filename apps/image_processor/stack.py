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
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from batch_constructs import BatchPlatform
from batch_constructs._compliance import acknowledge, acknowledge_in_packs
from batch_constructs._iam import ManagedPolicyRole
from batch_constructs._logs import default_key
from batch_constructs.s3_trigger import S3UploadTrigger

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
        key = default_key(self)  # the stack's customer-managed key: logs, dead-letter queue, images bucket

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logging delivers only to SSE-S3 buckets
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.images = s3.Bucket(
            self,
            "Images",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,  # one KMS request per object instead of per read: KMS cost stays negligible
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="images/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.table = dynamodb.Table(
            self,
            "Labels",
            partition_key=dynamodb.Attribute(name="image", type=dynamodb.AttributeType.STRING),  # s3://bucket/key
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # nothing billed while no image is labelled
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
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
        self._grant_job_access(key)
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

    def _grant_job_access(self, key: kms.IKey) -> None:
        """Exactly what detect_labels.py calls, with no wildcard action.

        Rekognition reads the image from S3 with the caller's credentials, so the job role itself needs GetObject
        (also what HeadObject checks) under ``uploads/`` and kms:Decrypt of the bucket's key. ListBucket makes a missing
        key a 404 (which the job reports, and uses to try the URL-decoded key) rather than a 403. DetectLabels has no
        resource-level permissions. PutItem on the one table.
        """
        role = self.job.job_role
        for statement in (
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.images.arn_for_objects(f"{UPLOAD_PREFIX}*")]),
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.images.bucket_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]),
            iam.PolicyStatement(actions=["rekognition:DetectLabels"], resources=["*"]),
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[self.table.table_arn]),
        ):
            role.add_to_principal_policy(statement)

    def _acknowledge_inherent_findings(self) -> None:
        """The findings this architecture cannot fix, each on the one resource or policy it is about."""
        job_policy = _managed_policy(self.job.job_role)
        acknowledge(
            job_policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self.get_logical_id(_cfn(self.images))}.Arn>/{UPLOAD_PREFIX}*]",
            "s3:GetObject on the uploads/ prefix of the one images bucket: each job labels the object its upload "
            "event names, so the key is known only at run time; the action is exact (no wildcard actions).",
        )
        acknowledge(
            job_policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only rekognition:DetectLabels uses Resource '*': the action has no resource-level permission (IAM service "
            "authorization reference) and reads only images the role may already read from S3.",
        )
        for bucket, why in (
            (self.images, "holds uploaded images that their owners still have and can upload again"),
            (self.access_logs, "holds the images bucket's server access logs (an audit aid S3 delivers best effort)"),
        ):
            acknowledge_in_packs(
                _cfn(bucket),
                "S3BucketReplicationEnabled",
                f"The bucket {why}; it is versioned and retained on stack deletion. Cross-region replication would "
                "need a destination bucket in a second, region-bound stack (this example stack is environment-"
                "agnostic) and double the storage cost; add a replication rule when a second-region copy is required.",
            )
        acknowledge_in_packs(
            _cfn(self.access_logs),
            "S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to buckets encrypted with SSE-S3 (Amazon S3 managed keys), not "
            "SSE-KMS; the objects are encrypted at rest (AES-256), the bucket is private and TLS-only.",
        )
        acknowledge_in_packs(
            _cfn(self.table),
            "DynamoDBInBackupPlan",
            "The table holds one labels item per image, all derived from the retained, versioned images bucket: "
            "point-in-time recovery (on) restores it to any second of the last 35 days, and re-running the job on an "
            "image rebuilds its item. An AWS Backup plan would add a third copy, a vault and a role at extra cost.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )


def _cfn(construct: Construct) -> cdk.CfnResource:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return resource


def _managed_policy(role: iam.IRole) -> iam.ManagedPolicy:
    """The managed policy holding a library role's grants (see batch_constructs._iam.ManagedPolicyRole)."""
    assert isinstance(role, ManagedPolicyRole) and role.managed_policy is not None
    return role.managed_policy
