"""The movies importer written directly on the aws-cdk-lib L2, without batch_constructs: the benchmark's baseline.

It builds the same resources as ``apps/movies_importer`` (same VPC shape, flow logs, endpoints, KMS key, Fargate Spot
and Fargate environments, queue with time-limit actions, job definition, roles with customer-managed policies, log
groups, buckets, table, state machine, schedule, topic and dead-letter queue) with the same properties, under the same
construct ids (plain ``Construct`` scopes where the library has a construct), so the two templates have the same
logical ids and can be compared resource by resource (``benchmarks/run.py`` stops unless every resource is the same,
properties included, so that a library change the baseline does not follow is noticed, not measured).

What the library does for the user is written out here by hand, as a careful L2 user would: exact IAM statements in
customer-managed policies (the roles are passed to the L2 as ``without_policy_updates()`` so that no inline policy
appears), the queue's time-limit actions, the Spot-aware retry strategy, the job state's timeout (a ``CustomState``:
the L2 ``BatchSubmitJob`` never writes ``TimeoutSeconds``), the compute environments' property deletions, the key
policy statements for CloudWatch Logs and EventBridge. The cdk-nag acknowledgements of the resources the app itself
creates or grants (buckets, table, the job's and the execution role's policies) are repeated, wherever the app now
gets them from (its own code or the library's storage helpers and roles); the library's other internal ones (network
routes, dead-letter queue, state machine policy) are not: their few milliseconds count as library overhead.
"""

from __future__ import annotations

import pathlib
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import Aws, Duration, Fn, RemovalPolicy, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

#: The same job code (and so the same image asset hash) as the library version.
JOB_DIR: Final = pathlib.Path(__file__).resolve().parents[1] / "apps" / "movies_importer" / "job"
UPLOAD_PREFIX: Final = "uploads/"
DAILY_FILE: Final = f"{UPLOAD_PREFIX}movies.zip"
REJECTS_PREFIX: Final = "rejects/"
STACK_NAME: Final = "MoviesImporter"

