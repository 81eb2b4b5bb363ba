"""The file scanner: each file uploaded under ``incoming/`` is scanned by a long-running Batch job on EC2 Spot.

S3 sends "Object Created" to EventBridge, whose rule submits the scanner job with the object's bucket, key and version
id as job parameters (no Lambda). The queue tries Spot first and On-Demand second; the job's Spot-aware retry policy
retries an attempt lost to a Spot reclaim and nothing else. The job writes ``results/<key>.v-<version>.json`` to the
results bucket and a status item per object version to DynamoDB; a failed job (after its retries) alerts an SNS topic.
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
    BatchAlerts,
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    RetryPolicy,
    S3UploadTrigger,
    SpotEnvironment,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    grant_write_objects,
    stack_encryption_key,
)
from batch_constructs.compliance import acknowledge_in_packs

JOB_DIR: Final = pathlib.Path(__file__).parent / "job"

#: Uploads under this prefix are scanned; nothing else in the bucket is (and the job may read nothing else).
INCOMING_PREFIX: Final = "incoming/"
#: Where the job writes result files in the results bucket (``results/<key>.v-<version>.json``).
RESULTS_PREFIX: Final = "results/"

#: The job's command: the parameters the upload trigger passes (see job/scanner.py).
SCANNER_COMMAND: Final = [
    *("python", "/app/scanner.py"),
    *("--bucket", "Ref::bucket", "--key", "Ref::key", "--version-id", "Ref::version_id"),
]

#: One attempt's limit. Measured on this project's (shared, slow) machines, the scanner reads about 60 MiB/s with the
#: default patterns and about 6 MiB/s with patterns written carelessly (a leading lookbehind disables re's fast
#: search), so a 2 GB file takes 35 s to 6 minutes of CPU, plus its download from S3 (tens of seconds). Two hours is
#: 20 times the slow worst case: no real scan is ever cut short, and a hung attempt (a stalled stream, a deadlock)
#: still stops the same morning instead of billing an instance for a day. Each Spot retry gets its own two hours.
SCAN_TIMEOUT: Final = cdk.Duration.hours(2)

#: Context key of an e-mail address for the failure alerts: ``cdk deploy FileScanner -c alert_email=ops@example.com``.
ALERT_EMAIL_CONTEXT: Final = "alert_email"

#: Each environment's ceiling: 64 vCPUs run 64 scans at once (1 vCPU each) and bound the bill of an upload burst.
MAX_VCPUS: Final = 64


class FileScannerStack(cdk.Stack):
    """Network, Spot + On-Demand queue, buckets, status table, scanner job, upload trigger and failure alerts.

    Attributes:
        network / spot / on_demand / queue / job / uploads / results / access_logs / table / trigger / alerts: what
        the stack creates.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: scans uploaded files for secrets with a long-running Spot job",
            **kwargs,
        )
        self.access_logs = access_logs_bucket(self, "AccessLogs")
        # KMS with the stack's key (which also encrypts the logs, topic and dead-letter queue); 2 GB uploads are
        # multipart, and parts of an upload that never completed are removed after 7 days.
        self.uploads = data_bucket(
            self,
            "Uploads",
            access_logs=self.access_logs,
            noncurrent_version_expiration=cdk.Duration.days(30),
            replication_reason=(
                "The bucket holds uploaded files that their owners still have and can upload again; it is versioned "
                "and retained on stack deletion."
            ),
        )
        self.results = data_bucket(
            self,
            "Results",
            access_logs=self.access_logs,
            noncurrent_version_expiration=cdk.Duration.days(30),
            replication_reason=(
                "The bucket holds scan results that a new scan of the same upload recreates; it is versioned and "
                "retained on stack deletion."
            ),
        )
        self.table = dynamodb.Table(
            self,
            "ScanStatus",
            partition_key=dynamodb.Attribute(name="key", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,  # nothing billed while no file is scanned
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=stack_encryption_key(self),  # see apps/_tables.py
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.network = BatchNetwork(self, "Network")  # 2 AZs, 1 NAT gateway, S3 and DynamoDB gateway endpoints
        self.spot = SpotEnvironment(self, "Spot", network=self.network, max_vcpus=MAX_VCPUS)
        self.on_demand = Ec2Environment(self, "OnDemand", network=self.network, max_vcpus=MAX_VCPUS)
        # Spot first (up to 90% cheaper); On-Demand takes the jobs Spot has no capacity for.
        self.queue = BatchQueue(self, "Queue", environments=[self.spot, self.on_demand])

        self.job = ContainerJob(
            self,
            "Scanner",
            image=ecs.ContainerImage.from_asset(str(JOB_DIR)),
            queue=self.queue,
            vcpus=1,  # the scan is one thread: more vCPUs would idle
            memory=cdk.Size.gibibytes(2),  # streamed in 8 MiB chunks: memory stays flat whatever the file size
            command=SCANNER_COMMAND,
            environment={"RESULTS_BUCKET": self.results.bucket_name, "STATUS_TABLE": self.table.table_name},
            retry=RetryPolicy.spot_aware(),  # 5 attempts, retried only when Spot reclaims the instance
            timeout=SCAN_TIMEOUT,
        )
        self._grant_job_access()
        # EventBridge submits the job for each object created under incoming/ (results go to another bucket, so the
        # job can never trigger itself).
        # The version id too: the job scans exactly the uploaded version, even if the key is overwritten before it runs.
        self.trigger = S3UploadTrigger(
            self,
            "OnUpload",
            bucket=self.uploads,
            job=self.job,
            prefixes=[INCOMING_PREFIX],
            version_parameter="version_id",
        )
        # A job that ends FAILED (after its Spot retries), or blocks the queue, posts to an encrypted SNS topic.
        self.alerts = BatchAlerts(
            self, "Alerts", queues=[self.queue], email=self.node.try_get_context(ALERT_EMAIL_CONTEXT)
        )
        self._acknowledge_inherent_findings()

        cdk.CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic.topic_arn)
        cdk.CfnOutput(self, "UploadsBucketName", value=self.uploads.bucket_name)
        cdk.CfnOutput(self, "ResultsBucketName", value=self.results.bucket_name)
        cdk.CfnOutput(self, "StatusTableName", value=self.table.table_name)
        cdk.CfnOutput(self, "JobQueueArn", value=self.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job.log_group.log_group_name)

    def _grant_job_access(self) -> None:
        """Exactly what scanner.py calls, with no wildcard action.

        Uploads: HeadObject/GetObject (of a version) under ``incoming/``, ListBucket (so a missing key is a 404, not
        a 403) and kms:Decrypt. Results: PutObject under ``results/``, kms:GenerateDataKey and kms:Decrypt (the latter
        for multipart uploads). Table: PutItem and UpdateItem, and its key through DynamoDB (apps/_tables.py).
        """
        role = self.job.job_role
        grant_read_objects(role, self.uploads, INCOMING_PREFIX, versions=True)
        grant_write_objects(role, self.results, RESULTS_PREFIX)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["dynamodb:PutItem", "dynamodb:UpdateItem"], resources=[self.table.table_arn])
        )
        grant_table_key(role, self.table)  # the table's key, through DynamoDB only

    def _acknowledge_inherent_findings(self) -> None:
        """The findings this architecture cannot fix, each on the one resource or policy it is about."""
        acknowledge_in_packs(
            self.table.node.find_child("Resource"),
            "DynamoDBInBackupPlan",
            "The table holds one status item per scanned upload, all derived from the retained uploads and results "
            "buckets: point-in-time recovery (on) restores it to any second of the last 35 days, and a re-scan "
            "rebuilds any item. An AWS Backup plan would add a third copy, a vault and a role at extra cost.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
