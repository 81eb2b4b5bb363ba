"""A Lambda function that submits a Batch job, for when submission needs logic: naming, de-duplication, choosing.

Where an EventBridge rule can submit the job directly (a schedule, an S3 upload: :class:`S3UploadTrigger`), prefer
that: nothing to run or patch. Use this when the event needs interpreting first - an S3 notification through SQS,
a request from an API, de-duplication of repeated deliveries.

The default handler (``batch_constructs/_lambda/submitter/index.py``, standard library and boto3 only) accepts S3
notifications (direct, or inside SQS or SNS messages), EventBridge events (S3 "Object Created", or any event whose
``detail`` holds ``parameters``) and plain requests ``{"parameters": {...}}``, and submits one job per record with
a deterministic name (see the handler's docstring for the event shapes and the de-duplication it does). Bring your
own code with ``code=``: the function still gets ``JOB_QUEUE`` and ``JOB_DEFINITION`` in its environment and the same
narrow permission.

From SQS, connect the queue with :meth:`LambdaSubmitter.add_sqs_source`: it turns on ``ReportBatchItemFailures``,
without which one failed message makes Lambda retry (and resubmit) the whole batch, or a swallowed failure deletes it.
Malformed requests are sent to the function's dead-letter queue with the reason and not retried.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._internal import dlq as _dlq
from .._internal import logs as _logs
from .._internal.compliance import acknowledge, acknowledge_in_packs
from .._internal.defaults import readable
from .._internal.iam import ManagedPolicyRole, add_key_statement
from .._internal.memo import adopt_stack, seconds_of, stack_of
from .._internal.validation import is_known, raise_if_any
from ..model import registry
from ..model import rules as _rules
from ..types import Queue
from ._common import AnyJob, parameter_problems, share_problems

__all__ = ["RUNTIME", "LambdaSubmitter"]

#: The default handler's directory (shipped as package data).
HANDLER_DIR = pathlib.Path(__file__).parents[1] / "_lambda" / "submitter"
#: The newest Python runtime aws-cdk-lib 2.275 knows (checked against ``lambda_.Runtime``).
RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Default function timeout: one SubmitJob call takes well under a second; a batch of 10 records a few seconds.
DEFAULT_TIMEOUT = readable(Duration.seconds(30), "Duration.seconds(30)")
#: Environment variables the construct sets; ``environment=`` cannot override them.
RESERVED_ENVIRONMENT = (
    "JOB_QUEUE",
    "JOB_DEFINITION",
    "JOB_NAME_PREFIX",
    "BUCKET_PARAMETER",
    "KEY_PARAMETER",
    "SHARE_IDENTIFIER",
    "SCHEDULING_PRIORITY",
    "DEDUPLICATE",
    "DEAD_LETTER_QUEUE_URL",
)
#: SQS event source defaults: Lambda's own batch size for SQS (10), and at most this long to gather a batch.
DEFAULT_SQS_BATCH_SIZE = 10


class LambdaSubmitter(Construct):
    """A Python Lambda function allowed to submit ``job`` to one queue, and nothing else.

    Invoke it with ``grant_invoke``, as an EventBridge or S3 target, or from an SQS event source. Failed asynchronous
    invocations (after Lambda's two retries) land in ``dead_letter_queue``.

    Attributes:
        function: the ``lambda_.Function`` (child ``Function``).
        role: its role (child ``Role``): ``batch:SubmitJob`` on the queue and ``job-definition/NAME:*``, writing to
            its own log group, X-Ray, and sending to its dead-letter queue (plus the network-interface actions with
            ``vpc=``); all in one customer-managed policy, no AWS managed policy.
        log_group: the function's log group (child ``LogGroup``).
        dead_letter_queue: failed asynchronous invocations (child ``DeadLetterQueue`` when created here).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: AnyJob,
        queue: Queue | None = None,
        code: lambda_.Code | None = None,
        handler: str = "index.handler",
        environment: Mapping[str, str] | None = None,
        timeout: Duration = DEFAULT_TIMEOUT,
        memory_size: int = 256,
        reserved_concurrent_executions: int | None = 10,
        job_name_prefix: str | None = None,
        bucket_parameter: str = "bucket",
        key_parameter: str = "key",
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        deduplicate: bool = True,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
    ) -> None:
        """Args:
        job: the ContainerJob or MultiNodeJob to submit.
        queue: Default: the job's queue (one of the two is required).
        code: your own handler code. Default: the library's handler (see the module docstring).
        handler: the handler's ``module.function``. Default: ``index.handler``.
        environment: more environment variables for your code (the construct's own names are reserved).
            Default: none.
        timeout: Default: 30 seconds (one SubmitJob call takes well under a second; S3 batches hold up to 10 records,
            SQS batches up to 10 messages by default).
        memory_size: MiB. Default: 256 (the Serverless pack flags Lambda's 128 MiB default; more memory also means
            more CPU, so cold starts of boto3 are faster).
        reserved_concurrent_executions: at most this many concurrent invocations, which also bounds the SubmitJob
            rate (Batch throttles SubmitJob per account). Default: 10. Note: an account whose concurrency quota is at
            AWS's minimum (new accounts may have 10) cannot reserve any; pass None there (the NIST/HIPAA/PCI
            LambdaConcurrency finding then needs an acknowledgement in your app).
        job_name_prefix: start of the submitted jobs' names. Default: this construct's id.
        bucket_parameter / key_parameter: the parameters that receive an S3 object's bucket and key.
            Default: ``bucket`` and ``key``.
        share_identifier: share identifier of every submission: required when the queue is fair-share, refused
            otherwise (``share-identifier``; with ``code=`` your code decides, so only its syntax is checked).
            Default: none.
        scheduling_priority_override: the scheduling priority of every submission (0-9999, fair-share queues only);
            a request's ``schedulingPriorityOverride`` takes precedence. Default: none (the job definition's
            priority).
        deduplicate: before submitting a request from a source that repeats (S3, SQS, SNS, EventBridge, or one
            with an ``idempotencyKey``), look for its job - the name holds a hash of the request's identity - on the
            queue and skip it if one exists that did not fail. Adds ``batch:ListJobs``, which AWS authorises only
            on ``*`` (it reads job summaries, never data). Default: True, because every one of those sources
            delivers at least once and a retry after a partial failure must not submit the same jobs again; False
            only de-duplicates within one invocation (the whole SQS batch).
        vpc / vpc_subnets / security_groups: run the function in a VPC. It needs a route to the Batch API (NAT or a
            ``batch`` interface endpoint). Default: outside any VPC (it only calls AWS APIs over TLS).
        dead_letter_queue: failed asynchronous invocations, and every malformed request (with the reason: the
            default handler sends those itself, so they are not retried). Default: a new queue (KMS-encrypted with
            the stack key, TLS only, 14 days).
        log_retention: Default: one year. encryption_key: of the log group and dead-letter queue. Default: the
            stack's shared key.
        architecture: Default: ARM_64 (Graviton: about 20% cheaper; the handler is pure Python).
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        target = queue or job.queue
        problems: list[str] = []
        if target is None:
            problems.append(
                registry.TRIGGER_QUEUE.fix(
                    f"job {job.node.path} has no queue and none was passed",
                    "pass queue= here, or queue= to the job",
                )
            )
        problems += parameter_problems({"bucket_parameter": bucket_parameter, "key_parameter": key_parameter})
        reserved = sorted(set(environment or {}) & set(RESERVED_ENVIRONMENT))
        if reserved:
            problems.append(
                registry.LAMBDA_SUBMITTER.fix(
                    f"environment sets {', '.join(reserved)}, which the construct sets",
                    "use the matching keyword arguments (queue=, job_name_prefix=, share_identifier=...)",
                )
            )
        if is_known(seconds_of(timeout)):
            problems += _rules.int_range(
                registry.LAMBDA_SUBMITTER, "timeout (s)", seconds_of(timeout), 1, 900, "use 1 second to 15 minutes"
            )
        problems += _rules.int_range(
            registry.LAMBDA_SUBMITTER, "memory_size (MiB)", memory_size, 128, 10240, "use 128-10240 MiB"
        )
        if reserved_concurrent_executions is not None:
            problems += _rules.int_range(
                registry.LAMBDA_SUBMITTER,
                "reserved_concurrent_executions",
                reserved_concurrent_executions,
                1,
                1000,
                "use 1 or more (0 would stop every invocation), or None for no reservation",
            )
        if vpc is None and (vpc_subnets is not None or security_groups):
            problems.append(
                registry.LAMBDA_SUBMITTER.fix("vpc_subnets or security_groups without vpc", "pass vpc= as well")
            )
        if code is None:
            problems += share_problems(self, target, "the submitter", share_identifier, scheduling_priority_override)
        elif share_identifier is not None or scheduling_priority_override is not None:
            problems += share_problems(self, None, "the submitter", share_identifier, scheduling_priority_override)
        raise_if_any(self, problems)
        assert target is not None

        self.log_group = _logs.new_log_group(self, "LogGroup", retention=log_retention, encryption_key=encryption_key)
        self.role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Lets one Lambda function submit one Batch job definition to one queue",
        )
        if dead_letter_queue is None:
            created = _dlq.new_dead_letter_queue(self, "DeadLetterQueue", encryption_key=encryption_key)
            # Lambda sends to the queue as the function's role, so the role needs the queue's key (exact actions,
            # through SQS only).
            key = encryption_key or _logs.default_key(self)
            add_key_statement(self.role, key.key_arn, "sqs", "kms:GenerateDataKey", "kms:Decrypt")
            dead_letter_queue = created
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue

        variables = {
            **dict(environment or {}),
            "JOB_QUEUE": target.job_queue_arn,
            "JOB_DEFINITION": job.job_definition_arn,
            "JOB_NAME_PREFIX": job_name_prefix or self.node.id,
            "BUCKET_PARAMETER": bucket_parameter,
            "KEY_PARAMETER": key_parameter,
            "DEDUPLICATE": "true" if deduplicate else "false",
            "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
        }
        if share_identifier is not None:
            variables["SHARE_IDENTIFIER"] = share_identifier
        if scheduling_priority_override is not None:
            variables["SCHEDULING_PRIORITY"] = str(scheduling_priority_override)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=architecture,
            handler=handler,
            code=code or lambda_.Code.from_asset(str(HANDLER_DIR)),
            role=self.role,
            log_group=self.log_group,
            environment=variables,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=self.dead_letter_queue,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) if security_groups else None,
            description=f"Submits AWS Batch job {job.node.path} ({self.node.path})",
        )
        self.log_group.grant_write(self.role)
        job.grant_submit_job(self.role, target)
        if deduplicate:
            self.role.add_to_principal_policy(iam.PolicyStatement(actions=["batch:ListJobs"], resources=["*"]))
        if vpc is not None:
            # What Lambda needs to attach the function to the VPC (the L2 adds the AWS managed policy
            # AWSLambdaVPCAccessExecutionRole only to a role it creates itself; this is the same, minus its logs:*).
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        self._acknowledge(job, vpc is not None, deduplicate)
        cfn_function = self.function.node.default_child
        cfn_policy = self.role.managed_policy.node.default_child if self.role.managed_policy else None
        if isinstance(cfn_function, CfnResource) and isinstance(cfn_policy, CfnResource):
            # The L2 makes the function depend on the role's whole subtree; the role already is a dependency through
            # Role's GetAtt (cfn-lint W3005). The policy stays one: Lambda checks the dead-letter permission on create.
            cfn_function.add_override("DependsOn", [stack_of(self).get_logical_id(cfn_policy)])

    def _acknowledge(self, job: AnyJob, in_vpc: bool, deduplicate: bool) -> None:
        policy = self.role.managed_policy
        assert policy is not None
        wildcard = ["X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords)"]
        if deduplicate:
            wildcard.append("batch:ListJobs (used to skip duplicate submissions)")
        if in_vpc:
            wildcard.append("the VPC network-interface actions Lambda documents for functions in a VPC")
        acknowledge(
            policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            f"{', '.join(wildcard)}: AWS documents Resource '*' for these actions. "
            "batch:SubmitJob is scoped to one queue and one job definition's revisions.",
        )
        if not in_vpc:
            acknowledge_in_packs(
                self.function,
                "LambdaInsideVPC",
                "The function only calls the AWS Batch API (and CloudWatch Logs, X-Ray) over TLS with IAM "
                "authorisation; it reads no data store and opens no connection into a network. A VPC would add a "
                "NAT gateway or a Batch interface endpoint without reducing what it can reach. Pass vpc= to run it "
                "in one.",
            )

    def add_sqs_source(
        self,
        queue: sqs.IQueue,
        *,
        batch_size: int = DEFAULT_SQS_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
    ) -> lambda_event_sources.SqsEventSource:
        """Invoke the function with the messages of ``queue``, with ``ReportBatchItemFailures`` on.

        With it, the handler's ``batchItemFailures`` makes Lambda return only the failed messages to the queue;
        without it, Lambda treats the batch as one: a failure retries every message, a success deletes them all.
        Give ``queue`` a redrive policy (a dead-letter queue) for messages that keep failing.

        Args:
            queue: the source queue (the function gets permission to receive and delete its messages).
            batch_size: messages per invocation, 1-10 (the function's 30-second default timeout fits 10
                submissions comfortably). Default: 10.
            max_batching_window: how long Lambda may wait to fill a batch. Default: none (invoke at once).
            max_concurrency: at most this many concurrent invocations for this source (2-1000). Default: none (the
                function's reserved concurrency bounds it).

        Returns:
            the event source (its ``event_source_mapping_id`` once bound).
        """
        problems = _rules.int_range(registry.LAMBDA_SUBMITTER, "batch_size", batch_size, 1, 10, "use 1-10 messages")
        if max_concurrency is not None:
            problems += _rules.int_range(
                registry.LAMBDA_SUBMITTER, "max_concurrency", max_concurrency, 2, 1000, "use 2-1000, or None"
            )
        raise_if_any(self, problems)
        source = lambda_event_sources.SqsEventSource(
            queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            report_batch_item_failures=True,
        )
        self.function.add_event_source(source)
        mappings = [c for c in self.function.node.children if isinstance(c, lambda_.EventSourceMapping)]
        acknowledge(
            mappings[-1],
            "Serverless::Serverless-LambdaEventSourceMappingDestination",
            "Lambda supports on-failure destinations only for stream and Kafka sources; for an SQS source the failed "
            "messages stay in the queue and its redrive policy moves them to its dead-letter queue, and malformed "
            "requests go to the function's dead-letter queue from the handler.",
        )
        return source

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the function (its latest version; no ``:*`` wildcard over its versions)."""
        return self.function.grant_invoke_latest_version(grantee)
