"""Knowing when jobs fail: alerts to SNS, and job counts as CloudWatch metrics, without any custom code.

* :class:`BatchAlerts` sends an e-mail-friendly message to an SNS topic when a job on one of the watched queues
  FAILS, and when a job blocks the head of one of those queues ("Batch Job Queue Blocked": it can never run there,
  e.g. MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT).
* :class:`BatchJobMetrics` writes every SUCCEEDED / FAILED job state-change event of the watched queues to a log
  group, counts them with metric filters (dimension ``JobQueue``), graphs them on a dashboard and alarms on failures.

Events (AWS Batch user guide, "EventBridge" chapter): ``source: aws.batch``; ``detail-type: "Batch Job State
Change"`` with ``detail.status`` and ``detail.jobQueue`` (the queue ARN), sent on every transition except the initial
submit (batch_cwe_events.html); ``detail-type: "Batch Job Queue Blocked"`` (batch-job-queue-blocked-events.html)
with the blocking job in ``detail`` (``jobQueue``, ``jobName``, ``jobId``, ``statusReason``: the blocked-queue cause,
the same as DescribeJobs' statusReason). Both rules below match only the given queues' ARNs.

Confused-deputy protection: :class:`BatchAlerts`' rules publish to the topic as an execution role (EventBridge has
accepted an IAM execution role on every target type since March 2025, "Amazon EventBridge now supports IAM execution
roles for all targets", AWS What's New 2025-03; aws-cdk's ``SnsTopic(role=...)``, aws-cdk #34259), not as the
``events.amazonaws.com`` service principal. aws-cdk's default ``SnsTopic`` target instead adds a topic-policy
statement and a key-policy statement for ``events.amazonaws.com`` with no source condition, so any rule of any
account could publish to the topic and use the key. The role trusts EventBridge of this account only
(``aws:SourceAccount``, EventBridge user guide, "Cross-service confused deputy prevention"); an ``aws:SourceArn`` of
the rules would make the rules and the role depend on each other (the target names the role, the trust the rules), a
cycle CloudFormation rejects. The role may publish to the topic and use the topic's key through SNS only
(``kms:ViaService``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import ArnFormat, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._internal import dlq as _dlq
from ._internal import logs as _logs
from ._internal.iam import ManagedPolicyRole, grant_key_via, service_principal
from ._internal.memo import account_id, adopt_stack, stack_of
from ._internal.validation import raise_if_any
from .model import registry
from .model import rules as _rules
from .types import Queue

__all__ = ["METRIC_NAMESPACE", "QUEUE_BLOCKED", "QUEUE_DIMENSION", "STATE_CHANGE", "BatchAlerts", "BatchJobMetrics"]

#: CloudWatch namespace of the job counts. Metrics are dimensioned by queue ARN, so stacks do not mix.
METRIC_NAMESPACE = "BatchConstructs/Jobs"
#: Dimension holding the job queue ARN (``detail.jobQueue`` of the event).
QUEUE_DIMENSION = "JobQueue"
STATE_CHANGE = "Batch Job State Change"
QUEUE_BLOCKED = "Batch Job Queue Blocked"


def _queue_arns(scope: Construct, queues: Sequence[Queue]) -> list[str]:
    if isinstance(queues, (str, bytes)) or not queues:
        raise_if_any(
            scope,
            [
                registry.MONITORING_QUEUES.fix(
                    "no job queues given: the rules would watch nothing",
                    "pass queues=[platform.queue] (BatchQueue or batch.IJobQueue)",
                )
            ],
        )
    return [q.job_queue_arn for q in queues]


def allow_service(key: kms.IKey, service: str, sid: str) -> None:
    """Let ``service`` (e.g. ``cloudwatch.amazonaws.com``) of this account encrypt messages for ``key``'s topics."""
    flag = f"_batch_constructs_allowed_{sid}"
    if getattr(key, flag, False):
        return
    setattr(key, flag, True)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(service)],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": account_id()}},
        )
    )


def new_topic(scope: Construct, construct_id: str, encryption_key: kms.IKey | None) -> sns.Topic:
    """A TLS-only topic encrypted with ``encryption_key`` (default: the stack's key).

    No statement for a service principal: publishers are granted on their own role (see :class:`BatchAlerts`), and
    alarms through :func:`allow_service`.
    """
    key = encryption_key or _logs.default_key(scope)
    return sns.Topic(scope, construct_id, master_key=key, enforce_ssl=True)


