"""Generates the parts of the docs that must match the synthesized templates.

    python docs/generate.py [--part compliance|diagrams] [CDK_OUT_DIR ...]
        (default: both parts from cdk.out; run `make synth` first - or `make docs`)

* ``docs/compliance.md``: the table of every cdk-nag acknowledgement recorded in the stacks' metadata, between the
  BEGIN/END markers. ``tests/test_compliance.py`` regenerates it from the test session's synthesis and fails when the
  committed file differs, so a new acknowledgement cannot slip in unreviewed.
* ``docs/architecture/<app module>.md``: a Mermaid flowchart of each example app, drawn from its synthesized templates
  (which resources are boxes, and which are folded into them: :data:`DRAWN`; arrows: ``Ref``/``Fn::GetAtt``/
  ``Fn::ImportValue`` between boxes, and IAM statements). ``tests/test_docs.py`` regenerates them from the test
  session's synthesis and fails when a committed file differs, so the pictures cannot go stale.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMPLIANCE = ROOT / "docs" / "compliance.md"
BEGIN, END = "<!-- BEGIN GENERATED ACKNOWLEDGEMENTS -->", "<!-- END GENERATED ACKNOWLEDGEMENTS -->"

#: The five packs the example apps register (cdk-nag 3 acknowledgement id prefixes).
PACKS: dict[str, str] = {
    "AwsSolutions": "AwsSolutions",
    "NIST.800.53.R5": "NIST 800-53 R5",
    "HIPAA.Security": "HIPAA",
    "PCI.DSS.321": "PCI DSS 3.2.1",
    "Serverless": "Serverless",
}


@dataclass(frozen=True, order=True)
class Acknowledgement:
    stack: str
    path: str  # construct path below the stack
    pack: str
    finding: str  # the rule, with its [detail] if any
    reason: str


def acknowledgements(outdirs: Iterable[pathlib.Path]) -> list[Acknowledgement]:
    """Every cdk-nag acknowledgement of the five packs recorded in the metadata files of the given cloud assemblies."""
    found: set[Acknowledgement] = set()
    for outdir in outdirs:
        for meta_file in sorted(outdir.glob("*.metadata.json")):
            stack = meta_file.name.removesuffix(".metadata.json")
            for path, entries in json.loads(meta_file.read_text()).items():
                for entry in entries:
                    if entry.get("type") != "aws:cdk:acknowledged-rules":
                        continue
                    for ack_id, reason in entry["data"].items():
                        pack, _, finding = ack_id.partition("::")
                        if pack in PACKS:
                            rel = path.removeprefix(f"/{stack}").lstrip("/") or "(stack)"
                            found.add(Acknowledgement(stack, rel, pack, finding, reason))
    return sorted(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(acks: Sequence[Acknowledgement]) -> str:
    """The generated section: counts per stack and pack, then one row per acknowledgement."""
    lines = [BEGIN, "", "### Acknowledgements per stack and pack", ""]
    stacks = sorted({a.stack for a in acks})
    counts = Counter((a.stack, a.pack) for a in acks)
    lines.append("| Stack | " + " | ".join(PACKS.values()) + " | Total |")
    lines.append("|---" * (len(PACKS) + 2) + "|")
    for stack in stacks:
        row = [str(counts[(stack, p)]) for p in PACKS]
        lines.append(f"| {stack} | " + " | ".join(row) + f" | {sum(counts[(stack, p)] for p in PACKS)} |")
    lines += ["", "### Every acknowledgement", "", "| Stack | Construct | Finding | Reason |", "|---|---|---|---|"]
    for a in acks:
        lines.append(f"| {a.stack} | `{_cell(a.path)}` | `{_cell(a.finding)}` | {_cell(a.reason)} |")
    lines += ["", END]
    return "\n".join(lines)


def replace_section(document: str, section: str) -> str:
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + section + document[end:]


# ---------------------------------------------------------------------------------------------------------------------
# Architecture diagrams: one Mermaid flowchart per example app, drawn from its synthesized templates.
# ---------------------------------------------------------------------------------------------------------------------

ARCHITECTURE = ROOT / "docs" / "architecture"

#: Subgraphs of a stack, in drawing order (left to right: what starts jobs, the jobs, where they run, what they use).
GROUPS: dict[str, str] = {
    "triggers": "Triggers",
    "jobs": "Job definitions",
    "queues": "Job queues",
    "compute": "Compute environments",
    "network": "Network",
    "data": "Data",
    "monitoring": "Monitoring",
}

#: The resource types drawn as boxes, with their group (None: decided per resource) and Mermaid shape (open, close).
#: Everything else is folded into the box of the construct it belongs to, or left out (stack-wide helpers).
DRAWN: dict[str, tuple[str | None, tuple[str, str]]] = {
    "AWS::Events::Rule": (None, ('(["', '"])')),
    "AWS::Scheduler::Schedule": ("triggers", ('(["', '"])')),
    "AWS::StepFunctions::StateMachine": ("triggers", ('{{"', '"}}')),
    "AWS::Lambda::Function": ("triggers", ('["', '"]')),
    "AWS::Batch::JobDefinition": ("jobs", ('["', '"]')),
    "AWS::Batch::JobQueue": ("queues", ('[["', '"]]')),
    "AWS::Batch::SchedulingPolicy": ("queues", ('["', '"]')),
    "AWS::Batch::ComputeEnvironment": ("compute", ('["', '"]')),
    "AWS::EC2::VPC": ("network", ('["', '"]')),
    "AWS::S3::Bucket": ("data", ('[("', '")]')),
    "AWS::DynamoDB::Table": ("data", ('[("', '")]')),
    "AWS::EFS::FileSystem": ("data", ('[("', '")]')),
    "AWS::SNS::Topic": ("monitoring", ('>"', '"]')),
    "AWS::SQS::Queue": (None, ('[/"', '"/]')),
    "AWS::CloudWatch::Alarm": ("monitoring", ('["', '"]')),
    "AWS::CloudWatch::Dashboard": ("monitoring", ('["', '"]')),
}

#: Identity policies: a reference from one of these is a permission (a dotted edge labelled with the actions).
IDENTITY_POLICIES = frozenset({"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role"})
#: Resource policies and permissions: they point back at what uses the resource, which the direct edges already show.
RESOURCE_POLICIES = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::Logs::ResourcePolicy",
        "AWS::Lambda::Permission",
        "AWS::KMS::Key",
    }
)

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")

CfnRef = tuple[str, str]  # (stack, logical id)


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: its template and the construct path (below the stack) of each logical id."""

    name: str
    template: dict[str, Any]
    paths: dict[str, str]


