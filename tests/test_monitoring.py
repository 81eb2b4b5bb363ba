"""BatchAlerts and BatchJobMetrics: rules limited to the queues, encrypted topic, e-mail, dead-letter queues, the log
group and its resource policy (no custom resource), metric filters, dashboard, alarm; validation; zero cdk-nag
findings and cfn-lint clean on one stack synthesized once with the five packs.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from batch_constructs import BatchAlerts, BatchConfigurationError, BatchJobMetrics, BatchQueue
from batch_constructs._internal.logs import default_key
from batch_constructs.monitoring import METRIC_NAMESPACE, QUEUE_BLOCKED, QUEUE_DIMENSION, STATE_CHANGE

from .helpers import cfn_lint, nag_violations, new_app, synth_with_packs
from .triggers.test_s3_upload import fargate_queue, imported_vpc, logical_id

IMPORTED_QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/legacy"


@dataclass
class Built:
    stack: cdk.Stack
    template: dict[str, Any]
    outdir: pathlib.Path
    queue: BatchQueue
    other_queue: BatchQueue
    imported_queue: batch.IJobQueue
    alerts: BatchAlerts
    alerts_on_topic: BatchAlerts
    own_topic: sns.Topic
    metrics: BatchJobMetrics
    metrics_options: BatchJobMetrics

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.template["Resources"][logical_id(construct)]  # type: ignore[no-any-return]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    def queue_arn(self, queue: BatchQueue) -> dict[str, Any]:
        return {"Fn::GetAtt": [logical_id(queue.job_queue), "JobQueueArn"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    app = new_app(outdir=str(tmp_path_factory.mktemp("cdk.out.monitoring")))
    stack = cdk.Stack(app, "MonitoringTest")
    vpc = imported_vpc(stack)
    queue = fargate_queue(stack, vpc)
    other_queue = fargate_queue(stack, vpc, "OtherQueue")
    imported_queue = batch.JobQueue.from_job_queue_arn(stack, "Legacy", IMPORTED_QUEUE_ARN)
    alerts = BatchAlerts(stack, "Alerts", queues=[queue, imported_queue], email="ops@example.com")
    own_topic = sns.Topic(stack, "OwnTopic", enforce_ssl=True, master_key=default_key(stack))
    alerts_on_topic = BatchAlerts(stack, "MoreAlerts", queues=[other_queue], topic=own_topic)
    metrics = BatchJobMetrics(stack, "Metrics", queues=[queue, other_queue])
    metrics_options = BatchJobMetrics(
        stack,
        "LegacyMetrics",
        queues=[imported_queue],
        log_retention=logs.RetentionDays.THREE_MONTHS,
        alarm_topic=alerts.topic,
        failed_jobs_threshold=3,
    )
    assembly, outdir = synth_with_packs(app)  # raises on any cdk-nag finding
    return Built(
        stack=stack,
        template=assembly.get_stack_by_name("MonitoringTest").template,
        outdir=outdir,
        queue=queue,
        other_queue=other_queue,
        imported_queue=imported_queue,
        alerts=alerts,
        alerts_on_topic=alerts_on_topic,
        own_topic=own_topic,
        metrics=metrics,
        metrics_options=metrics_options,
    )


# ------------------------------------------------------------------------------------------------------ alerts


def test_failed_rule_matches_failed_jobs_of_the_given_queues_only(built: Built) -> None:
    assert built.alerts.failed_rule.node.id == "FailedRule"
    pattern = built.resource(built.alerts.failed_rule)["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"status": ["FAILED"], "jobQueue": [built.queue_arn(built.queue), IMPORTED_QUEUE_ARN]},
    }


def test_blocked_rule_matches_the_documented_detail_type(built: Built) -> None:
    assert QUEUE_BLOCKED == "Batch Job Queue Blocked" and STATE_CHANGE == "Batch Job State Change"
    pattern = built.resource(built.alerts.blocked_rule)["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job Queue Blocked"],
        "detail": {"jobQueue": [built.queue_arn(built.queue), IMPORTED_QUEUE_ARN]},
    }


def test_alerts_publish_a_readable_message_to_the_topic_with_a_dead_letter_queue(built: Built) -> None:
    for rule, words in ((built.alerts.failed_rule, "FAILED on queue"), (built.alerts.blocked_rule, "is BLOCKED by")):
        (target,) = built.resource(rule)["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": logical_id(built.alerts.topic)}
        assert target["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": [logical_id(built.alerts.dead_letter_queue), "Arn"]}
        }
        transformer = target["InputTransformer"]
        assert set(transformer["InputPathsMap"].values()) == {
            "$.detail.jobName",
            "$.detail.jobId",
            "$.detail.jobQueue",
            "$.detail.statusReason",
            "$.region",
        }
        assert words in transformer["InputTemplate"]
        assert "console.aws.amazon.com/batch" in transformer["InputTemplate"]


def test_new_topic_is_kms_encrypted_tls_only_and_no_service_may_publish(built: Built) -> None:
    topic = built.alerts.topic
    assert topic.node.id == "Topic"
    props = built.resource(topic)["Properties"]
    (key_id,) = built.of_type("AWS::KMS::Key")
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    for alerted in (topic, built.own_topic):
        statements = [
            s
            for p in built.of_type("AWS::SNS::TopicPolicy").values()
            if {"Ref": logical_id(alerted)} in p["Properties"]["Topics"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        # the only statement is the TLS-only deny: EventBridge publishes as the alerts' role, not as a service
        assert [s["Effect"] for s in statements] == ["Deny"]
        assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert "events.amazonaws.com" not in json.dumps(statements)


def _statements_of(built: Built, role: Any) -> list[dict[str, Any]]:
    return [
        s
        for p in built.of_type("AWS::IAM::ManagedPolicy").values()
        if {"Ref": logical_id(role)} in p["Properties"].get("Roles", [])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_alerts_publish_as_a_role_that_trusts_eventbridge_of_this_account_only(built: Built) -> None:
    for alerts, topic in ((built.alerts, built.alerts.topic), (built.alerts_on_topic, built.own_topic)):
        role = built.resource(alerts.role)
        assert alerts.role.node.id == "PublishRole"
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "events.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        assert "Policies" not in role["Properties"]  # no inline policy
        for rule in (alerts.failed_rule, alerts.blocked_rule):
            (target,) = built.resource(rule)["Properties"]["Targets"]
            assert target["RoleArn"] == {"Fn::GetAtt": [logical_id(alerts.role), "Arn"]}
        (key_id,) = built.of_type("AWS::KMS::Key")
        # exactly: publish to this topic, and the topic's key only through SNS (no kms:GenerateDataKey* wildcard)
        assert _statements_of(built, alerts.role) == [
            {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": logical_id(topic)}},
            {
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": {"Fn::Join": ["", ["sns.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
                    }
                },
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
            },
        ]


def test_stack_key_lets_eventbridge_cloudwatch_and_sns_use_it_in_this_account_only(built: Built) -> None:
    (key,) = built.of_type("AWS::KMS::Key").values()
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    for sid, service in (
        ("AllowEventBridgeInThisAccount", "events.amazonaws.com"),
        ("AllowAlarms", "cloudwatch.amazonaws.com"),
        ("AllowSnsDeadLetterDelivery", "sns.amazonaws.com"),
    ):
        statement = statements[sid]
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # no statement lets a service use the key without a condition (aws-cdk's default SNS target would add one for
    # events.amazonaws.com); the only unconditioned one is the account's own root statement
    unconditioned = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Condition" not in s]
    assert [s["Principal"] for s in unconditioned] == [
        {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}
    ]


def test_email_subscription_with_a_dead_letter_queue(built: Built) -> None:
    (subscription,) = built.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert subscription["Properties"]["TopicArn"] == {"Ref": logical_id(built.alerts.topic)}
    assert subscription["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [logical_id(built.alerts.dead_letter_queue), "Arn"]}
    }
    # SNS (for undeliverable e-mails) and EventBridge (for unpublishable alerts) may send to the queue, each only
    # from its own topic / rules
    dlq_ref = {"Ref": logical_id(built.alerts.dead_letter_queue)}
    senders = {
        json.dumps(s["Principal"]): s["Condition"]
        for p in built.of_type("AWS::SQS::QueuePolicy").values()
        if dlq_ref in p["Properties"]["Queues"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    }
    assert senders['{"Service": "sns.amazonaws.com"}'] == {
        "ArnEquals": {"aws:SourceArn": {"Ref": logical_id(built.alerts.topic)}}
    }
    assert '{"Service": "events.amazonaws.com"}' in senders


def test_given_topic_is_used_and_no_topic_is_created(built: Built) -> None:
    assert built.alerts_on_topic.topic is built.own_topic
    assert built.alerts_on_topic.node.try_find_child("Topic") is None
    (target,) = built.resource(built.alerts_on_topic.failed_rule)["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": logical_id(built.own_topic)}
    pattern = built.resource(built.alerts_on_topic.failed_rule)["Properties"]["EventPattern"]
    assert pattern["detail"]["jobQueue"] == [built.queue_arn(built.other_queue)]


# ----------------------------------------------------------------------------------------------------- metrics


def test_rule_sends_finished_jobs_of_the_queues_to_the_log_group(built: Built) -> None:
    props = built.resource(built.metrics.rule)["Properties"]
    assert props["EventPattern"] == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {
            "status": ["SUCCEEDED", "FAILED"],
            "jobQueue": [built.queue_arn(built.queue), built.queue_arn(built.other_queue)],
        },
    }
    (target,) = props["Targets"]
    assert target["Arn"]["Fn::Join"][1][-2:] == [":log-group:", {"Ref": logical_id(built.metrics.log_group)}]
    assert "RoleArn" not in target  # CloudWatch Logs targets use the resource policy
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [logical_id(built.metrics.dead_letter_queue), "Arn"]}}


def test_log_group_resource_policy_without_a_custom_resource(built: Built) -> None:
    types = {r["Type"] for r in built.template["Resources"].values()}
    assert "Custom::CloudwatchLogResourcePolicy" not in types
    assert "AWS::Lambda::Function" not in types
    policies = built.of_type("AWS::Logs::ResourcePolicy")
    assert len(policies) == 2  # one per BatchJobMetrics
    document = json.dumps(next(iter(policies.values()))["Properties"]["PolicyDocument"])
    assert "events.amazonaws.com" in document and "logs:PutLogEvents" in document and "logs:CreateLogStream" in document


def test_log_groups_have_retention_and_the_stack_key(built: Built) -> None:
    default = built.resource(built.metrics.log_group)["Properties"]
    assert default["RetentionInDays"] == 365 and "KmsKeyId" in default
    assert built.resource(built.metrics_options.log_group)["Properties"]["RetentionInDays"] == 90
    for group in built.of_type("AWS::Logs::LogGroup").values():
        assert "RetentionInDays" in group["Properties"] and "KmsKeyId" in group["Properties"]


def test_metric_filters_count_per_queue(built: Built) -> None:
    filters = [
        f["Properties"]
        for f in built.of_type("AWS::Logs::MetricFilter").values()
        if f["Properties"]["LogGroupName"] == {"Ref": logical_id(built.metrics.log_group)}
    ]
    by_name = {f["MetricTransformations"][0]["MetricName"]: f for f in filters}
    assert set(by_name) == {"JobsSucceeded", "JobsFailed"}
    assert by_name["JobsFailed"]["FilterPattern"] == '{ $.detail.status = "FAILED" }'
    assert by_name["JobsSucceeded"]["FilterPattern"] == '{ $.detail.status = "SUCCEEDED" }'
    for f in filters:
        (transformation,) = f["MetricTransformations"]
        assert transformation["MetricNamespace"] == METRIC_NAMESPACE
        assert transformation["MetricValue"] == "1"
        assert transformation["Dimensions"] == [{"Key": QUEUE_DIMENSION, "Value": "$.detail.jobQueue"}]


def test_failure_alarm_sums_the_queues_and_notifies_a_new_topic(built: Built) -> None:
    alarm = built.resource(built.metrics.failure_alarm)["Properties"]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": logical_id(built.metrics.alarm_topic)}]
    assert built.metrics.alarm_topic.node.id == "AlarmTopic"
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "SUM([f0, f1])"
    dimensions = [m["MetricStat"]["Metric"]["Dimensions"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert dimensions == [
        [{"Name": QUEUE_DIMENSION, "Value": built.queue_arn(built.queue)}],
        [{"Name": QUEUE_DIMENSION, "Value": built.queue_arn(built.other_queue)}],
    ]
    assert "KmsMasterKeyId" in built.resource(built.metrics.alarm_topic)["Properties"]


def test_alarm_options_threshold_and_given_topic(built: Built) -> None:
    alarm = built.resource(built.metrics_options.failure_alarm)["Properties"]
    assert alarm["Threshold"] == 3
    assert alarm["AlarmActions"] == [{"Ref": logical_id(built.alerts.topic)}]
    assert built.metrics_options.node.try_find_child("AlarmTopic") is None


def test_metric_helpers(built: Built) -> None:
    stack = built.stack
    per_queue = stack.resolve(built.metrics.metric_failed(built.queue).to_metric_config().metric_stat)
    assert per_queue["metricName"] == "JobsFailed"
    assert per_queue["namespace"] == METRIC_NAMESPACE
    assert per_queue["dimensions"] == [{"name": QUEUE_DIMENSION, "value": built.queue_arn(built.queue)}]
    total = built.metrics.metric_succeeded().to_metric_config().math_expression
    assert total is not None and total.expression == "SUM([s0, s1])"


def test_dashboard_has_no_physical_name_and_graphs_both_counts(built: Built) -> None:
    dashboard = built.resource(built.metrics.dashboard)["Properties"]
    assert "DashboardName" not in dashboard
    body = json.dumps(dashboard["DashboardBody"])
    for text in ("JobsSucceeded", "JobsFailed", "Succeeded jobs per queue", "Failed jobs per queue"):
        assert text in body


# -------------------------------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, BatchQueue]:
    stack = cdk.Stack(new_app(), "Scratch")
    return stack, fargate_queue(stack, imported_vpc(stack))


@pytest.mark.parametrize(
    ("kind", "kwargs", "pattern"),
    [
        ("alerts", {"queues": []}, r"\[monitoring-queues\] no job queues given"),
        ("metrics", {"queues": []}, r"\[monitoring-queues\] no job queues given"),
        ("alerts", {"email": "ops at example"}, r"\[monitoring-options\] email='ops at example'"),
        ("metrics", {"failed_jobs_threshold": 0}, r"\[monitoring-options\] failed_jobs_threshold=0"),
    ],
)
def test_invalid_options(
    scratch: tuple[cdk.Stack, BatchQueue], kind: str, kwargs: dict[str, Any], pattern: str
) -> None:
    stack, queue = scratch
    construct_id = f"Bad{len(stack.node.children)}"
    arguments: dict[str, Any] = {"queues": [queue], **kwargs}
    with pytest.raises(BatchConfigurationError, match=pattern) as raised:
        if kind == "alerts":
            BatchAlerts(stack, construct_id, **arguments)
        else:
            BatchJobMetrics(stack, construct_id, **arguments)
    assert f"Scratch/{construct_id}" in str(raised.value)


def test_topic_and_key_together(scratch: tuple[cdk.Stack, BatchQueue]) -> None:
    stack, queue = scratch
    topic = sns.Topic(stack, "T")
    key = kms.Key(stack, "K", enable_key_rotation=True)
    with pytest.raises(BatchConfigurationError, match=r"\[monitoring-options\] got both topic and encryption_key"):
        BatchAlerts(stack, "Both", queues=[queue], topic=topic, encryption_key=key)


# -------------------------------------------------------------------------------------------- compliance, lint


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert nag_violations(built.outdir) == []


def test_cfn_lint_clean(built: Built) -> None:
    assert cfn_lint(built.outdir / "MonitoringTest.template.json") == []


# ------------------------------------------------------------------------------------------ Container Insights


def test_container_insights_is_an_option_on_compute_environments() -> None:
    from batch_constructs import EfaEnvironment, FargateEnvironment, SpotEnvironment

    stack = cdk.Stack(new_app(), "Insights")
    vpc = imported_vpc(stack)
    environments = {
        "ENHANCED": FargateEnvironment(stack, "Fargate", vpc=vpc, container_insights="ENHANCED"),
        "ENABLED": SpotEnvironment(stack, "Spot", vpc=vpc, container_insights="ENABLED"),
        "DISABLED": EfaEnvironment(stack, "Efa", vpc=vpc, container_insights="DISABLED"),
        None: FargateEnvironment(stack, "AccountDefault", vpc=vpc),
    }
    template = cdk.assertions.Template.from_stack(stack).to_json()
    for mode, environment in environments.items():
        props = template["Resources"][logical_id(environment.compute_environment)]["Properties"]
        if mode is None:
            assert "EcsSettings" not in props  # the account's ECS setting applies
        else:
            assert props["EcsSettings"] == {"ContainerInsights": mode}
