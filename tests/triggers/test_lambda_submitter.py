"""LambdaSubmitter (the construct): runtime, role, log group, tracing, dead-letter queue, concurrency, VPC option,
validation, and zero cdk-nag findings / cfn-lint clean. The handler itself is tested in test_submitter_handler.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from aws_cdk.aws_lambda_event_sources import SqsEventSource

from batch_constructs import BatchConfigurationError, BatchQueue, ContainerJob, FargateEnvironment, LambdaSubmitter
from batch_constructs._internal import dlq as _dlq
from batch_constructs._internal import logs as _logs
from batch_constructs._internal.compliance import acknowledge
from batch_constructs._internal.compliance import nag_text as flatten_cfn_reference
from batch_constructs.triggers.lambda_submitter import HANDLER_DIR, RUNTIME

from ..helpers import new_app
from ..unit_stacks import Synthesized, fargate_queue, imported_vpc, logical_id, nag_stack
from .test_s3_upload import COMMAND, IMAGE


@dataclass
class Built(Synthesized):
    queue: BatchQueue
    other_queue: BatchQueue
    job: ContainerJob
    default: LambdaSubmitter
    options: LambdaSubmitter
    invoker: iam.Role
    requests: sqs.Queue
    sqs_source: SqsEventSource

    def function(self, submitter: LambdaSubmitter) -> dict[str, Any]:
        return self.resource(submitter.function)["Properties"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "SubmitterTest")
    vpc = imported_vpc(stack)
    queue = fargate_queue(stack, vpc)
    other_queue = BatchQueue(stack, "OtherQueue", environments=[FargateEnvironment(stack, "OtherFargate", vpc=vpc)])
    job = ContainerJob(
        stack, "Convert", image=IMAGE, queue=queue, command=COMMAND, parameters={"bucket": "", "key": ""}
    )
    default = LambdaSubmitter(stack, "Submitter", job=job)
    requests_dlq = _dlq.new_dead_letter_queue(stack, "RequestsDeadLetters")
    requests = sqs.Queue(
        stack,
        "Requests",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=_logs.default_key(stack),
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=requests_dlq),
    )
    sqs_source = default.add_sqs_source(requests, batch_size=5)
    options = LambdaSubmitter(
        stack,
        "Custom",
        job=job,
        queue=other_queue,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        environment={"MODE": "strict"},
        timeout=Duration.minutes(2),
        memory_size=512,
        reserved_concurrent_executions=2,
        job_name_prefix="convert",
        bucket_parameter="src_bucket",
        key_parameter="src_key",
        share_identifier="teamA",
        deduplicate=False,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        architecture=lambda_.Architecture.X86_64,
    )
    invoker = iam.Role(stack, "Invoker", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    default.grant_invoke(invoker)
    for finding in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        acknowledge(invoker, f"{finding}::{finding}-IAMNoInlinePolicy", "test fixture: the caller's own role")
    return Built.synthesize(  # raises on any cdk-nag finding
        stack,
        queue=queue,
        other_queue=other_queue,
        job=job,
        default=default,
        options=options,
        invoker=invoker,
        requests=requests,
        sqs_source=sqs_source,
    )


# ------------------------------------------------------------------------------------------------ the function


def test_newest_python_runtime_and_default_handler(built: Built) -> None:
    newest = max(
        (getattr(lambda_.Runtime, n) for n in dir(lambda_.Runtime) if n.startswith("PYTHON_3_")),
        key=lambda r: tuple(int(x) for x in r.name.removeprefix("python").split(".")),
    )
    assert RUNTIME.name == newest.name
    props = built.function(built.default)
    assert props["Runtime"] == newest.name
    assert props["Handler"] == "index.handler"
    assert props["Architectures"] == ["arm64"]
    assert (HANDLER_DIR / "index.py").is_file()
    assert props["Code"]["S3Key"].endswith(".zip")


def test_environment_names_the_queue_and_the_job_definition(built: Built) -> None:
    variables = built.function(built.default)["Environment"]["Variables"]
    assert variables == {
        "JOB_QUEUE": {"Fn::GetAtt": [logical_id(built.queue.job_queue), "JobQueueArn"]},
        "JOB_DEFINITION": {"Ref": logical_id(built.job.job_definition)},
        "JOB_NAME_PREFIX": "Submitter",
        "BUCKET_PARAMETER": "bucket",
        "KEY_PARAMETER": "key",
        "DEDUPLICATE": "true",
        "DEAD_LETTER_QUEUE_URL": {"Ref": logical_id(built.default.dead_letter_queue)},
    }


def test_tracing_memory_timeout_concurrency_and_dead_letter_queue(built: Built) -> None:
    props = built.function(built.default)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["MemorySize"] == 256
    assert props["Timeout"] == 30
    assert props["ReservedConcurrentExecutions"] == 10
    dlq = built.default.dead_letter_queue
    assert isinstance(dlq, sqs.Queue) and dlq.node.id == "DeadLetterQueue"
    assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [logical_id(dlq), "Arn"]}}
    assert "KmsMasterKeyId" in built.resource(dlq)["Properties"]
    assert "VpcConfig" not in props


def test_own_log_group_with_retention_and_kms(built: Built) -> None:
    props = built.function(built.default)
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": logical_id(built.default.log_group)}}
    group = built.resource(built.default.log_group)["Properties"]
    assert group["RetentionInDays"] == 365
    assert "KmsKeyId" in group


def test_depends_on_its_policy_not_redundantly_on_its_role(built: Built) -> None:
    function = built.resource(built.default.function)
    assert function["DependsOn"] == [logical_id(built.default.role.managed_policy)]


def test_options(built: Built) -> None:
    props = built.function(built.options)
    assert props["Runtime"] == RUNTIME.name
    assert props["Architectures"] == ["x86_64"]
    assert props["MemorySize"] == 512
    assert props["Timeout"] == 120
    assert props["ReservedConcurrentExecutions"] == 2
    assert props["VpcConfig"]["SubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    assert props["Environment"]["Variables"] == {
        "MODE": "strict",
        "JOB_QUEUE": {"Fn::GetAtt": [logical_id(built.other_queue.job_queue), "JobQueueArn"]},
        "JOB_DEFINITION": {"Ref": logical_id(built.job.job_definition)},
        "JOB_NAME_PREFIX": "convert",
        "BUCKET_PARAMETER": "src_bucket",
        "KEY_PARAMETER": "src_key",
        "SHARE_IDENTIFIER": "teamA",
        "DEDUPLICATE": "false",
        "DEAD_LETTER_QUEUE_URL": {"Ref": logical_id(built.options.dead_letter_queue)},
    }
    assert "ZipFile" in props["Code"]


# -------------------------------------------------------------------------------------------------------- IAM


def test_role_has_exactly_these_permissions(built: Built) -> None:
    role = built.resource(built.default.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role  # no AWSLambdaBasicExecutionRole
    by_action = {json.dumps(s["Action"]): s for s in built.statements(built.default.role)}
    assert set(by_action) == {
        '"batch:SubmitJob"',
        '["logs:CreateLogStream", "logs:PutLogEvents"]',
        '["batch:ListJobs", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]',  # the default deduplicate=True
        '"sqs:SendMessage"',
        '["kms:Decrypt", "kms:GenerateDataKey"]',
        # add_sqs_source (aws-cdk's consume grant decrypts the source queue's messages: kms:Decrypt on its key)
        '"kms:Decrypt"',
        '["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", '
        '"sqs:ReceiveMessage"]',
    }
    queue_arn, definition = by_action['"batch:SubmitJob"']["Resource"]
    assert queue_arn == {"Fn::GetAtt": [logical_id(built.queue.job_queue), "JobQueueArn"]}
    flat = flatten_cfn_reference(definition)
    assert ":job-definition/" in flat and flat.endswith(":*") and logical_id(built.job.job_definition) in flat
    # the dead-letter queue's key, only through SQS (Lambda sends undeliverable requests to it as the role)
    assert by_action['["kms:Decrypt", "kms:GenerateDataKey"]']["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    }
    logs = by_action['["logs:CreateLogStream", "logs:PutLogEvents"]']["Resource"]
    assert logs == {"Fn::GetAtt": [logical_id(built.default.log_group), "Arn"]}
    assert by_action['"sqs:SendMessage"']["Resource"] == {
        "Fn::GetAtt": [logical_id(built.default.dead_letter_queue), "Arn"]
    }


def test_options_role_adds_network_interfaces_only(built: Built) -> None:
    actions = {
        a
        for s in built.statements(built.options.role)
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "batch:ListJobs" not in actions  # deduplicate=False
    assert "ec2:CreateNetworkInterface" in actions and "ec2:DeleteNetworkInterface" in actions
    submit = next(s for s in built.statements(built.options.role) if s["Action"] == "batch:SubmitJob")
    assert submit["Resource"][0] == {"Fn::GetAtt": [logical_id(built.other_queue.job_queue), "JobQueueArn"]}
    role = built.resource(built.options.role)["Properties"]
    assert "ManagedPolicyArns" not in role


def test_never_star_for_submit_job_and_no_inline_policies_of_the_submitter(built: Built) -> None:
    for submitter in (built.default, built.options):
        for statement in built.statements(submitter.role):
            if "batch:SubmitJob" in statement["Action"]:
                assert "*" not in statement["Resource"]
    inline = [k for k, r in built.template["Resources"].items() if r["Type"] == "AWS::IAM::Policy"]
    assert all(k.startswith("Invoker") for k in inline)


def test_grant_invoke(built: Built) -> None:
    policy = next(
        r for k, r in built.template["Resources"].items() if r["Type"] == "AWS::IAM::Policy" and k.startswith("Invoker")
    )
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    function_arn = {"Fn::GetAtt": [logical_id(built.default.function), "Arn"]}
    # the function and its $LATEST qualifier, no ":*" over every version
    assert statement["Resource"] == [function_arn, {"Fn::Join": ["", [function_arn, ":$LATEST"]]}]


# ----------------------------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, ContainerJob]:
    stack = cdk.Stack(new_app(), "Scratch")
    queue = fargate_queue(stack, imported_vpc(stack))
    return stack, ContainerJob(stack, "Job", image=IMAGE, queue=queue, command=COMMAND)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"timeout": Duration.minutes(20)}, r"\[lambda-submitter\] timeout \(s\)=1200; allowed 1-900"),
        ({"memory_size": 64}, r"\[lambda-submitter\] memory_size \(MiB\)=64; allowed 128-10240"),
        ({"reserved_concurrent_executions": 0}, r"\[lambda-submitter\] reserved_concurrent_executions=0"),
        ({"environment": {"JOB_QUEUE": "x"}}, r"\[lambda-submitter\] environment sets JOB_QUEUE"),
        ({"security_groups": [ec2.SecurityGroup.from_security_group_id(cdk.Stack(), "S", "sg-1")]}, r"without vpc"),
        ({"key_parameter": "a-b"}, r"\[trigger-parameters\] key_parameter='a-b'"),
    ],
)
def test_invalid_options(scratch: tuple[cdk.Stack, ContainerJob], kwargs: dict[str, Any], pattern: str) -> None:
    stack, job = scratch
    construct_id = f"Bad{len(stack.node.children)}"
    with pytest.raises(BatchConfigurationError, match=pattern) as raised:
        LambdaSubmitter(stack, construct_id, job=job, **kwargs)
    assert f"Scratch/{construct_id}" in str(raised.value)


def test_job_without_queue(scratch: tuple[cdk.Stack, ContainerJob]) -> None:
    stack, _ = scratch
    job = ContainerJob(stack, "NoQueue", image=IMAGE, command=COMMAND)
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-queue\] job Scratch/NoQueue has no queue"):
        LambdaSubmitter(stack, "NoQueueSubmitter", job=job)


def test_fair_share_queue_needs_a_share_identifier() -> None:
    # a stack of its own: this test synthesizes it, and the scratch stack holds other cases' half-built constructs
    stack = cdk.Stack(new_app(), "FairShare")
    shared = BatchQueue(
        stack,
        "Shared",
        environments=[FargateEnvironment(stack, "SharedFargate", vpc=imported_vpc(stack))],
        fair_share={"teamA": 1.0},
    )
    job = ContainerJob(stack, "Fair", image=IMAGE, queue=shared, command=COMMAND, scheduling_priority=1)
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\]"):
        LambdaSubmitter(stack, "NoShare", job=job)
    submitter = LambdaSubmitter(stack, "WithShare", job=job, share_identifier="teamA")
    assert submitter.function.node.id == "Function"
    # a construct-level scheduling priority override reaches the handler's environment, checked 0-9999
    with pytest.raises(BatchConfigurationError, match=r"\[scheduling-priority\] scheduling_priority=10000"):
        LambdaSubmitter(stack, "TooHigh", job=job, share_identifier="teamA", scheduling_priority_override=10_000)
    prioritized = LambdaSubmitter(
        stack, "Prioritized", job=job, share_identifier="teamA", scheduling_priority_override=9999
    )
    template = Template.from_stack(stack).to_json()["Resources"]

    def variables(submitter: LambdaSubmitter) -> dict[str, Any]:
        cfn = submitter.function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        return template[stack.resolve(stack.get_logical_id(cfn))]["Properties"]["Environment"]["Variables"]  # type: ignore[no-any-return]

    assert variables(prioritized)["SCHEDULING_PRIORITY"] == "9999"
    assert variables(prioritized)["SHARE_IDENTIFIER"] == "teamA"
    assert "SCHEDULING_PRIORITY" not in variables(submitter)


def test_scheduling_priority_override_on_a_queue_without_fair_share_is_refused(
    scratch: tuple[cdk.Stack, ContainerJob],
) -> None:
    stack, job = scratch
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*scheduling_priority_override on queue"):
        LambdaSubmitter(stack, "PlainPriority", job=job, scheduling_priority_override=5)


# -------------------------------------------------------------------------------------------- compliance, lint


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert built.nag_violations() == []


def test_acknowledgements_are_narrow(built: Built) -> None:
    metadata = json.loads((built.outdir / "SubmitterTest.metadata.json").read_text())

    def acknowledged(path: str) -> set[str]:
        return {
            ack
            for entry in metadata.get(path, [])
            if entry["type"] == "aws:cdk:acknowledged-rules"
            for ack in entry["data"]
        }

    policy = acknowledged("/SubmitterTest/Submitter/Role/Policy")
    assert "AwsSolutions::AwsSolutions-IAM5[Resource::*]" in policy
    assert len(policy) == 2  # X-Ray's '*' and this job definition's revisions, nothing else
    function = acknowledged("/SubmitterTest/Submitter/Function")
    assert function == {f"{p}::{p}-LambdaInsideVPC" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")}
    assert acknowledged("/SubmitterTest/Custom/Function") == set()  # in a VPC: nothing to acknowledge


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "SubmitterTest.template.json"
    assert built.cfn_lint() == []


# ------------------------------------------------------------------------------------------------ SQS source


def test_sqs_source_reports_batch_item_failures(built: Built) -> None:
    (mapping,) = [r for r in built.template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 5
    assert props["EventSourceArn"] == {"Fn::GetAtt": [logical_id(built.requests), "Arn"]}
    assert props["FunctionName"] == {"Ref": logical_id(built.default.function)}
    consume = next(s for s in built.statements(built.default.role) if "sqs:ReceiveMessage" in s["Action"])
    assert consume["Resource"] == {"Fn::GetAtt": [logical_id(built.requests), "Arn"]}


def test_deduplicate_is_on_by_default_and_may_list_jobs(built: Built) -> None:
    (list_jobs,) = [s for s in built.statements(built.default.role) if "batch:ListJobs" in s["Action"]]
    assert list_jobs["Resource"] == "*"
    assert not [s for s in built.statements(built.options.role) if "batch:ListJobs" in s["Action"]]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [({"batch_size": 11}, r"batch_size=11; allowed 1-10"), ({"max_concurrency": 1}, r"max_concurrency=1; allowed 2")],
)
def test_invalid_sqs_source(scratch: tuple[cdk.Stack, ContainerJob], kwargs: dict[str, Any], pattern: str) -> None:
    stack, job = scratch
    submitter = LambdaSubmitter(stack, f"Sqs{len(stack.node.children)}", job=job)
    queue = sqs.Queue(stack, f"Source{len(stack.node.children)}")
    with pytest.raises(BatchConfigurationError, match=pattern):
        submitter.add_sqs_source(queue, **kwargs)