@dataclass(frozen=True, order=True)
class Node:
    group: str
    path: str  # construct path below the stack, without a trailing /Resource
    stack: str
    node_id: str
    shape: tuple[str, str]
    lines: tuple[str, ...]  # the first is the title


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    dotted: bool
    label: str


@dataclass(frozen=True)
class Architecture:
    module: str
    stacks: tuple[str, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    folded: tuple[tuple[str, str, int], ...]  # (resource type, where it is shown, count)


def load_stacks(outdir: pathlib.Path, stack_names: Iterable[str] | None = None) -> list[StackTemplate]:
    """The stacks of a cloud assembly (all of them, or those named), with construct paths from their metadata."""
    names = (
        sorted(stack_names)
        if stack_names is not None
        else sorted(p.name.removesuffix(".template.json") for p in outdir.glob("*.template.json"))
    )
    stacks = []
    for name in names:
        template = json.loads((outdir / f"{name}.template.json").read_text())
        paths: dict[str, str] = {}
        meta_file = outdir / f"{name}.metadata.json"
        if meta_file.exists():
            for path, entries in json.loads(meta_file.read_text()).items():
                for entry in entries:
                    if entry.get("type") == "aws:cdk:logicalId":
                        paths[entry["data"]] = path.removeprefix(f"/{name}/")
        stacks.append(StackTemplate(name, template, paths))
    return stacks


def _walk_refs(value: Any, where: tuple[str | int, ...] = ()) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Every logical id (or ``import:<export name>``) that ``value`` references, with where it sits."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                if not arg.startswith("AWS::"):
                    yield arg, where
                return
            if key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                yield target, where
                return
            if key == "Fn::ImportValue" and isinstance(arg, str):
                yield f"import:{arg}", where
                return
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                for name in re.findall(r"\$\{([^}!.]+)(?:\.[^}]*)?\}", str(text)):
                    if not name.startswith("AWS::"):
                        yield name, where
                if isinstance(arg, list) and len(arg) > 1:
                    yield from _walk_refs(arg[1], where)
                return
        for key, item in value.items():
            yield from _walk_refs(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_refs(item, (*where, index))


def _text(value: Any) -> str:
    """The literal text of a CloudFormation value (tokens dropped)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_text(part) for part in value["Fn::Join"][1])
    return ""


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _some(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit} more" if len(items) > limit else "")


def _requirements(container: dict[str, Any]) -> list[str]:
    found = {r.get("Type"): r.get("Value") for r in container.get("ResourceRequirements", [])}
    parts = []
    if "VCPU" in found:
        parts.append(f"{found['VCPU']} vCPU")
    if "MEMORY" in found:
        mib = int(found["MEMORY"]) if str(found["MEMORY"]).isdigit() else 0
        parts.append(f"{mib // 1024} GiB" if mib and mib % 1024 == 0 else f"{found['MEMORY']} MiB")
    if "GPU" in found:
        parts.append(f"{found['GPU']} GPU")
    return [" · ".join(parts)] if parts else []


def _image(container: dict[str, Any]) -> str:
    image = container.get("Image")
    if isinstance(image, str):
        return f"image {image}"
    return "image built from a Dockerfile (CDK asset)"


class _Describer:
    """The lines of text in each box: what the resource is and the settings that matter for Batch."""

    def __init__(self, resources: dict[str, Any], owned: dict[str, list[str]]) -> None:
        self.resources = resources
        self.owned = owned  # drawn logical id -> the logical ids folded into it

    def parts(self, logical_id: str, resource_type: str) -> list[dict[str, Any]]:
        return [self.resources[i] for i in self.owned.get(logical_id, []) if self.resources[i]["Type"] == resource_type]

    def describe(self, logical_id: str) -> list[str]:
        resource = self.resources[logical_id]
        props: dict[str, Any] = resource.get("Properties", {})
        kind = resource["Type"]
        method = getattr(self, "_" + kind.replace("::", "_").lower(), None)
        lines: list[str] = method(logical_id, props) if method else [kind]
        if resource.get("DeletionPolicy") == "Retain" and kind in ("AWS::S3::Bucket", "AWS::DynamoDB::Table"):
            lines[-1] += " · retained"
        return lines

    def _aws_ec2_vpc(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        subnets = self.parts(logical_id, "AWS::EC2::Subnet")
        kinds = Counter(
            next((t["Value"] for t in s["Properties"].get("Tags", []) if t["Key"] == "aws-cdk:subnet-type"), "other")
            for s in subnets
        )
        zones = {json.dumps(s["Properties"].get("AvailabilityZone"), sort_keys=True) for s in subnets}
        lines = [f"VPC · {len(zones)} AZs · " + ", ".join(f"{n} {k.lower()}" for k, n in sorted(kinds.items()))]
        nats = len(self.parts(logical_id, "AWS::EC2::NatGateway"))
        lines.append(f"{nats} NAT gateway{'s' if nats != 1 else ''}")
        endpoints: dict[str, list[str]] = {}
        for endpoint in self.parts(logical_id, "AWS::EC2::VPCEndpoint"):
            service = _text(endpoint["Properties"].get("ServiceName")).rsplit(".", 1)[-1] or "?"
            endpoints.setdefault(endpoint["Properties"].get("VpcEndpointType", "Interface").lower(), []).append(service)
        for kind_name, services in sorted(endpoints.items()):
            lines.append(f"{kind_name} endpoints: {_some(sorted(services))}")
        if self.parts(logical_id, "AWS::EC2::FlowLog"):
            lines.append("flow logs")
        return lines

    def _aws_batch_computeenvironment(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        compute = props.get("ComputeResources", {})
        kind = compute.get("Type", props.get("Type", "?"))
        lines = [f"compute environment · {kind}"]
        size = f"{compute.get('MinvCpus', 0)}-{compute.get('MaxvCpus', '?')} vCPUs"
        types = [str(t) for t in compute.get("InstanceTypes", [])]
        lines.append(f"{_some(types)} · {size}" if types else size)
        if "AllocationStrategy" in compute:
            lines.append(str(compute["AllocationStrategy"]))
        images = [c.get("ImageType") for c in compute.get("Ec2Configuration", []) if c.get("ImageType")]
        if images:
            lines.append(", ".join(images))
        extras = []
        if "PlacementGroup" in compute:
            extras.append("cluster placement group")
        for template in self.parts(logical_id, "AWS::EC2::LaunchTemplate"):
            interfaces = template["Properties"].get("LaunchTemplateData", {}).get("NetworkInterfaces", [])
            if any(i.get("InterfaceType") == "efa" for i in interfaces):
                extras.append("EFA launch template")
        if extras:
            lines.append(", ".join(extras))
        return lines

    def _aws_batch_jobqueue(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        lines = [f"job queue · priority {props.get('Priority', '?')}"]
        limits = sorted({a.get("MaxTimeSeconds", 0) for a in props.get("JobStateTimeLimitActions", [])})
        if limits:
            lines.append("cancels stuck RUNNABLE jobs after " + " / ".join(_duration(s) for s in limits))
        return lines

    def _aws_batch_schedulingpolicy(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        shares = props.get("FairsharePolicy", {}).get("ShareDistribution", [])
        return [f"fair-share policy · {len(shares)} share(s)"]

    def _aws_batch_jobdefinition(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        platform = "Fargate" if "FARGATE" in props.get("PlatformCapabilities", []) else "EC2"
        if props.get("Type") == "multinode":
            nodes = props.get("NodeProperties", {})
            ranges = nodes.get("NodeRangeProperties", [])
            container = ranges[0].get("Container", {}) if ranges else {}
            lines = [f"multi-node job definition · {nodes.get('NumNodes', '?')} nodes"]
            instance = container.get("InstanceType")
            lines += [f"per node: {x}" for x in _requirements(container)] + ([instance] if instance else [])
            if any(d.get("HostPath", "").startswith("/dev/infiniband") for d in _devices(container)):
                lines.append("EFA device")
        elif "EcsProperties" in props:
            containers = props["EcsProperties"].get("TaskProperties", [{}])[0].get("Containers", [])
            names = [str(c.get("Name")) for c in containers]
            lines = [f"multi-container job definition · {platform}", f"containers: {_some(names)}"]
            lines += [f"{c.get('Name')}: {x}" for c in containers for x in _requirements(c)]
            if any("FirelensConfiguration" in c for c in containers):
                lines.append("FireLens log router")
            container = next((c for c in containers if c.get("Essential", True)), containers[0] if containers else {})
        else:
            container = props.get("ContainerProperties", {})
            lines = [f"job definition · {platform}", *_requirements(container)]
        retry = props.get("RetryStrategy", {}).get("Attempts")
        timeout = props.get("Timeout", {}).get("AttemptDurationSeconds")
        settings = [f"{retry} attempts" if retry else "", f"timeout {_duration(timeout)}" if timeout else ""]
        if any(settings):
            lines.append(" · ".join(s for s in settings if s))
        lines.append(_image(container))
        return lines

    def _aws_stepfunctions_statemachine(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        definition = _text(props.get("DefinitionString"))
        jobs = definition.count(":states:::batch:submitJob.sync")
        lines = ["Step Functions state machine", f"{jobs} x batch:submitJob.sync" if jobs else "no Batch state"]
        options = []
        if props.get("LoggingConfiguration", {}).get("Level"):
            options.append(f"logs {props['LoggingConfiguration']['Level']}")
        if props.get("TracingConfiguration", {}).get("Enabled"):
            options.append("X-Ray")
        if options:
            lines.append(" · ".join(options))
        return lines

    def _aws_events_rule(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        if "ScheduleExpression" in props:
            return ["EventBridge schedule", str(props["ScheduleExpression"])]
        pattern = props.get("EventPattern", {})
        lines = ["EventBridge rule", _pattern_summary(pattern)]
        detail = pattern.get("detail", {})
        objects = detail.get("object") if isinstance(detail, dict) else None
        keys = objects.get("key") if isinstance(objects, dict) else None
        if isinstance(keys, list):
            lines.append("keys " + _some([_key_filter(k) for k in keys], 3))
        return lines

    def _aws_scheduler_schedule(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        return ["EventBridge Scheduler", str(props.get("ScheduleExpression", ""))]

    def _aws_lambda_function(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        return [f"Lambda function · {props.get('Runtime', 'container image')}"]

    def _aws_s3_bucket(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        algorithms = {r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
        options = ["SSE-KMS" if "aws:kms" in algorithms else "SSE-S3"]
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            options.append("versioned")
        if props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            options.append("events to EventBridge")
        return ["S3 bucket", " · ".join(options)]

    def _aws_dynamodb_table(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        options = [str(props.get("BillingMode", "PROVISIONED")).replace("_", " ").lower()]
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            options.append("PITR")
        return ["DynamoDB table", " · ".join(options)]

    def _aws_sns_topic(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        subscriptions = self.parts(logical_id, "AWS::SNS::Subscription")
        extra = f" · {len(subscriptions)} subscription(s)" if subscriptions else ""
        return ["SNS topic", ("SSE-KMS" if "KmsMasterKeyId" in props else "unencrypted") + extra]

    def _aws_sqs_queue(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        encryption = "SSE-KMS" if "KmsMasterKeyId" in props else "SSE-SQS"
        days = props.get("MessageRetentionPeriod")
        return ["SQS queue", encryption + (f" · keeps {_duration(days)}" if isinstance(days, int) else "")]

    def _aws_cloudwatch_alarm(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        names = (
            [str(props["MetricName"])]
            if "MetricName" in props
            else sorted(
                {
                    str(m["MetricStat"]["Metric"]["MetricName"])
                    for m in props.get("Metrics", [])
                    if isinstance(m.get("MetricStat"), dict)
                }
            )
        )
        operator = _OPERATORS.get(str(props.get("ComparisonOperator")), "?")
        return ["CloudWatch alarm", f"{_some(names, 2)} {operator} {props.get('Threshold', '?')}"]

    def _aws_cloudwatch_dashboard(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        return ["CloudWatch dashboard"]


_OPERATORS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _devices(container: dict[str, Any]) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = container.get("LinuxParameters", {}).get("Devices", [])
    return devices


def _pattern_summary(pattern: dict[str, Any]) -> str:
    """``Batch Job State Change FAILED``: the detail types an event pattern matches, and the statuses if any."""
    text = _some([str(d) for d in pattern.get("detail-type", [])], 2) or "events"
    detail = pattern.get("detail", {})
    statuses = detail.get("status") if isinstance(detail, dict) else None
    if isinstance(statuses, list):
        text += " " + ", ".join(str(s) for s in statuses)
    return text


def _key_filter(matcher: Any) -> str:
    if isinstance(matcher, dict) and matcher:
        ((kind, value),) = list(matcher.items())[:1]
        if kind == "wildcard":
            return str(value)
        return f"{value}*" if kind == "prefix" else f"*{value}" if kind == "suffix" else f"{kind} {value}"
    return str(matcher)


def _edge_label(source: dict[str, Any], target_type: str, where: tuple[str | int, ...]) -> str:
    """What a direct reference means, from the referencing resource, the referenced type and where it sits."""
    kind = source["Type"]
    if kind == "AWS::Batch::JobQueue" and where[:1] == ("ComputeEnvironmentOrder",) and len(where) > 1:
        order = source["Properties"]["ComputeEnvironmentOrder"][where[1]].get("Order")
        return f"order {order}"
    if "DeadLetterConfig" in where or "RedrivePolicy" in where:
        return "undelivered"
    if where[:1] == ("EventPattern",):
        return _pattern_summary(source.get("Properties", {}).get("EventPattern", {}))
    if kind == "AWS::S3::Bucket" and where[:1] == ("LoggingConfiguration",):
        return "access logs"
    if kind == "AWS::CloudWatch::Alarm":
        return "notifies" if where[0] in ("AlarmActions", "OKActions", "InsufficientDataActions") else "watches"
    if kind == "AWS::CloudWatch::Dashboard":
        return "graphs"
    by_target = {
        "AWS::Batch::JobQueue": "submits to",
        "AWS::Batch::JobDefinition": "runs",
        "AWS::StepFunctions::StateMachine": "starts",
        "AWS::Lambda::Function": "invokes",
        "AWS::SNS::Topic": "publishes",
        "AWS::Batch::SchedulingPolicy": "fair share",
    }
    if kind in ("AWS::Events::Rule", "AWS::StepFunctions::StateMachine", "AWS::Lambda::Function"):
        return by_target.get(target_type, "")
    if kind == "AWS::Batch::JobQueue":
        return by_target.get(target_type, "")
    return ""


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else [str(a) for a in actions]


def _owner(path: str, drawn: dict[str, tuple[str, str]]) -> str | None:
    """The drawn resource a folded one belongs to: the longest shared construct path; on a tie the construct's main
    resource, then the first type of :data:`DRAWN`; None when still ambiguous or nothing is shared (stack-wide)."""
    parts = path.split("/")
    ranks = list(DRAWN)
    best: list[tuple[int, bool, int, str]] = []
    for logical_id, (drawn_path, drawn_type) in drawn.items():
        other = drawn_path.split("/")
        common = 0
        for a, b in zip(parts, other, strict=False):
            if a != b:
                break
            common += 1
        if common:
            best.append((common, common == len(other), -ranks.index(drawn_type), logical_id))
    if not best:
        return None
    top = max(best)
    rivals = [b for b in best if b[:3] == top[:3]]
    return top[3] if len(rivals) == 1 else None


def _drawn_path(path: str) -> str:
    """``Platform/ImportJob`` for ``Platform/ImportJob/Resource/Resource`` (the L1 under the L2 under the construct)."""
    while path.endswith("/Resource"):
        path = path.removesuffix("/Resource")
    return path


def _node_id(stack: str, path: str) -> str:
    return re.sub(r"\W+", "_", f"{stack}__{path}").strip("_")


def _providers(resources: dict[str, Any]) -> set[str]:
    """Lambda functions that only serve custom resources (e.g. the VPC's default-security-group cleanup)."""
    found: set[str] = set()
    for resource in resources.values():
        if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource":
            token = resource.get("Properties", {}).get("ServiceToken")
            found.update(target for target, _ in _walk_refs(token))
    return found


def architecture(module: str, stacks: Sequence[StackTemplate]) -> Architecture:
    """The boxes and arrows of one app: drawn resources, folded parts, and the references between them."""
    exports: dict[str, CfnRef] = {}
    for stack in stacks:
        for output in stack.template.get("Outputs", {}).values():
            name = output.get("Export", {}).get("Name")
            targets = [t for t, _ in _walk_refs(output.get("Value"))]
            if isinstance(name, str) and len(targets) == 1:
                exports[name] = (stack.name, targets[0])

    # 1. Which resources are boxes, and which box each other resource is folded into.
    drawn: dict[CfnRef, tuple[str, str]] = {}  # -> (construct path, type)
    owner: dict[CfnRef, CfnRef] = {}
    types: dict[CfnRef, str] = {}
    resources_of: dict[str, dict[str, Any]] = {}
    for stack in stacks:
        resources: dict[str, Any] = stack.template.get("Resources", {})
        resources_of[stack.name] = resources
        providers = _providers(resources)
        local = {
            lid: (_drawn_path(stack.paths.get(lid, lid)), res["Type"])
            for lid, res in sorted(resources.items())
            if res["Type"] in DRAWN and lid not in providers
        }
        for lid, res in sorted(resources.items()):
            types[(stack.name, lid)] = res["Type"]
            if lid in local:
                drawn[(stack.name, lid)] = local[lid]
                continue
            home = _owner(stack.paths.get(lid, lid), local)
            if home is not None:
                owner[(stack.name, lid)] = (stack.name, home)

    def box(stack: str, target: str) -> CfnRef | None:
        ref = exports.get(target.removeprefix("import:")) if target.startswith("import:") else (stack, target)
        if ref is None:
            return None
        return ref if ref in drawn else owner.get(ref)

    # 2. The references between boxes: direct ones (solid), and identity-policy statements (dotted, with actions).
    edges: dict[tuple[CfnRef, CfnRef], tuple[set[str], set[str]]] = {}

    def add(source: CfnRef, target: CfnRef, label: str | None, actions: Sequence[str] = ()) -> None:
        direct, iam = edges.setdefault((source, target), (set(), set()))
        if label is not None:
            direct.add(label)
        iam.update(actions)

    for stack in stacks:
        for lid, res in sorted(resources_of[stack.name].items()):
            kind = res["Type"]
            props: dict[str, Any] = res.get("Properties", {})
            if kind in RESOURCE_POLICIES:
                continue
            if kind in IDENTITY_POLICIES:
                principals = [r for r, _ in _walk_refs(props.get("Roles", []))] or [lid]
                source = box(stack.name, principals[0])
                documents = [props.get("PolicyDocument", {})] + [
                    p.get("PolicyDocument", {}) for p in props.get("Policies", [])
                ]
                for document in documents:
                    statements = document.get("Statement", [])
                    for statement in statements if isinstance(statements, list) else []:
                        for target, _ in _walk_refs(statement.get("Resource")):
                            dest = box(stack.name, target)
                            if source is not None and dest is not None and dest != source:
                                add(source, dest, None, _actions(statement))
                continue
            source = box(stack.name, lid)
            if source is None:
                continue
            for target, where in _walk_refs(props):
                dest = box(stack.name, target)
                if dest is None or dest == source:
                    continue
                label = _edge_label(res, types.get(dest, ""), where)
                if where[:1] == ("EventPattern",):
                    add(dest, source, label)  # what the rule watches -> the rule
                else:
                    add(source, dest, label)

    # 3. Boxes: text, group (SQS queues join the group of what sends to them), shape.
    nodes: dict[CfnRef, Node] = {}
    for (stack_name, lid), (path, kind) in sorted(drawn.items(), key=lambda item: item[1][1] == "AWS::SQS::Queue"):
        res = resources_of[stack_name][lid]
        folded_here = [k[1] for k, home in owner.items() if home == (stack_name, lid)]
        lines = [path, *_Describer(resources_of[stack_name], {lid: sorted(folded_here)}).describe(lid)]
        group, shape = DRAWN[kind]
        if kind == "AWS::Events::Rule":
            sources = res.get("Properties", {}).get("EventPattern", {}).get("source", [])
            group = "monitoring" if "aws.batch" in sources else "triggers"
        elif kind == "AWS::SQS::Queue":
            senders = sorted(s for (s, t) in edges if t == (stack_name, lid) and s in nodes)
            group = nodes[senders[0]].group if senders else "data"
            if any("undelivered" in edges[(s, (stack_name, lid))][0] for s in senders):
                lines[1] = "SQS dead-letter queue"
        assert group is not None
        nodes[(stack_name, lid)] = Node(group, path, stack_name, _node_id(stack_name, path), shape, tuple(lines))

    rendered: set[Edge] = set()
    for (from_ref, to_ref), (direct, iam) in edges.items():
        if not direct and edges.get((to_ref, from_ref), (set(), set()))[0]:
            continue  # a permission that only mirrors a drawn reference the other way
        labels = sorted(x for x in direct if x) or ([_some(sorted(iam), 3)] if iam else [])
        rendered.add(Edge(nodes[from_ref].node_id, nodes[to_ref].node_id, not direct, ", ".join(labels)))

    folded: Counter[tuple[str, str]] = Counter()
    for ref, kind in types.items():
        if ref in drawn:
            continue
        home_ref = owner.get(ref)
        folded[(kind, GROUPS[nodes[home_ref].group] if home_ref is not None else "stack-wide, not drawn")] += 1
    return Architecture(
        module=module,
        stacks=tuple(s.name for s in stacks),
        nodes=tuple(sorted(nodes.values(), key=lambda n: (list(GROUPS).index(n.group), n.stack, n.path))),
        edges=tuple(sorted(rendered)),
        folded=tuple(sorted((kind, where, count) for (kind, where), count in folded.items())),
    )


def _mermaid_text(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_mermaid(arch: Architecture) -> str:
    """The flowchart: one subgraph per stack, one per group inside it, then the edges."""
    lines = ["flowchart LR"]
    for stack in arch.stacks:
        stack_nodes = [n for n in arch.nodes if n.stack == stack]
        lines.append(f'  subgraph {_node_id("stack", stack)}["stack {_mermaid_text(stack)}"]')
        lines.append("    direction LR")
        for group, title in GROUPS.items():
            members = [n for n in stack_nodes if n.group == group]
            if not members:
                continue
            lines.append(f'    subgraph {_node_id(stack, group)}["{title}"]')
            for node in members:
                title_line, *rest = node.lines
                text = "<b>" + _mermaid_text(title_line) + "</b>" + "".join("<br/>" + _mermaid_text(x) for x in rest)
                lines.append(f"      {node.node_id}{node.shape[0]}{text}{node.shape[1]}")
            lines.append("    end")
        lines.append("  end")
    for edge in arch.edges:
        arrow = "-.->" if edge.dotted else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    return "\n".join(lines)


def render_architecture(arch: Architecture) -> str:
    """The Markdown document of one app: the diagram, how to read it, and what it leaves out."""
    readme = f"../../apps/{arch.module}/README.md"
    stacks = ", ".join(f"`{s}`" for s in arch.stacks)
    lines = [
        f"# Architecture: `apps/{arch.module}`",
        "",
        f"<!-- Generated by docs/generate.py from the synthesized template(s) of {stacks}: do not edit. -->",
        "",
        f"Stacks: {stacks}. What the app does and how to run it: [its README]({readme}).",
        "",
        "```mermaid",
        render_mermaid(arch),
        "```",
        "",
        "Each box is one CloudFormation resource, titled with its construct path. Solid arrows are references in the "
        "template (a queue's compute environments in order, a rule's or state machine's targets, events a rule "
        "matches); dotted arrows are IAM permissions, labelled with the actions. Roles, policies, log groups, "
        "subnets, routes and other parts are folded into the box of the construct they belong to:",
        "",
        "| Resource type | Folded into |",
        "|---|---|",
    ]
    places: dict[str, list[str]] = {}
    for kind, where, count in arch.folded:
        places.setdefault(kind, []).append(f"{where} ({count})")
    lines += [f"| `{kind}` | {', '.join(where)} |" for kind, where in sorted(places.items())]
    lines.append("")
    document = "\n".join(lines)
    if _ASSET_HASH.search(document) or "cdk-hnb659fds" in document:
        raise ValueError(f"the architecture document of {arch.module} would contain an asset hash or bucket")
    return document


def architecture_document(module: str, outdir: pathlib.Path, stack_names: Iterable[str] | None = None) -> str:
    """docs/architecture/<module>.md for the app whose stacks are in ``outdir`` (all of them, or those named)."""
    return render_architecture(architecture(module, load_stacks(outdir, stack_names)))


def stacks_by_module() -> dict[str, list[str]]:
    """Each example app module and the names of the stacks it adds (by building each app; nothing is synthesized)."""
    sys.path.insert(0, str(ROOT))
    import aws_cdk as cdk

    from apps import APP_MODULES, add_app

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {module: [s.stack_name for s in add_app(cdk.App(context=context), module)] for module in APP_MODULES}


def write_diagrams(outdirs: Sequence[pathlib.Path]) -> list[pathlib.Path]:
    """Regenerate docs/architecture/ from the cloud assemblies in ``outdirs`` (together holding every example stack)."""
    modules = stacks_by_module()
    ARCHITECTURE.mkdir(parents=True, exist_ok=True)
    for stale in sorted(ARCHITECTURE.glob("*.md")):
        if stale.stem not in modules:
            stale.unlink()
    written = []
    for module, names in modules.items():
        outdir = next((d for d in outdirs if all((d / f"{n}.template.json").exists() for n in names)), None)
        if outdir is None:
            raise FileNotFoundError(f"no cloud assembly in {[str(d) for d in outdirs]} holds the stacks {names}")
        target = ARCHITECTURE / f"{module}.md"
        target.write_text(architecture_document(module, outdir, names))
        written.append(target)
    return written


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--part", choices=("compliance", "diagrams"), action="append", help="default: both")
    parser.add_argument("outdirs", nargs="*", type=pathlib.Path, help="cloud assemblies (default: cdk.out)")
    args = parser.parse_args(argv)
    outdirs: list[pathlib.Path] = args.outdirs or [ROOT / "cdk.out"]
    parts = set(args.part or ("compliance", "diagrams"))
    if "compliance" in parts:
        acks = acknowledgements(outdirs)
        COMPLIANCE.write_text(replace_section(COMPLIANCE.read_text(), render(acks)))
        print(f"docs/compliance.md: {len(acks)} acknowledgements")
    if "diagrams" in parts:
        for path in write_diagrams(outdirs):
            print(f"{path.relative_to(ROOT)}: regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
