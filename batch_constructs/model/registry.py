"""Every synth-time rule and warning of batch-constructs, declared once: id, what it checks, limit and source.

The rule functions (:mod:`batch_constructs.model.rules`) and the constructs report problems through these objects
(``registry.TIMEOUT.fix(problem, remedy)``, ``warn(scope, registry.PHYSICAL_NAME_WARNING, message)``), so an id cannot
drift from its documentation: ``RULES``, ``WARNINGS`` and the tables of ``docs/validation.md`` are derived from the
declarations below (``python -m batch_constructs.model.registry`` prints the tables; a test keeps the document in step).
Ids are public: users search for them in error messages and acknowledge warnings by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["RULES", "WARNINGS", "Advice", "Rule", "all_rules", "all_warnings", "markdown_tables"]


@dataclass(frozen=True)
class Rule:
    """A configuration AWS rejects (or that leaves jobs stuck): reported as ``[id] problem. Fix: remedy.``

    Attributes:
        id: the public id, in every message as ``[id]``.
        summary: one line, as listed in ``RULES``.
        checks: what is checked (the documentation's column).
        limit: the limit AWS applies.
        source: where AWS documents it (API reference, user guide, CloudFormation schema, an aws-cdk issue).
    """

    id: str
    summary: str
    checks: str
    limit: str
    source: str

    def fix(self, problem: str, remedy: str) -> str:
        """One problem found by this rule: ``[id] problem. Fix: remedy.``"""
        return f"[{self.id}] {problem}. Fix: {remedy}."


@dataclass(frozen=True)
class Advice:
    """A non-fatal warning, emitted as ``batch-constructs:<id>`` (acknowledgeable with that id).

    Attributes:
        id: the public id, without the ``batch-constructs:`` prefix.
        summary: one line, as listed in ``WARNINGS``.
        when: when it is emitted (the documentation's column).
        why: why it matters.
    """

    id: str
    summary: str
    when: str
    why: str


_RULES: dict[str, Rule] = {}
_WARNINGS: dict[str, Advice] = {}


def _rule(rule_id: str, *, summary: str, checks: str, limit: str, source: str) -> Rule:
    if rule_id in _RULES:
        raise ValueError(f"rule id {rule_id!r} declared twice")
    rule = _RULES[rule_id] = Rule(rule_id, summary, checks, limit, source)
    return rule


def _warning(warning_id: str, *, summary: str, when: str, why: str) -> Advice:
    if warning_id in _WARNINGS:
        raise ValueError(f"warning id {warning_id!r} declared twice")
    advice = _WARNINGS[warning_id] = Advice(warning_id, summary, when, why)
    return advice


NETWORK_EXISTING_VPC: Final = _rule(
    "network-existing-vpc",
    summary="an existing VPC cannot be combined with props that shape a new VPC",
    checks="`vpc=` is not combined with props that shape a new VPC",
    limit="max_azs, nat_gateways, ip_addresses only for a new VPC",
    source="library API",
)
NETWORK_AZS: Final = _rule(
    "network-azs",
    summary="a new VPC spans 1-6 Availability Zones",
    checks="Availability Zones of a new VPC",
    limit="1-6",
    source="EC2 VPC quotas",
)
NETWORK_NAT: Final = _rule(
    "network-nat",
    summary="NAT gateways: 0 up to one per Availability Zone",
    checks="NAT gateways of a new VPC",
    limit="0 to one per AZ",
    source="`ec2.Vpc`",
)
NETWORK_EGRESS: Final = _rule(
    "network-egress",
    summary="isolated subnets need interface endpoints for ECR, ECS and CloudWatch Logs",
    checks=(
        "a new VPC without NAT has the interface endpoints ecr.api, ecr.dkr and logs and the S3 gateway endpoint; "
        "an EC2 environment placed in it also ecs, ecs-agent and ecs-telemetry; a job reading secrets that can run "
        "there also secretsmanager (Secrets Manager secrets) or ssm (SSM parameters)"
    ),
    limit="endpoints when `nat_gateways=0`",
    source=(
        "Batch User Guide: VPC endpoints; ECS Developer Guide: Amazon ECS interface VPC endpoints, "
        "Pass Secrets Manager secrets programmatically"
    ),
)
ENVIRONMENT_NETWORK: Final = _rule(
    "environment-network",
    summary="a compute environment needs exactly one of network or vpc, and a subnet",
    checks="an environment gets exactly one of `network`/`vpc`, and a subnet",
    limit="exactly one",
    source="library API",
)
ENVIRONMENT_VCPUS: Final = _rule(
    "environment-vcpus",
    summary="0 <= min vCPUs <= max vCPUs, max vCPUs >= 1",
    checks="min and max vCPUs of an environment",
    limit="0 <= min <= max, max >= 1",
    source="API_ComputeResource",
)
ENVIRONMENT_INSTANCES: Final = _rule(
    "environment-instances",
    summary="an EC2 environment names at least one instance type or family",
    checks="an EC2 environment names instance types or families",
    limit="at least one",
    source="API_ComputeResource",
)
ENVIRONMENT_ARCHITECTURE: Final = _rule(
    "environment-architecture",
    summary="one environment launches one CPU architecture",
    checks="an environment's types share one CPU architecture (Graviton `g` families vs x86_64)",
    limit="one architecture",
    source="API_ComputeResource",
)
SPOT_STRATEGY: Final = _rule(
    "spot-strategy",
    summary="SPOT_* allocation strategies only on Spot environments",
    checks="`SPOT_CAPACITY_OPTIMIZED` / `SPOT_PRICE_CAPACITY_OPTIMIZED`",
    limit="Spot environments only",
    source="API_ComputeResource allocationStrategy",
)
SPOT_BID: Final = _rule(
    "spot-bid",
    summary="Spot bid percentage 1-100, only on Spot environments",
    checks="`spot_bid_percentage`",
    limit="1-100, Spot only",
    source="API_ComputeResource bidPercentage",
)
SPOT_FLEET_ROLE: Final = _rule(
    "spot-fleet-role",
    summary="a Spot Fleet role only on Spot environments",
    checks="`spot_fleet_role`",
    limit="Spot only (BEST_FIT on Spot gets one automatically)",
    source="API_ComputeResource spotIamFleetRole",
)
GPU_INSTANCES: Final = _rule(
    "gpu-instances",
    summary="a GPU environment launches only GPU instance types",
    checks="a `GpuEnvironment` launches GPU types only",
    limit="GPU families",
    source="Batch User Guide: GPU jobs",
)
GPU_IMAGE: Final = _rule(
    "gpu-image",
    summary="GPU instances boot an NVIDIA image (ECS_AL2023_NVIDIA) or a custom AMI",
    checks="GPU instances boot an `*_NVIDIA` image or a custom AMI",
    limit="NVIDIA driver present",
    source="API_Ec2Configuration imageType",
)
LAUNCH_TEMPLATE_MERGE: Final = _rule(
    "launch-template-merge",
    summary="a supplied launch template or user data can be merged with the library's locked-down instance metadata",
    checks=(
        "a supplied launch template keeps IMDSv2 required and hop limit 1; user data goes either in `user_data` or in "
        "the template, not both; an imported template cannot take `user_data`; the template has no network "
        "interfaces (the environment has security groups)"
    ),
    limit="HttpTokens required, HttpPutResponseHopLimit 1, one source of user data, no NetworkInterfaces",
    source=(
        "EC2 User Guide: Configure the instance metadata options (IMDSv2, hop limit); AWS Batch User Guide: Use "
        "Amazon EC2 launch templates (user data in MIME multi-part format); aws-cdk#21577 (Batch: 'Either compute "
        "environment Security Groups or Network Interfaces in Launch template are exclusively allowed')"
    ),
)
UPDATE_TIMEOUT: Final = _rule(
    "update-timeout",
    summary="the job execution timeout of an infrastructure update is 1-7200 minutes",
    checks="`job_execution_timeout` of an EC2 environment (UpdatePolicy.JobExecutionTimeoutMinutes)",
    limit="1-7200 minutes",
    source="botocore Batch model: JobExecutionTimeoutMinutes (min 1, max 7200); API_UpdatePolicy",
)
EFA_INTERFACES: Final = _rule(
    "efa-interfaces",
    summary="an EFA environment attaches 1 to the instance type's maximum EFA interfaces",
    checks="`efa_interfaces` of an EfaEnvironment against the instance type's network cards",
    limit="1 to MaximumEfaInterfaces of the type",
    source="EC2 User Guide: Maximize network bandwidth on Amazon EC2 instances with multiple network cards",
)
EFA_INSTANCE_TYPE: Final = _rule(
    "efa-instance-type",
    summary="EFA needs an EFA-capable instance type",
    checks="EFA environments and EFA jobs use an EFA-capable type",
    limit="EFA-capable",
    source="EC2 User Guide: EFA supported instance types",
)
QUEUE_ENVIRONMENTS: Final = _rule(
    "queue-environments",
    summary="a queue orders 1-3 compute environments",
    checks="compute environments per queue",
    limit="1-3",
    source="API_CreateJobQueue, Batch service quotas",
)
QUEUE_ORDER: Final = _rule(
    "queue-order",
    summary="a queue's environments have distinct orders and appear once",
    checks="environment orders within a queue",
    limit="distinct, each environment once",
    source="API_ComputeEnvironmentOrder",
)
QUEUE_MIXED_PLATFORM: Final = _rule(
    "queue-mixed-platform",
    summary="a queue cannot mix Fargate and EC2 environments",
    checks="Fargate and EC2 environments in one queue",
    limit="not mixed",
    source="API_CreateJobQueue",
)
QUEUE_MIXED_ARCHITECTURE: Final = _rule(
    "queue-mixed-architecture",
    summary="a queue's environments share one CPU architecture",
    checks="CPU architectures in one queue",
    limit="one",
    source="API_CreateJobQueue",
)
QUEUE_PRIORITY: Final = _rule(
    "queue-priority",
    summary="queue priority 0-1000",
    checks="queue priority",
    limit="0-1000",
    source="AWS::Batch::JobQueue schema",
)
QUEUE_TIME_LIMIT: Final = _rule(
    "queue-time-limit",
    summary="job-state time limits 600-86400 seconds",
    checks="job-state time limits of a queue",
    limit="600-86400 s",
    source="API_JobStateTimeLimitAction",
)
FAIR_SHARE_SHARES: Final = _rule(
    "fair-share-shares",
    summary=(
        "fair-share identifiers: 1-255 characters, optional trailing *, no overlap; weights 0.0001-999.9999; "
        "at most 500"
    ),
    checks="fair-share identifiers and weights",
    limit="1-255 chars, `*` only last, no overlap, weight 0.0001-999.9999, <= 500",
    source="API_ShareAttributes",
)
FAIR_SHARE_POLICY: Final = _rule(
    "fair-share-policy",
    summary="fair-share share decay 0-604800 s and compute reservation 0-99, only on a queue given fair_share",
    checks="`share_decay` and `compute_reservation` of a queue's fair-share policy",
    limit="0-604800 s; 0-99; with `fair_share` only",
    source="API_FairsharePolicy",
)
FAIR_SHARE_PRIORITY: Final = _rule(
    "fair-share-priority",
    summary="jobs on a fair-share queue carry a scheduling priority",
    checks="jobs on a fair-share queue have a scheduling priority",
    limit="required",
    source="Batch User Guide: fair-share scheduling",
)
SHARE_IDENTIFIER: Final = _rule(
    "share-identifier",
    summary="submissions to a fair-share queue carry a share identifier, and only those",
    checks="submissions carry a share identifier exactly when the queue is fair-share",
    limit="required / refused",
    source="API_SubmitJob shareIdentifier",
)
FARGATE_RESOURCES: Final = _rule(
    "fargate-resources",
    summary="Fargate vCPU and memory form one of Fargate's combinations",
    checks="Fargate vCPU/memory pair",
    limit=(
        "0.25: 512/1024/2048; 0.5: 1-4 GiB; 1: 2-8 GiB; 2: 4-16 GiB (1 GiB steps); 4: 8-30 GiB; 8: 16-60 GiB "
        "(4 GiB steps); 16: 32-120 GiB (8 GiB steps); 32: 60, 120 or 244 GiB (61440, 122880, 249856 MiB)"
    ),
    source="API_ResourceRequirement",
)
FARGATE_GPU: Final = _rule(
    "fargate-gpu",
    summary="no GPUs on Fargate",
    checks="GPUs on a Fargate job",
    limit="none",
    source="API_ResourceRequirement",
)
PLATFORM_PROPS: Final = _rule(
    "platform-props",
    summary="Fargate-only props are not set on EC2 jobs and the reverse",
    checks=(
        "`privileged`, `ulimits`, `shared_memory_size`, `tmpfs` (EC2 only); `ephemeral_storage`, `architecture`, "
        "`fargate_platform_version` (Fargate only)"
    ),
    limit="Fargate-only / EC2-only",
    source=(
        "API_ContainerProperties, API_LinuxParameters (ulimits, sharedMemorySize, tmpfs, devices: \"isn't applicable "
        'to jobs that are running on Fargate resources"), botocore Batch model 2016-08-10'
    ),
)
CONTAINER_SETTINGS: Final = _rule(
    "container-settings",
    summary="container settings are well formed: unique ulimit names, positive sizes and quantities",
    checks=(
        "ulimit names unique and soft <= hard; `shared_memory_size`, `tmpfs` sizes >= 1 MiB; consumable resource "
        "quantities >= 1; `linux_parameters` not combined with `init_process`/`shared_memory_size`/`tmpfs`"
    ),
    limit="soft <= hard; sizes and quantities >= 1",
    source=(
        "API_Ulimit, API_LinuxParameters, API_Tmpfs, CloudFormation AWS::Batch::JobDefinition "
        "ConsumableResourceRequirement (cfn-lint schema)"
    ),
)
MULTI_CONTAINER: Final = _rule(
    "multi-container",
    summary="a multi-container job has uniquely named containers, one essential, and dependencies that exist",
    checks=(
        "container names unique (and valid names, rule `name`); at least one essential container; `depends_on` names "
        "another container of the job, no cycles; COMPLETE/SUCCESS only on non-essential containers; at most one "
        "FireLens router"
    ),
    limit="names unique; >= 1 essential; dependencies acyclic",
    source=(
        'API_TaskContainerProperties (essential: "All jobs must have at least one essential container"), '
        'API_TaskContainerDependency (COMPLETE/SUCCESS "can\'t be set on an essential container"), ECS FireLens guide'
    ),
)
ARGUMENT_TYPE: Final = _rule(
    "argument-type",
    summary="every argument has the type the signature declares",
    checks="arguments of the job and environment constructors (e.g. a `Size` for `memory`, a `Duration` for `timeout`)",
    limit="the declared type",
    source="the constructor's signature (a number where a Size is expected otherwise fails deep inside aws-cdk-lib)",
)
JOB_RESOURCES: Final = _rule(
    "job-resources",
    summary="vCPUs > 0 (>= 1 on EC2), memory >= 4 MiB, GPUs >= 0",
    checks="vCPUs, memory, GPUs of a job",
    limit="vCPUs > 0 (>= 1 on EC2), memory >= 4 MiB, GPUs >= 0",
    source="API_ResourceRequirement",
)
JOB_FITS_QUEUE: Final = _rule(
    "job-fits-queue",
    summary="a job fits at least one compute environment behind its queue",
    checks=(
        "the job fits at least one environment behind its queue: platform, architecture, vCPUs, memory, GPUs,"
        " instance type, max vCPUs"
    ),
    limit="fits",
    source="Batch User Guide: job stuck in RUNNABLE",
)
SCHEDULING_PRIORITY: Final = _rule(
    "scheduling-priority",
    summary="scheduling priority 0-9999",
    checks="job scheduling priority",
    limit="0-9999",
    source="API_RegisterJobDefinition",
)
RETRY_ATTEMPTS: Final = _rule(
    "retry-attempts",
    summary="retry attempts 1-10",
    checks="retry attempts",
    limit="1-10",
    source="API_RetryStrategy",
)
RETRY_CONDITIONS: Final = _rule(
    "retry-conditions",
    summary="at most 5 retry conditions, each with an action and a pattern, and attempts > 1",
    checks="evaluateOnExit conditions",
    limit="<= 5, each with RETRY/EXIT and a pattern, attempts > 1",
    source="API_RetryStrategy",
)
RETRY_PATTERN: Final = _rule(
    "retry-pattern",
    summary=(
        "retry patterns: <= 512 characters; exit codes digits, reasons letters, digits, spaces, '.' and ':'; "
        "'*' only at the end"
    ),
    checks="evaluateOnExit patterns",
    limit="<= 512 chars; exit codes digits; reasons letters, digits, spaces, `.`, `:`; `*` only at the end",
    source="API_EvaluateOnExit",
)
RETRY_CATCH_ALL: Final = _rule(
    "retry-catch-all",
    summary="retry conditions end with one catch-all EXIT (an unmatched failure is retried)",
    checks="the conditions end with one catch-all EXIT (a failure matching no condition is retried)",
    limit="last, and only last",
    source="API_EvaluateOnExit, Batch best practices",
)
TIMEOUT: Final = _rule(
    "timeout",
    summary="job timeout at least 60 seconds",
    checks="job timeout",
    limit=">= 60 s",
    source="API_JobTimeout",
)
ARRAY_SIZE: Final = _rule(
    "array-size",
    summary="array size 2-10000",
    checks="array job size",
    limit="2-10000",
    source="API_ArrayProperties",
)
DEPENDENCIES: Final = _rule(
    "dependencies",
    summary="at most 20 job dependencies",
    checks="job dependencies of one submission",
    limit="<= 20",
    source="API_SubmitJob dependsOn",
)
TARGET_RETRY: Final = _rule(
    "target-retry",
    summary="EventBridge target retries: 0-185 attempts, maximum event age 60 s to 24 h",
    checks="EventBridge target retry policy",
    limit="0-185 attempts, event age 60 s-24 h",
    source="EventBridge API_RetryPolicy",
)
NAME: Final = _rule(
    "name",
    summary="names: 1-128 letters, digits, hyphens and underscores (job names start alphanumeric)",
    checks="compute environment, queue, job definition and job names",
    limit="1-128 of `[A-Za-z0-9_-]`, job names start alphanumeric",
    source="API_CreateComputeEnvironment, API_CreateJobQueue, API_RegisterJobDefinition, API_SubmitJob",
)
TAGS: Final = _rule(
    "tags",
    summary="at most 50 tags per resource",
    checks="tags on a Batch resource (checked after `Tags.of`)",
    limit="<= 50",
    source="Batch User Guide: tagging",
)
EPHEMERAL_STORAGE: Final = _rule(
    "ephemeral-storage",
    summary="Fargate ephemeral storage 21-200 GiB",
    checks="Fargate ephemeral storage",
    limit="21-200 GiB",
    source="API_EphemeralStorage",
)
MULTINODE_ENVIRONMENT: Final = _rule(
    "multinode-environment",
    summary="multi-node jobs run on managed On-Demand EC2 environments, one instance type",
    checks="multi-node jobs: managed On-Demand EC2 environments, one instance type",
    limit="EC2, On-Demand, managed",
    source="Batch User Guide: mnp-ce.html",
)
MULTINODE_NODES: Final = _rule(
    "multinode-nodes",
    summary="multi-node jobs: at least 1 node, at most 5 node groups",
    checks="nodes and node groups",
    limit=">= 1 node, <= 5 node groups",
    source="Batch User Guide: mnp-node-groups.html",
)
MULTINODE_RANGES: Final = _rule(
    "multinode-ranges",
    summary="node ranges cover 0..N-1 without gaps and stay inside it",
    checks="node ranges",
    limit="cover 0..N-1, no gaps, inside the range",
    source="API_NodeRangeProperty",
)
MULTINODE_MAIN_NODE: Final = _rule(
    "multinode-main-node",
    summary="the main node is one of the job's nodes",
    checks="main node index",
    limit="0..N-1",
    source="API_NodeProperties",
)
EFA_ENVIRONMENT: Final = _rule(
    "efa-environment",
    summary=(
        "an EFA job runs only on EFA environments (EFA interface, placement group, self-referencing security group)"
    ),
    checks=(
        "an EFA job's queue environments are EfaEnvironments (EFA interface, cluster placement group, self-"
        "referencing security group)"
    ),
    limit="EFA environments only",
    source="Batch User Guide: efa.html",
)
TRIGGER_FILTERS: Final = _rule(
    "trigger-filters",
    summary="S3 trigger key filters are literal, non-empty lists within EventBridge's limits",
    checks="S3 trigger key filters",
    limit="literal, non-empty, within EventBridge pattern limits",
    source="EventBridge content filtering",
)
TRIGGER_PARAMETERS: Final = _rule(
    "trigger-parameters",
    summary="trigger parameter names are valid Ref:: names and distinct",
    checks="parameter names a trigger passes",
    limit="valid `Ref::` names, distinct",
    source="API_SubmitJob parameters",
)
TRIGGER_QUEUE: Final = _rule(
    "trigger-queue",
    summary="a trigger knows the queue to submit to",
    checks="a trigger knows its queue",
    limit="a queue",
    source="library API",
)
TRIGGER_UNREAD_PARAMETER: Final = _rule(
    "trigger-unread-parameter",
    summary="a trigger passes only parameters the job declares (a `Ref::` in its command, or a default)",
    checks="parameter names a trigger passes, against the job's `Ref::` names and default parameters",
    limit="declared parameters only",
    source="API_SubmitJob parameters (an undeclared name is silently ignored)",
)
TRIGGER_UNSET_PARAMETER: Final = _rule(
    "trigger-unset-parameter",
    summary="a trigger that fixes the parameters gives every `Ref::` without a default a value",
    checks="`Ref::` names with no default that a trigger with a fixed parameter set leaves out",
    limit="a value or a default for each",
    source="Batch User Guide: job definition parameters (an unset `Ref::name` reaches the container as text)",
)
JOB_OVERRIDES: Final = _rule(
    "job-overrides",
    summary="per-submission overrides are within SubmitJob's limits (attempts 1-10, timeout >= 60 s, tags <= 50)",
    checks="`JobOverrides` of Step Functions submissions",
    limit="attempts 1-10, timeout >= 60 s, <= 50 tags, environment names not `AWS_BATCH*`",
    source="API_SubmitJob (retryStrategy, timeout, tags, containerOverrides)",
)
IMPORTED_JOB: Final = _rule(
    "imported-job",
    summary="an imported job definition is given as a job definition ARN (or an L2 definition)",
    checks="`job_definition=` of `ImportedJob`",
    limit="`arn:...:batch:REGION:ACCOUNT:job-definition/NAME[:REVISION]`",
    source="Batch API reference: job definition ARN format",
)
LAMBDA_SUBMITTER: Final = _rule(
    "lambda-submitter",
    summary=(
        "the submitter Lambda: timeout 1-900 s, memory 128-10240 MiB, reserved concurrency >= 1, subnets only"
        " with a VPC, no reserved environment variables; an SQS source reads 1-10 messages per invocation with a"
        " maximum concurrency of 2-1000"
    ),
    checks="the submitter Lambda's settings",
    limit=(
        "timeout 1-900 s, memory 128-10240 MiB, reserved concurrency >= 1, subnets only with a VPC; SQS batch size"
        " 1-10 (the library's bound: the 30 s default timeout is sized for 10 submissions), maximum concurrency"
        " 2-1000"
    ),
    source="Lambda quotas; Lambda event source mapping (ScalingConfig.MaximumConcurrency 2-1000)",
)
MONITORING_QUEUES: Final = _rule(
    "monitoring-queues",
    summary="alerts and job metrics watch at least one job queue",
    checks="alerts and metrics watch a queue",
    limit="at least one",
    source="library API",
)
MONITORING_OPTIONS: Final = _rule(
    "monitoring-options",
    summary="alert and metric options are consistent (an e-mail address, a topic or a key, threshold >= 1)",
    checks="alert and metric options",
    limit="consistent, threshold >= 1",
    source="library API",
)
# Split from `dependencies`, `timeout`, `name` and `job-fits-queue`, whose documented limits they did not share.
PIPELINE_STEPS: Final = _rule(
    "pipeline-steps",
    summary="a pipeline has at least one step",
    checks="steps of a `BatchPipeline`",
    limit="at least one",
    source="library API",
)
STATE_MACHINE_TIMEOUT: Final = _rule(
    "state-machine-timeout",
    summary="a state machine timeout is 60 s to one year",
    checks="`timeout` of `BatchJobStateMachine` / `BatchPipeline`",
    limit="60 s-365 days",
    source="Step Functions quotas: a standard workflow runs at most one year",
)
STATE_NAME: Final = _rule(
    "state-name",
    summary="Step Functions state names: 1-80 characters",
    checks="state names a pipeline or state machine derives from its steps",
    limit="1-80 characters",
    source="Step Functions API: States language state names (max 80 characters)",
)
JOB_QUEUE: Final = _rule(
    "job-queue",
    summary="grant_submit_job and job_queue_arn need a queue",
    checks="a job asked for its queue, or granted, knows a queue",
    limit="a queue on the job or passed to the call",
    source="library API",
)
SCHEDULE_TARGET: Final = _rule(
    "schedule-target",
    summary="a schedule runs either a job or a state machine, and the state machine decides queue and array size",
    checks="`job=` / `state_machine=` (and `queue`, `array_size`) of `ScheduledJob`",
    limit="exactly one target",
    source="library API",
)
FAN_OUT_SOURCE: Final = _rule(
    "fan-out-source",
    summary="an S3 fan-out reads either a prefix or a manifest, whose items name their object key",
    checks="`prefix` / `manifest_key`, `manifest_format` and `key_field` of `S3FanOut`",
    limit="one source; format inventory, csv or json; key field letters, digits and '_'",
    source="Step Functions developer guide, ItemReader (Map): S3 ListObjectsV2, S3 inventory manifest, CSV and JSON",
)
FAN_OUT_CONCURRENCY: Final = _rule(
    "fan-out-concurrency",
    summary="a Distributed Map runs 1 to 10,000 child executions at once",
    checks="`max_concurrency` of `S3FanOut`",
    limit="1-10,000",
    source="Step Functions quotas: Distributed Map, 10,000 parallel child workflow executions (MaxConcurrency)",
)
FAN_OUT_TOLERATED_FAILURES: Final = _rule(
    "fan-out-tolerated-failures",
    summary="tolerated failures are a percentage 0-100 and a count >= 0",
    checks="`tolerated_failure_percentage` / `tolerated_failure_count` of `S3FanOut`",
    limit="0-100 %, count >= 0",
    source="Step Functions developer guide, Map state: ToleratedFailurePercentage (0-100), ToleratedFailureCount",
)
FAN_OUT_BATCHING: Final = _rule(
    "fan-out-batching",
    summary="a batched fan-out passes at least one object to each job",
    checks="`items_per_job` of `S3FanOut`",
    limit=">= 1",
    source="Step Functions developer guide, ItemBatcher (MaxItemsPerBatch: a positive integer)",
)
SCHEDULE_TIME_ZONE: Final = _rule(
    "schedule-time-zone",
    summary="a schedule's time zone is an IANA name, on a schedule EventBridge Scheduler runs",
    checks="`time_zone` of `ScheduledJob` (refused with `state_machine=`: an EventBridge rule runs in UTC)",
    limit="an IANA time zone name",
    source="EventBridge Scheduler API, CreateSchedule ScheduleExpressionTimezone; EventBridge rules: UTC only",
)
SCHEDULE_FLEXIBLE_WINDOW: Final = _rule(
    "schedule-flexible-window",
    summary="a flexible time window is 1-1440 minutes, on a schedule EventBridge Scheduler runs",
    checks="`flexible_window` of `ScheduledJob` (refused with `state_machine=`: EventBridge rules have none)",
    limit="1-1440 minutes",
    source="EventBridge Scheduler API, FlexibleTimeWindow MaximumWindowInMinutes (1-1440)",
)
QUEUE_CONTRACT: Final = _rule(
    "queue-contract",
    summary="a queue contract is a published document this library can read, and fits an SSM parameter",
    checks="the contract's JSON: `schemaVersion`, each queue's `jobQueueArn` and `platform`, the type of every known "
    "field (a wrong one names the queue, environment and field); its size when published",
    limit="SSM String parameter value: 4,096 characters (standard tier), 8 KB (advanced tier)",
    source="Systems Manager User Guide, parameter-store-advanced-parameters.html (PutParameter rejects larger values)",
)
IMPORTED_QUEUE: Final = _rule(
    "imported-queue",
    summary="a job on a queue the library cannot see states its platform, or the queue comes with its contract",
    checks="a ContainerJob on a queue imported by ARN (not a BatchQueue or a contract import) passes `platform=`",
    limit="`platform=` or `BatchQueue.from_contract(...)`",
    source="library API (a job without a platform would silently become a Fargate job)",
)
ACCESS_LOGS_FLAG: Final = _rule(
    "access-logs-flag",
    summary="S3 access logs to an ACL-disabled bucket need the feature flag that delivers them through a bucket policy",
    checks="`data_bucket(access_logs=...)` with a bucket of this app whose ACLs are disabled",
    limit="`@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` true (as `cdk init` sets it)",
    source="aws-cdk-lib aws_s3 README (server access logging); S3 User Guide: permissions for log delivery",
)
PHYSICAL_NAME_WARNING: Final = _warning(
    "physical-name",
    summary="a custom physical name blocks replacement (or is shared between stacks)",
    when="a custom compute environment, queue or job definition name",
    why=(
        "CloudFormation cannot replace a custom-named resource; two stacks with one job definition name "
        "overwrite each other's revisions"
    ),
)
AZS_WITHOUT_ENV_WARNING: Final = _warning(
    "azs-without-env",
    summary="a stack without account/region gets at most 2 Availability Zones, whatever max_azs says",
    when="`max_azs` above 2 in a stack with no `env` (account and region)",
    why=(
        "CDK only knows two Availability Zones for an environment-agnostic stack, so the VPC gets 2; give the"
        " stack an `env` (and commit `cdk.context.json`) to get more"
    ),
)
CUSTOM_SERVICE_ROLE_WARNING: Final = _warning(
    "custom-service-role",
    summary="a custom service role turns in-place updates into replacements",
    when="`service_role=` on an environment",
    why="no in-place infrastructure updates: changes replace the environment",
)
BEST_FIT_WARNING: Final = _warning(
    "best-fit",
    summary="BEST_FIT waits for one instance type and cannot update in place",
    when="`allocation_strategy=BEST_FIT`",
    why="waits for one instance type, cannot update in place (Spot also needs a Spot Fleet role, created for you)",
)
LAUNCH_TEMPLATE_UNVERIFIED_WARNING: Final = _warning(
    "launch-template-unverified",
    summary="an imported launch template's instance metadata settings and version cannot be checked",
    when="`launch_template=` is an imported template (not an `ec2.LaunchTemplate` of the app)",
    why=(
        "the library cannot see or lock down its metadata options; without IMDSv2 and hop limit 1 a job container "
        "can read the instance role's credentials. Nor can it pin the version: a new template version reaches the "
        "environment only through an update of it (aws-cdk#28137)"
    ),
)
AL2_IMAGE_WARNING: Final = _warning(
    "al2-image",
    summary="Amazon Linux 2 ECS images are being retired",
    when="`ECS_AL2` / `ECS_AL2_NVIDIA` images",
    why="Amazon Linux 2 is being retired; use `ECS_AL2023` / `ECS_AL2023_NVIDIA`",
)
VCPUS_UNITS_WARNING: Final = _warning(
    "vcpus-units",
    summary="vcpus above 192 looks like ECS CPU units (1024 per vCPU)",
    when="`vcpus` above 192",
    why="looks like ECS CPU units (1024 per vCPU)",
)
SHARE_UNLISTED_WARNING: Final = _warning(
    "share-unlisted",
    summary="a submission's share identifier matches none of the fair-share policy's identifiers",
    when="a literal `share_identifier` that no entry of the queue's known `fair_share` names (exactly or as a prefix*)",
    why=(
        "AWS Batch accepts it and schedules it with the default weight 1.0 (API_ShareAttributes): a typo silently "
        "takes the default share"
    ),
)
FARGATE_UPDATE_POLICY_WARNING: Final = _warning(
    "fargate-update-policy",
    summary="an aws-cdk-lib FargateComputeEnvironment carries update settings that make its later updates fail",
    when="a `batch.FargateComputeEnvironment` of aws-cdk-lib (not a `FargateEnvironment`) behind a `BatchQueue`",
    why=(
        "the L2 writes UpdatePolicy and ReplaceComputeEnvironment, which AWS Batch refuses to update on a Fargate "
        "environment, so changing e.g. its max vCPUs later fails (aws-cdk#27054); `FargateEnvironment` leaves them out"
    ),
)
MEMORY_HEADROOM_WARNING: Final = _warning(
    "memory-headroom",
    summary="job memory above 95% of every fitting instance's nominal memory may never be placed",
    when="the job asks for more than 95% of the nominal memory of every instance it fits",
    why="ECS registers less than nominal: the job may stay RUNNABLE",
)
TAGS_REPLACE_WARNING: Final = _warning(
    "tags-replace",
    summary="tags on a compute environment force its replacement when they change",
    when="tags on a compute environment (also app-wide `Tags.of(app)`)",
    why="tags are create-only: changing one replaces the environment",
)
REQUIRED_PARAMETERS_WARNING: Final = _warning(
    "required-parameters",
    summary="a Ref:: in the command has no default parameter",
    when="a `Ref::name` in the command with no default parameter",
    why="every submission must pass it, or the literal text reaches the container",
)
STACK_RESOURCES_WARNING: Final = _warning(
    "stack-resources",
    summary="the stack nears CloudFormation's 500-resource limit",
    when="450 resources or more in one stack",
    why="CloudFormation's limit is 500",
)
TRIGGER_PARAMETERS_WARNING: Final = _warning(
    "trigger-parameters",
    summary=(
        "the job's command does not read the parameters the trigger passes, or version_parameter is set for a"
        " bucket without versioning"
    ),
    when="the job's command does not read what a trigger passes; a version id is asked of an unversioned bucket",
    why="the job cannot tell which object (or version) to process: S3 sends no version id for an unversioned bucket",
)
TRIGGER_UNFILTERED_WARNING: Final = _warning(
    "trigger-unfiltered",
    summary="an unfiltered S3 trigger submits a job for every object, including the job's own output",
    when="an S3 trigger without prefixes or suffixes",
    why="every object submits a job, including the job's own output",
)
IMPORTED_BUCKET_EVENTBRIDGE_WARNING: Final = _warning(
    "imported-bucket-eventbridge",
    summary="an imported bucket's EventBridge notifications must be enabled by its owner",
    when="an S3 trigger on an imported bucket",
    why="the bucket's owner must turn on EventBridge notifications",
)


#: Every rule id with its one-line summary (derived from the declarations above).
RULES: Final[dict[str, str]] = {r.id: r.summary for r in _RULES.values()}
#: Every warning id (emitted as ``batch-constructs:<id>``) with its one-line summary.
WARNINGS: Final[dict[str, str]] = {w.id: w.summary for w in _WARNINGS.values()}


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in declaration order."""
    return tuple(_RULES.values())


def all_warnings() -> tuple[Advice, ...]:
    """Every warning, in declaration order."""
    return tuple(_WARNINGS.values())


def markdown_tables() -> str:
    """The ``## Rules`` and ``## Warnings`` tables of ``docs/validation.md``, generated from the declarations."""
    lines = ["| Rule id | What it checks | Limit | AWS source |", "|---|---|---|---|"]
    lines += [f"| `{r.id}` | {r.checks} | {r.limit} | {r.source} |" for r in _RULES.values()]
    lines += ["", "## Warnings", "", "| Warning id | When | Why it matters |", "|---|---|---|"]
    lines += [f"| `{w.id}` | {w.when} | {w.why} |" for w in _WARNINGS.values()]
    return "\n".join(lines) + "\n"


def update_document(path: str) -> bool:
    """Rewrite the generated tables of the Markdown file at ``path`` (from the ``| Rule id |`` header to the end of the
    warnings table); return whether the file changed."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("| Rule id |")
    warnings_header = text.index("| Warning id |", start)
    table_end = text.find("\n\n", warnings_header)
    tail = text[table_end:] if table_end != -1 else "\n"
    updated = text[:start] + markdown_tables().rstrip("\n") + tail
    if updated == text:
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write(updated)
    return True


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"]:
        print("updated" if update_document(sys.argv[2]) else "unchanged", sys.argv[2])
    else:
        print(markdown_tables(), end="")