def grant_publish(role: iam.IRole, topic: sns.ITopic) -> iam.Grant:
    """Let ``role`` publish to ``topic``: ``sns:Publish`` on it and, when its key is known, exactly the two KMS actions
    a publisher needs (``kms:GenerateDataKey`` to encrypt the message, ``kms:Decrypt`` for the data key SNS caches;
    Amazon SNS developer guide, "Key management"), only through SNS in this region (``kms:ViaService``).

    ``topic.grant_publish`` would grant ``kms:GenerateDataKey*`` (an action wildcard) with no service condition.
    """
    grant = iam.Grant.add_to_principal(grantee=role, actions=["sns:Publish"], resource_arns=[topic.topic_arn])
    key = getattr(topic, "master_key", None)
    if key is not None:
        grant = grant.combine(grant_key_via(role, key.key_arn, "sns", "kms:Decrypt", "kms:GenerateDataKey"))
    return grant


class BatchAlerts(Construct):
    """An SNS message whenever a job on ``queues`` fails, or blocks its queue.

    Messages are plain text for people (job name and id, queue, reason, a console link); subscribe a chatbot,
    a ticketing webhook or a Lambda to the topic for more.

    Attributes:
        topic: the SNS topic (child ``Topic`` when created here).
        failed_rule: the rule for "Batch Job State Change" with status FAILED (child ``FailedRule``).
        blocked_rule: the rule for "Batch Job Queue Blocked" (child ``BlockedRule``).
        dead_letter_queue: alerts EventBridge could not publish, and e-mails SNS could not deliver (child
            ``DeadLetterQueue``).
        role: the role both rules publish as (child ``PublishRole``): trusts EventBridge of this account only, may
            publish to ``topic`` and use its key through SNS; nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: Sequence[Queue],
        topic: sns.ITopic | None = None,
        email: str | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        """Args:
        queues: the queues to watch (at least one). Jobs on other queues of the account are ignored.
        topic: an existing topic. The rules publish to it as :attr:`role`, which is granted ``sns:Publish`` on it
            and, when the topic object knows its key (``topic.master_key``), ``kms:GenerateDataKey`` and
            ``kms:Decrypt`` on that key through SNS; for an imported KMS-encrypted topic, grant the key to
            ``alerts.role`` yourself. Default: a new topic, KMS-encrypted and TLS-only.
        email: subscribe this address (it receives a confirmation e-mail first). Default: no subscription.
        encryption_key: the key of the new topic and dead-letter queue. Default: the stack's shared key
            (``BatchConstructsKey``). Its key policy gets one statement for events.amazonaws.com of this account
            (``aws:SourceAccount``), which EventBridge needs to put undeliverable alerts into the encrypted
            dead-letter queue (a dead-letter queue is written under the queue's resource policy, never a role).
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        arns = _queue_arns(self, queues)
        problems = []
        if email is not None and ("@" not in email or email.strip() != email):
            problems.append(
                registry.MONITORING_OPTIONS.fix(
                    f"email={email!r} is not an e-mail address", "pass e.g. ops@example.com"
                )
            )
        if topic is not None and encryption_key is not None:
            problems.append(
                registry.MONITORING_OPTIONS.fix(
                    "got both topic and encryption_key (the key is for a new topic)",
                    "pass only one",
                )
            )
        raise_if_any(self, problems)

        self.topic: sns.ITopic = topic or new_topic(self, "Topic", encryption_key)
        self.role: iam.IRole = ManagedPolicyRole(
            self,
            "PublishRole",
            assumed_by=service_principal("events.amazonaws.com"),
            description=f"batch-constructs: EventBridge publishes the job alerts of {self.node.path}"[:1000],
        )
        grant_publish(self.role, self.topic)
        self.dead_letter_queue: sqs.Queue = _dlq.new_dead_letter_queue(
            self, "DeadLetterQueue", encryption_key=encryption_key
        )
        if email is not None:
            # SNS moves e-mails it cannot deliver to the same dead-letter queue (it needs the queue's key for that).
            allow_service(encryption_key or _logs.default_key(self), "sns.amazonaws.com", "AllowSnsDeadLetterDelivery")
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.dead_letter_queue)
            )

        job = "job <name> (<id>)"
        self.failed_rule = events.Rule(
            self,
            "FailedRule",
            description=f"AWS Batch jobs that FAILED on the queues watched by {self.node.path}",
            event_pattern=events.EventPattern(
                source=["aws.batch"],
                detail_type=[STATE_CHANGE],
                detail={"status": ["FAILED"], "jobQueue": arns},
            ),
        )
        self.failed_rule.add_target(
            self._target(f"AWS Batch {job} FAILED on queue <queue>.\nReason: <reason>\nDetails: <link>")
        )
        self.blocked_rule = events.Rule(
            self,
            "BlockedRule",
            description=f"AWS Batch queues watched by {self.node.path} blocked by a job that cannot run",
            event_pattern=events.EventPattern(
                source=["aws.batch"], detail_type=[QUEUE_BLOCKED], detail={"jobQueue": arns}
            ),
        )
        self.blocked_rule.add_target(
            self._target(
                f"AWS Batch queue <queue> is BLOCKED by {job}: it cannot run on the queue's compute environments, "
                "and the jobs behind it wait.\nReason: <reason>\nDetails: <link>"
            )
        )

    def _target(self, template: str) -> events.IRuleTarget:
        fields = {
            "<name>": events.EventField.from_path("$.detail.jobName"),
            "<id>": events.EventField.from_path("$.detail.jobId"),
            "<queue>": events.EventField.from_path("$.detail.jobQueue"),
            "<reason>": events.EventField.from_path("$.detail.statusReason"),
            "<link>": "https://"
            + events.EventField.from_path("$.region")
            + ".console.aws.amazon.com/batch/home?region="
            + events.EventField.from_path("$.region")
            + "#jobs/detail/"
            + events.EventField.from_path("$.detail.jobId"),
        }
        text = template
        for placeholder, value in fields.items():
            text = text.replace(placeholder, value)
        # _TopicTarget.bind takes IRule where jsii's IRuleTarget says IRuleRef (the same object at run time).
        return _TopicTarget(self.topic, self.role, events.RuleTargetInput.from_text(text), self.dead_letter_queue)  # type: ignore[return-value]