_RETENTION: Final = logs.RetentionDays.ONE_YEAR
_ECS_TASKS: Final = "ecs-tasks.amazonaws.com"
_CONTROL_PACKS: Final = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the L2 ``MoviesImporter`` stack to ``app`` (same stack name as the library version)."""
    return [MoviesImporterL2Stack(app, STACK_NAME)]


def _acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def _acknowledge_in_packs(
    construct: IConstruct, rule: str, reason: str, packs: tuple[str, ...] = _CONTROL_PACKS
) -> None:
    for pack in packs:
        _acknowledge(construct, f"{pack}::{pack}-{rule}", reason)


def _ecs_tasks() -> iam.ServicePrincipal:
    return iam.ServicePrincipal(_ECS_TASKS, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}})


def _via(service: str) -> dict[str, Any]:
    return {"StringEquals": {"kms:ViaService": f"{service}.{Aws.REGION}.amazonaws.com"}}


def _cfn(construct: Construct) -> cdk.CfnResource:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return resource


class MoviesImporterL2Stack(cdk.Stack):
    """Uploads bucket, movies table, VPC, Fargate environments and queue, import job, state machine, daily schedule."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="batch-constructs example: imports a zipped movies CSV from S3 into DynamoDB with AWS Batch",
            **kwargs,
        )
        self.key = kms.Key(
            self,
            "BatchConstructsKey",
            description="batch-constructs: encrypts the log groups, topics and queues of this stack's Batch platform",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        logs_arn = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsInThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
            )
        )
        self._storage()
        self._platform()
        self._job()
        self._state_machine()
        self._schedule()
        cdk.CfnOutput(self, "UploadsBucketName", value=self.uploads.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "JobQueueArn", value=self.queue.job_queue_arn)
        cdk.CfnOutput(self, "JobDefinitionArn", value=self.job_definition.job_definition_arn)
        cdk.CfnOutput(self, "JobLogGroupName", value=self.job_logs.log_group_name)
        self._acknowledge_app_findings()

    def _log_group(self, scope: Construct, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(scope, construct_id, retention=_RETENTION, encryption_key=self.key)

    def _storage(self) -> None:
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.uploads = s3.Bucket(
            self,
            "Uploads",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="uploads/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table = dynamodb.Table(
            self,
            "Movies",
            partition_key=dynamodb.Attribute(name="movieId", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _platform(self) -> None:
        """VPC (2 AZs, 1 NAT), flow logs, S3 and DynamoDB gateway endpoints, jobs' security group, two Fargate
        environments (Spot first) and a queue that cancels jobs stuck in RUNNABLE."""
        self.platform = Construct(self, "Platform")
        network = Construct(self.platform, "Network")
        self.vpc = ec2.Vpc(
            network,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                ),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ],
        )
        # The restrict-default-SG provider's handler already references its role (cfn-lint W3005 on the DependsOn).
        provider = self.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is not None:
            handler, role = provider.node.try_find_child("Handler"), provider.node.try_find_child("Role")
            if isinstance(handler, cdk.CfnResource) and isinstance(role, cdk.CfnResource):
                handler.remove_resource_dependency(role)

        flow_logs = self._log_group(network, "FlowLogs")
        flow_role = iam.Role(
            network,
            "FlowLogsRole",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="ec2", resource="vpc-flow-log", resource_name="*"
                        )
                    },
                },
            ),
        )
        iam.ManagedPolicy(
            flow_role,
            "Policy",
            roles=[flow_role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[flow_logs.log_group_arn],
                )
            ],
        )
        ec2.FlowLog(
            network,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs, flow_role.without_policy_updates()),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        ec2.GatewayVpcEndpoint(network, "S3Endpoint", vpc=self.vpc, service=ec2.GatewayVpcEndpointAwsService.S3)
        ec2.GatewayVpcEndpoint(
            network, "DynamoDbEndpoint", vpc=self.vpc, service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
        )
        jobs_sg = ec2.SecurityGroup(
            network,
            "JobsSecurityGroup",
            vpc=self.vpc,
            description="Batch jobs: no inbound traffic, outbound to anywhere (images, AWS APIs, data)",
            allow_all_outbound=True,
        )

        environments = []
        for construct_id, spot in (("FargateSpot", True), ("Fargate", False)):
            environment = batch.FargateComputeEnvironment(
                Construct(self.platform, construct_id),
                "Resource",
                vpc=self.vpc,
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[jobs_sg],
                spot=spot,
                maxv_cpus=256,
                enabled=True,
            )
            # Fargate environments reject these on update (aws-cdk #27054).
            cfn = _cfn(environment)
            for prop in ("UpdatePolicy", "ReplaceComputeEnvironment", "ComputeResources.UpdateToLatestImageVersion"):
                cfn.add_property_deletion_override(prop)
            environments.append(environment)

        cancel = batch.JobStateTimeLimitActionsAction.CANCEL
        runnable = batch.JobStateTimeLimitActionsState.RUNNABLE
        reasons = batch.JobStateTimeLimitActionsReason
        self.queue = batch.JobQueue(
            Construct(self.platform, "FargateQueue"),
            "Resource",
            priority=1,
            job_state_time_limit_actions=[
                batch.JobStateTimeLimitAction(max_time=max_time, reason=reason, action=cancel, state=runnable)
                for max_time, reason in (
                    (Duration.minutes(10), reasons.JOB_RESOURCE_REQUIREMENT),
                    (Duration.minutes(10), reasons.COMPUTE_ENVIRONMENT_MAX_RESOURCE),
                    (Duration.hours(4), reasons.INSUFFICIENT_INSTANCE_CAPACITY),
                )
            ],
            enabled=True,
        )
        for order, environment in enumerate(environments, start=1):
            self.queue.add_compute_environment(environment, order)

    def _job(self) -> None:
        """The import job: its own log group, execution role (image pull, own log group) and job role (exactly what
        importer.py calls), 1 vCPU / 2 GiB on Fargate, Spot-aware retries, one-hour timeout."""
        job = Construct(self.platform, "ImportJob")
        job_role = iam.Role(
            job,
            "JobRole",
            assumed_by=_ecs_tasks(),
            description="Batch job role: what the job's code may access",
        )
        execution_role = iam.Role(
            job,
            "ExecutionRole",
            assumed_by=_ecs_tasks(),
            description="Batch execution role: image pull, own log group, own secrets",
        )
        self.job_logs = self._log_group(job, "LogGroup")
        asset = ecr_assets.DockerImageAsset(job, "Image", directory=str(JOB_DIR))
        iam.ManagedPolicy(
            execution_role,
            "Policy",
            roles=[execution_role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.job_logs.log_group_arn]
                ),
                iam.PolicyStatement(
                    actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                    resources=[asset.repository.repository_arn],
                ),
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            ],
        )
        container = batch.EcsFargateContainerDefinition(
            job,
            "Container",
            image=ecs.ContainerImage.from_docker_image_asset(asset),
            cpu=1,
            memory=Size.gibibytes(2),
            command=["--bucket", "Ref::bucket", "--file-path", "Ref::file_path", "--table-name", "Ref::table_name"],
            job_role=job_role.without_policy_updates(),
            execution_role=execution_role.without_policy_updates(),
            logging=ecs.LogDriver.aws_logs(stream_prefix="job", log_group=self.job_logs),
            readonly_root_filesystem=False,
            assign_public_ip=False,
            fargate_cpu_architecture=ecs.CpuArchitecture.X86_64,
            fargate_operating_system_family=ecs.OperatingSystemFamily.LINUX,
        )
        retry, exit_ = batch.Action.RETRY, batch.Action.EXIT
        self.job_definition = batch.EcsJobDefinition(
            job,
            "Resource",
            container=container,
            parameters={
                "bucket": self.uploads.bucket_name,
                "file_path": DAILY_FILE,
                "table_name": self.table.table_name,
            },
            retry_attempts=5,
            retry_strategies=[
                batch.RetryStrategy.of(retry, batch.Reason.custom(on_status_reason="Host EC2*")),
                batch.RetryStrategy.of(retry, batch.Reason.custom(on_status_reason="Your Spot Task was interrupted*")),
                batch.RetryStrategy.of(exit_, batch.Reason.custom(on_reason="*")),
            ],
            timeout=Duration.hours(1),
            propagate_tags=True,
            skip_deregister_on_update=True,
        )
        iam.ManagedPolicy(
            job_role,
            "Policy",
            roles=[job_role],
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[self.uploads.arn_for_objects(f"{UPLOAD_PREFIX}*")]
                ),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.uploads.bucket_arn]),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn], conditions=_via("s3")
                ),
                iam.PolicyStatement(
                    actions=["s3:PutObject"], resources=[self.uploads.arn_for_objects(f"{REJECTS_PREFIX}*")]
                ),
                iam.PolicyStatement(actions=["dynamodb:BatchWriteItem"], resources=[self.table.table_arn]),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[self.key.key_arn],
                    conditions=_via("dynamodb"),
                ),
            ],
        )
        self.job_role, self.execution_role = job_role, execution_role
        name = Fn.select(0, Fn.split(":", Fn.select(1, Fn.split("/", self.job_definition.job_definition_arn))))
        self.job_definition_revisions = Stack.of(self).format_arn(
            service="batch", resource="job-definition", resource_name=f"{name}:*"
        )

    def _state_machine(self) -> None:
        """Step Functions runs the job with submitJob.sync (state timeout 5 attempts x 1 h + 4 h in the queue,
        throttling retries, Catch -> SNS alert -> Fail), logging ALL to an encrypted log group, X-Ray on."""
        scope = Construct(self, "ImportStateMachine")
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="batch-constructs: Step Functions role that submits and watches this state machine's jobs",
        )
        self.topic = sns.Topic(
            scope, "FailureTopic", display_name="AWS Batch job failures", master_key=self.key, enforce_ssl=True
        )
        log_group = self._log_group(scope, "LogGroup")
        stack = Stack.of(self)
        policy = iam.ManagedPolicy(
            role,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn], conditions=_via("sns")
                ),
                iam.PolicyStatement(
                    actions=["batch:SubmitJob"],
                    resources=[self.queue.job_queue_arn, self.job_definition_revisions],
                ),
                iam.PolicyStatement(actions=["batch:DescribeJobs"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["batch:TerminateJob"],
                    resources=[stack.format_arn(service="batch", resource="job", resource_name="*")],
                ),
                iam.PolicyStatement(
                    actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                    resources=[
                        stack.format_arn(service="events", resource="rule/StepFunctionsGetEventsForBatchJobsRule")
                    ],
                ),
                iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]),
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogDelivery",
                        "logs:GetLogDelivery",
                        "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery",
                        "logs:ListLogDeliveries",
                        "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies",
                        "logs:DescribeLogGroups",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    actions=[
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                    ],
                    resources=["*"],
                ),
            ],
        )

        notify = tasks.SnsPublish(
            scope,
            "NotifyFailure",
            topic=self.topic,
            subject="AWS Batch job failed",
            message=sfn.TaskInput.from_object(
                {
                    "stateMachine": sfn.JsonPath.state_machine_id,
                    "execution": sfn.JsonPath.execution_id,
                    "error": sfn.JsonPath.string_at("$.error.Error"),
                    "cause": sfn.JsonPath.string_at("$.error.Cause"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        notify.add_retry(max_attempts=3, interval=Duration.seconds(2), backoff_rate=2)
        failure = notify.next(sfn.Fail(scope, "Failed", error_path="$.error.Error", cause_path="$.error.Cause"))
        attempts, job_timeout, queue_wait = 5, Duration.hours(1), Duration.hours(4)
        state_seconds = int(job_timeout.to_seconds()) * attempts + int(queue_wait.to_seconds())
        submit = sfn.CustomState(
            scope,
            "SubmitJob",
            state_json={
                "Type": "Task",
                "ResultPath": "$.job",
                "ResultSelector": {"JobId.$": "$.JobId", "JobName.$": "$.JobName", "Status.$": "$.Status"},
                "Resource": f"arn:{Aws.PARTITION}:states:::batch:submitJob.sync",
                "Parameters": {
                    "JobDefinition": self.job_definition.job_definition_arn,
                    "JobName": "ImportJob",
                    "JobQueue": self.queue.job_queue_arn,
                    "Parameters.$": "$.parameters",
                },
                "TimeoutSeconds": state_seconds,
            },
        )
        submit.add_retry(
            errors=["Batch.AWSBatchException", "Batch.TooManyRequestsException", "Batch.ServerException"],
            interval=Duration.seconds(5),
            backoff_rate=2,
            max_attempts=6,
            max_delay=Duration.minutes(2),
            jitter_strategy=sfn.JitterType.FULL,
        )
        submit.add_catch(failure, errors=[sfn.Errors.ALL], result_path="$.error")
        no_parameters = sfn.Pass(
            scope,
            "NoParameters",
            comment="No parameters in the input: submit with the job definition's defaults",
            result=sfn.Result.from_object({}),
            result_path="$.parameters",
        )
        start = (
            sfn.Choice(scope, "HasParameters", comment="Does the execution input carry job parameters?")
            .when(sfn.Condition.is_present("$.parameters"), submit)
            .otherwise(no_parameters.next(submit))
        )
        self.machine = sfn.StateMachine(
            scope,
            "Resource",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            comment="Runs the AWS Batch job MoviesImporter/Platform/ImportJob and waits for it (batch-constructs)",
            role=role.without_policy_updates(),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.seconds(state_seconds).plus(Duration.minutes(5)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        # Creating the state machine checks its logging permissions: the policy must exist first.
        _cfn(self.machine).add_override("DependsOn", [stack.get_logical_id(_cfn(policy))])
        self.states_policy = policy

    def _schedule(self) -> None:
        """A daily EventBridge rule at 03:00 UTC that starts the state machine, with retries and a dead-letter
        queue (KMS, TLS-only, 14 days) that only this rule may write to."""
        scope = Construct(self, "DailyImport")
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="batch-constructs: EventBridge schedule MoviesImporter/DailyImport",
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeInThisAccount",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.dead_letter_queue = sqs.Queue(
            scope,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        rule = events.Rule(
            scope,
            "Rule",
            schedule=events.Schedule.cron(minute="0", hour="3"),
            enabled=True,
            description="batch-constructs: runs MoviesImporter/ImportStateMachine on a schedule",
        )
        rule.add_target(
            events_targets.SfnStateMachine(
                self.machine,
                role=role.without_policy_updates(),
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=8,
                max_event_age=Duration.hours(1),
                input=events.RuleTargetInput.from_object({"parameters": {"file_path": DAILY_FILE}}),
            )
        )
        iam.ManagedPolicy(
            role,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.machine.state_machine_arn])
            ],
        )

    def _acknowledge_app_findings(self) -> None:
        """The acknowledgements ``apps/movies_importer/stack.py`` itself places (same findings, same constructs)."""
        job_policy = self.job_role.node.find_child("Policy")
        uploads = _cfn(self.uploads)
        for prefix, action in ((UPLOAD_PREFIX, "s3:GetObject"), (REJECTS_PREFIX, "s3:PutObject")):
            _acknowledge(
                job_policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self.get_logical_id(uploads)}.Arn>/{prefix}*]",
                f"{action} on the {prefix} prefix of the one uploads bucket: the object key is known only at run time.",
            )
        _acknowledge(
            self.execution_role.node.find_child("Policy"),
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only ecr:GetAuthorizationToken uses Resource '*': the action has no resource-level permission.",
        )
        for bucket in (self.uploads, self.access_logs):
            _acknowledge_in_packs(
                _cfn(bucket),
                "S3BucketReplicationEnabled",
                "Versioned and retained; cross-region replication needs a second, region-bound stack.",
            )
        _acknowledge_in_packs(
            _cfn(self.access_logs),
            "S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to SSE-S3 buckets.",
        )
        _acknowledge_in_packs(
            _cfn(self.table),
            "DynamoDBInBackupPlan",
            "A derived copy of the versioned uploads; point-in-time recovery is on.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