class BatchJobMetrics(Construct):
    """Succeeded / failed job counts per queue, a dashboard of them and an alarm on failures - no custom code.

    An EventBridge rule sends each "Batch Job State Change" event with status SUCCEEDED or FAILED on ``queues`` to a
    log group; two metric filters count them as ``JobsSucceeded`` / ``JobsFailed`` in the namespace
    ``BatchConstructs/Jobs`` with the dimension ``JobQueue`` (the queue ARN). Each job attempt that ends counts once
    (a retried job that finally succeeds counts as SUCCEEDED only: Batch sends FAILED only for the final attempt).

    Watch each queue from one BatchJobMetrics: two would publish into the same metric and double its counts.
    EventBridge writes to the log group under a CloudWatch Logs resource policy (an account holds at most 10).

    Attributes:
        log_group: the events' log group (child ``LogGroup``).
        rule: the EventBridge rule (child ``Rule``).
        dashboard: the CloudWatch dashboard (child ``Dashboard``, named by CloudFormation).
        failure_alarm: the alarm on failed jobs over all queues (child ``FailureAlarm``).
        alarm_topic: where the alarm notifies (child ``AlarmTopic`` when created here).
        dead_letter_queue: events EventBridge could not write to the log group (child ``DeadLetterQueue``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: Sequence[Queue],
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        failed_jobs_threshold: int = 1,
        period: Duration | None = None,
    ) -> None:
        """Args:
        queues: the queues to count jobs of (at least one).
        log_retention: of the events' log group. Default: one year.
        encryption_key: of the log group (and of the alarm topic when created here). Default: the stack's shared key.
        alarm_topic: the failure alarm's action (a BatchAlerts' ``topic`` is a good choice). Default: a new
            KMS-encrypted, TLS-only topic (an alarm must notify someone; the compliance packs also require an action).
        failed_jobs_threshold: alarm when at least this many jobs failed in one period. Default: 1.
        period: the metrics' and alarm's period. Default: 5 minutes.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        self.queues = list(queues) if not isinstance(queues, (str, bytes)) else []
        arns = _queue_arns(self, queues)
        problems = _rules.int_range(
            registry.MONITORING_OPTIONS, "failed_jobs_threshold", failed_jobs_threshold, 1, 1_000_000, "use 1 or more"
        )
        raise_if_any(self, problems)
        self._arns = arns
        self.period = period or Duration.minutes(5)

        self.log_group = _logs.new_log_group(self, "LogGroup", retention=log_retention, encryption_key=encryption_key)
        # EventBridge writes to CloudWatch Logs under the log group's resource policy, not a role. The L2
        # add_to_resource_policy renders a plain AWS::Logs::ResourcePolicy; events_targets.CloudWatchLogGroup would
        # deploy a custom-resource Lambda to do the same.
        self.log_group.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeWritesBatchJobEvents",
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                ],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Finished AWS Batch jobs of the queues counted by {self.node.path}",
            event_pattern=events.EventPattern(
                source=["aws.batch"],
                detail_type=[STATE_CHANGE],
                detail={"status": ["SUCCEEDED", "FAILED"], "jobQueue": arns},
            ),
        )
        self.dead_letter_queue: sqs.Queue = _dlq.new_dead_letter_queue(
            self, "DeadLetterQueue", encryption_key=encryption_key
        )
        # _LogGroupTarget.bind takes IRule where jsii's IRuleTarget says IRuleRef (the same object at run time).
        self.rule.add_target(_LogGroupTarget(self.log_group, self.dead_letter_queue))  # type: ignore[arg-type]
        for status, metric_name in (("SUCCEEDED", "JobsSucceeded"), ("FAILED", "JobsFailed")):
            logs.MetricFilter(
                self,
                f"{metric_name}Filter",
                log_group=self.log_group,
                filter_pattern=logs.FilterPattern.string_value("$.detail.status", "=", status),
                metric_namespace=METRIC_NAMESPACE,
                metric_name=metric_name,
                metric_value="1",
                dimensions={QUEUE_DIMENSION: "$.detail.jobQueue"},
                unit=cloudwatch.Unit.COUNT,
            )

        if alarm_topic is None:
            created = new_topic(self, "AlarmTopic", encryption_key)
            allow_service(created.master_key or _logs.default_key(self), "cloudwatch.amazonaws.com", "AllowAlarms")
            alarm_topic = created
        self.alarm_topic: sns.ITopic = alarm_topic
        self.failure_alarm = cloudwatch.Alarm(
            self,
            "FailureAlarm",
            alarm_description=f"AWS Batch jobs failed on the queues counted by {self.node.path}",
            metric=self.metric_failed(),
            threshold=failed_jobs_threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="Jobs finished (selected range)",
                metrics=[self.metric_succeeded(), self.metric_failed()],
                set_period_to_time_range=True,
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Succeeded jobs per queue",
                left=[self.metric_succeeded(q) for q in self.queues],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Failed jobs per queue",
                left=[self.metric_failed(q) for q in self.queues],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=failed_jobs_threshold, label="alarm")],
                width=8,
            ),
        )

    def _metric(self, metric_name: str, queue: Queue | None, label: str) -> cloudwatch.IMetric:
        if queue is not None:
            return cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={QUEUE_DIMENSION: queue.job_queue_arn},
                statistic=cloudwatch.Stats.SUM,
                period=self.period,
                label=f"{label} {queue.node.path.split('/', 1)[-1]}",
            )
        per_queue = {
            f"{metric_name[4].lower()}{i}": cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name=metric_name,
                dimensions_map={QUEUE_DIMENSION: arn},
                statistic=cloudwatch.Stats.SUM,
                period=self.period,
            )
            for i, arn in enumerate(self._arns)
        }
        return cloudwatch.MathExpression(
            expression=f"SUM([{', '.join(per_queue)}])",
            using_metrics=per_queue,
            label=label,
            period=self.period,
        )

    def metric_succeeded(self, queue: Queue | None = None) -> cloudwatch.IMetric:
        """Jobs that SUCCEEDED per period: on ``queue``, or (default) summed over every watched queue."""
        return self._metric("JobsSucceeded", queue, "Succeeded")

    def metric_failed(self, queue: Queue | None = None) -> cloudwatch.IMetric:
        """Jobs that FAILED per period: on ``queue``, or (default) summed over every watched queue."""
        return self._metric("JobsFailed", queue, "Failed")


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """An EventBridge target writing the whole event to a log group, authorised by the log group's resource policy."""

    def __init__(self, log_group: logs.ILogGroup, dead_letter_queue: sqs.IQueue) -> None:
        self.log_group = log_group
        self.dead_letter_queue = dead_letter_queue

    def bind(self, rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        # The target ARN is the log group's without the ":*" suffix of its Arn attribute.
        arn = stack_of(self.log_group).format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        _dlq.allow_rule_to_send(self.dead_letter_queue, rule)
        return events.RuleTargetConfig(
            arn=arn, dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn)
        )


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    """An EventBridge target publishing ``message`` to a topic as ``role`` (granted by :func:`grant_publish`).

    aws-cdk's ``SnsTopic(topic, role=role)`` would also work, but its ``topic.grant_publish`` adds
    ``kms:GenerateDataKey*`` without a service condition; this target adds no grant of its own.
    """

    def __init__(
        self, topic: sns.ITopic, role: iam.IRole, message: events.RuleTargetInput, dead_letter_queue: sqs.IQueue
    ) -> None:
        self.topic = topic
        self.role = role
        self.message = message
        self.dead_letter_queue = dead_letter_queue

    def bind(self, rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        _dlq.allow_rule_to_send(self.dead_letter_queue, rule)
        return events.RuleTargetConfig(
            arn=self.topic.topic_arn,
            role=self.role,
            input=self.message,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            target_resource=self.topic,
        )
