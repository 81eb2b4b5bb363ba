"""The deploy contract: AWS rules a synthesized template must keep that neither cfn-lint nor cdk-nag checks.

Pure (no CDK): each rule reads a template as a dict (``cdk.out/<Stack>.template.json``) and returns the violations it
finds, one string each (``ContractRule.run`` and :func:`check_template` prefix them ``[rule-id]``). The library's
constructs keep these rules by construction; the checks are for templates in general (yours, or ones edited with
escape hatches), and the project's tests run them over every example app and a fixture stack per construct.
``docs/deploy-contract.md`` documents each rule and its source.

Values CloudFormation only knows at deploy time (``Ref``, ``Fn::GetAtt``...) are skipped, never reported.

Usage::

    import json
    from batch_constructs.model.deploy_contract import check_template
    problems = check_template(json.load(open("cdk.out/MyStack.template.json")))
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import rules as _rules

__all__ = ["CONTRACT_RULES", "ContractRule", "check_template"]

Template = Mapping[str, Any]

#: The device an EFA job maps (AWS Batch User Guide, "Run an MNP job with EFA").
EFA_DEVICE_PREFIX: Final = "/dev/infiniband/uverbs"
#: The EFA interface types of a launch template's network interfaces (EC2 API, LaunchTemplate InterfaceType).
EFA_INTERFACE_TYPES: Final = frozenset({"efa", "efa-only"})
#: What shows that user data installs the EFA software (the installer script of aws-efa-installer).
EFA_INSTALLER_MARKER: Final = "efa_installer.sh"


@dataclass(frozen=True)
class ContractRule:
    """One deploy-contract rule: its id, what it requires, where AWS says so, and its check."""

    id: str
    summary: str
    source: str
    check: Callable[[Template], list[str]]

    def run(self, template: Template) -> list[str]:
        """The rule's violations in ``template``, each as ``[id] Resource: problem``."""
        return [f"[{self.id}] {problem}" for problem in self.check(template)]


def _resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") in types:
            yield logical_id, resource.get("Properties") or {}


def _ref_id(value: object) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at, or None."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".", maxsplit=1)[0]
    return None


def _launch_template_of(template: Template, environment: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(logical id, LaunchTemplateData) of the environment's launch template, when it is in the same template."""
    spec = (environment.get("ComputeResources") or {}).get("LaunchTemplate") or {}
    target = _ref_id(spec.get("LaunchTemplateId"))
    resource = (template.get("Resources") or {}).get(target or "", {})
    if resource.get("Type") != "AWS::EC2::LaunchTemplate":
        return None
    return str(target), (resource.get("Properties") or {}).get("LaunchTemplateData") or {}


def _is_ec2(environment: Mapping[str, Any]) -> bool:
    kind = str((environment.get("ComputeResources") or {}).get("Type", "")).upper()
    return str(environment.get("Type", "")).upper() == "MANAGED" and kind in ("EC2", "SPOT")


def _efa_interfaces(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        i
        for i in data.get("NetworkInterfaces") or []
        if isinstance(i, dict) and i.get("InterfaceType") in EFA_INTERFACE_TYPES
    ]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _containers(properties: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, container properties) of a job definition: single-node and every node range."""
    if isinstance(properties.get("ContainerProperties"), dict):
        yield "ContainerProperties", properties["ContainerProperties"]
    for index, node_range in enumerate((properties.get("NodeProperties") or {}).get("NodeRangeProperties") or []):
        if isinstance(node_range, dict) and isinstance(node_range.get("Container"), dict):
            yield f"NodeRangeProperties[{index}]", node_range["Container"]


# --------------------------------------------------------------------------------------------------------- the rules


def security_groups_or_interfaces(template: Template) -> list[str]:
    found = []
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        lt = _launch_template_of(template, env)
        groups = (env.get("ComputeResources") or {}).get("SecurityGroupIds")
        if lt and groups and lt[1].get("NetworkInterfaces"):
            found.append(
                f"{logical_id}: SecurityGroupIds and launch template {lt[0]} with "
                "NetworkInterfaces; AWS Batch accepts only one of them (put the groups on each interface)"
            )
    return found


def _self_rules(template: Template, group_id: str) -> tuple[bool, bool]:
    """(all traffic in from itself, all traffic out to itself) for a security group of the template."""
    props = ((template.get("Resources") or {}).get(group_id) or {}).get("Properties") or {}
    inbound = any(
        _ref_id(r.get("SourceSecurityGroupId")) == group_id and str(r.get("IpProtocol")) == "-1"
        for r in props.get("SecurityGroupIngress") or []
        if isinstance(r, dict)
    )
    outbound = any(
        _ref_id(r.get("DestinationSecurityGroupId")) == group_id and str(r.get("IpProtocol")) == "-1"
        for r in props.get("SecurityGroupEgress") or []
        if isinstance(r, dict)
    )
    for _, rule in _resources(template, "AWS::EC2::SecurityGroupIngress"):
        if _ref_id(rule.get("GroupId")) == group_id and _ref_id(rule.get("SourceSecurityGroupId")) == group_id:
            inbound = inbound or str(rule.get("IpProtocol")) == "-1"
    for _, rule in _resources(template, "AWS::EC2::SecurityGroupEgress"):
        if _ref_id(rule.get("GroupId")) == group_id and _ref_id(rule.get("DestinationSecurityGroupId")) == group_id:
            outbound = outbound or str(rule.get("IpProtocol")) == "-1"
    return inbound, outbound


def efa_security_group(template: Template) -> list[str]:
    found = []
    for lt_id, lt in _resources(template, "AWS::EC2::LaunchTemplate"):
        for interface in _efa_interfaces(lt.get("LaunchTemplateData") or {}):
            for group in interface.get("Groups") or []:
                group_id = _ref_id(group)
                if group_id is None or group_id not in (template.get("Resources") or {}):
                    continue  # an imported group: not visible here
                inbound, outbound = _self_rules(template, group_id)
                missing = [d for d, ok in (("inbound from", inbound), ("outbound to", outbound)) if not ok]
                if missing:
                    found.append(
                        f"{group_id} (EFA interface of {lt_id}): no all-traffic rule "
                        f"{' or '.join(missing)} itself; EFA needs both"
                    )
    return sorted(set(found))


def efa_driver(template: Template) -> list[str]:
    found = []
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        lt = _launch_template_of(template, env)
        if not lt or not _efa_interfaces(lt[1]):
            continue
        resources = env.get("ComputeResources") or {}
        custom_ami = bool(lt[1].get("ImageId") or resources.get("ImageId")) or any(
            isinstance(c, dict) and c.get("ImageIdOverride") for c in resources.get("Ec2Configuration") or []
        )
        installs = any(EFA_INSTALLER_MARKER in s for s in _strings(lt[1].get("UserData")))
        if not custom_ami and not installs:
            found.append(
                f"{logical_id}: EFA interfaces on the stock ECS image, which has no EFA driver, and no "
                f"user data running {EFA_INSTALLER_MARKER} in launch template {lt[0]}"
            )
    return found


def efa_memlock(template: Template) -> list[str]:
    found = []
    for logical_id, props in _resources(template, "AWS::Batch::JobDefinition"):
        for where, container in _containers(props):
            devices = (container.get("LinuxParameters") or {}).get("Devices") or []
            if not any(
                str(d.get("HostPath", "")).startswith(EFA_DEVICE_PREFIX) for d in devices if isinstance(d, dict)
            ):
                continue
            unlimited = any(
                isinstance(u, dict)
                and str(u.get("Name", "")).lower() == "memlock"
                and u.get("SoftLimit") == -1
                and u.get("HardLimit") == -1
                for u in container.get("Ulimits") or []
            )
            if not unlimited:
                found.append(f"{logical_id} {where}: maps the EFA device without memlock unlimited (-1/-1)")
    return found


def imds_locked(template: Template) -> list[str]:
    found = []
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        if not _is_ec2(env):
            continue
        if not (env.get("ComputeResources") or {}).get("LaunchTemplate"):
            found.append(f"{logical_id}: an EC2 environment without a launch template (IMDS unset)")
            continue
        lt = _launch_template_of(template, env)
        if lt is None:
            continue  # an imported template: not visible here
        options = lt[1].get("MetadataOptions") or {}
        if options.get("HttpTokens") != "required" or options.get("HttpPutResponseHopLimit") != 1:
            found.append(
                f"{logical_id}: launch template {lt[0]} has HttpTokens="
                f"{options.get('HttpTokens')}, HttpPutResponseHopLimit={options.get('HttpPutResponseHopLimit')}; "
                "required and 1 keep job containers away from the instance role's credentials"
            )
    return found


def launch_template_version(template: Template) -> list[str]:
    found = []
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        spec = (env.get("ComputeResources") or {}).get("LaunchTemplate")
        if not spec:
            continue
        version = spec.get("Version")
        if version is None or version in ("$Latest", "$Default"):
            found.append(
                f"{logical_id}: launch template version {version or 'unset'}; a template "
                "change then never reaches the environment (pin the version number)"
            )
    return found


def fargate_no_update(template: Template) -> list[str]:
    found = []
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        kind = str((env.get("ComputeResources") or {}).get("Type", "")).upper()
        if kind not in ("FARGATE", "FARGATE_SPOT"):
            continue
        present: list[str] = [p for p in ("UpdatePolicy", "ReplaceComputeEnvironment") if p in env]
        if "UpdateToLatestImageVersion" in (env.get("ComputeResources") or {}):
            present.append("ComputeResources.UpdateToLatestImageVersion")
        if present:
            found.append(f"{logical_id}: a {kind} environment with {', '.join(present)}")
    return found


def _outside(value: object, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high


def time_limits(template: Template) -> list[str]:
    found = []
    low, high = _rules.TIME_LIMIT_SECONDS
    for logical_id, queue in _resources(template, "AWS::Batch::JobQueue"):
        for action in queue.get("JobStateTimeLimitActions") or []:
            if isinstance(action, dict) and _outside(action.get("MaxTimeSeconds"), low, high):
                found.append(
                    f"{logical_id}: JobStateTimeLimitActions MaxTimeSeconds="
                    f"{action.get('MaxTimeSeconds')}; allowed {low}-{high}"
                )
    for logical_id, job in _resources(template, "AWS::Batch::JobDefinition"):
        seconds = (job.get("Timeout") or {}).get("AttemptDurationSeconds")
        if _outside(seconds, _rules.TIMEOUT_MIN_SECONDS, float("inf")):
            found.append(
                f"{logical_id}: Timeout.AttemptDurationSeconds={seconds}; minimum {_rules.TIMEOUT_MIN_SECONDS}"
            )
    low_m, high_m = _rules.UPDATE_TIMEOUT_MINUTES
    for logical_id, env in _resources(template, "AWS::Batch::ComputeEnvironment"):
        minutes = (env.get("UpdatePolicy") or {}).get("JobExecutionTimeoutMinutes")
        if _outside(minutes, low_m, high_m):
            found.append(f"{logical_id}: UpdatePolicy.JobExecutionTimeoutMinutes={minutes}; allowed {low_m}-{high_m}")
    return found


_PATTERN_KEYS: Final = {"OnExitCode": "on_exit_code", "OnReason": "on_reason", "OnStatusReason": "on_status_reason"}


def retry_patterns(template: Template) -> list[str]:
    found = []
    for logical_id, job in _resources(template, "AWS::Batch::JobDefinition"):
        strategy = job.get("RetryStrategy") or {}
        attempts = strategy.get("Attempts")
        if _outside(attempts, *_rules.RETRY_ATTEMPTS):
            found.append(f"{logical_id}: Attempts={attempts}; allowed 1-10")
        conditions = [c for c in strategy.get("EvaluateOnExit") or [] if isinstance(c, dict)]
        if len(conditions) > _rules.RETRY_CONDITIONS_MAX:
            found.append(f"{logical_id}: {len(conditions)} EvaluateOnExit conditions; at most 5")
        for index, condition in enumerate(conditions):
            if str(condition.get("Action", "")).upper() not in ("RETRY", "EXIT"):
                found.append(f"{logical_id}: condition {index} Action={condition.get('Action')}")
            for key, name in _PATTERN_KEYS.items():
                pattern = condition.get(key)
                if isinstance(pattern, str):
                    found += [f"{logical_id}: {p}" for p in _rules.retry_pattern(index, name, pattern)]
    return found


CONTRACT_RULES: Final[tuple[ContractRule, ...]] = (
    ContractRule(
        "sg-or-interfaces",
        "an environment sets SecurityGroupIds or uses a launch template with NetworkInterfaces, never both",
        "AWS Batch CreateComputeEnvironment error 'Either compute environment Security Groups or Network Interfaces "
        "in Launch template are exclusively allowed' (aws/aws-cdk#21577); EC2 launch templates: groups go on each "
        "interface when interfaces are given",
        security_groups_or_interfaces,
    ),
    ContractRule(
        "efa-security-group",
        "every security group of an EFA interface allows all traffic inbound from and outbound to itself",
        "EC2 User Guide, 'Get started with EFA': step 'Prepare an EFA-enabled security group'; AWS Batch User Guide, "
        "'Run an MNP job with EFA'",
        efa_security_group,
    ),
    ContractRule(
        "efa-driver",
        "an environment with EFA interfaces installs the EFA software (user data) or boots a custom AMI",
        "amazon-ecs-ami build scripts (the ECS AL2023 images carry no EFA driver); EC2 User Guide, 'Install the EFA "
        "software'; aws-samples/aws-batch-efa (installer in MIME launch-template user data)",
        efa_driver,
    ),
    ContractRule(
        "efa-memlock",
        "a container that maps /dev/infiniband/uverbs* has memlock unlimited (soft and hard -1)",
        "AWS Batch User Guide, 'Run an MNP job with EFA' (devices and ulimits of the job definition)",
        efa_memlock,
    ),
    ContractRule(
        "imds-locked",
        "every EC2 environment's launch template requires IMDSv2 (HttpTokens required) with hop limit 1",
        "EC2 User Guide, 'Configure the instance metadata options' (hop limit 1 stops containers one hop away); ECS "
        "Developer Guide, 'Amazon ECS environment variables' (tasks get their own credentials)",
        imds_locked,
    ),
    ContractRule(
        "launch-template-version",
        "an environment's launch template names a version number (not unset, $Latest or $Default)",
        "AWS Batch User Guide, 'Updating compute environments' (a launch template change is an update only through "
        "its version); aws/aws-cdk#28137",
        launch_template_version,
    ),
    ContractRule(
        "fargate-no-update",
        "Fargate environments carry no UpdatePolicy, ReplaceComputeEnvironment or UpdateToLatestImageVersion",
        "botocore Batch model UpdatePolicy ('applies only to Amazon EC2 managed compute environments'); "
        "aws/aws-cdk#27054 (updates then fail)",
        fargate_no_update,
    ),
    ContractRule(
        "time-limits",
        "queue time-limit actions 600-86400 s, job timeouts >= 60 s, update execution timeout 1-7200 min",
        "API_JobStateTimeLimitAction (maxTimeSeconds), API_JobTimeout (attemptDurationSeconds), botocore Batch model "
        "JobExecutionTimeoutMinutes",
        time_limits,
    ),
    ContractRule(
        "retry-patterns",
        "retry strategies: 1-10 attempts, at most 5 conditions, RETRY/EXIT actions, glob patterns AWS accepts",
        "API_RetryStrategy, API_EvaluateOnExit (patterns: letters, digits, '.', ':', spaces, one trailing '*'; exit "
        "codes digits; at most 512 characters)",
        retry_patterns,
    ),
)


def check_template(template: Template) -> list[str]:
    """Every deploy-contract violation of one template (empty: the template keeps the contract)."""
    found: list[str] = []
    for rule in CONTRACT_RULES:
        found += rule.run(template)
    return found


if __name__ == "__main__":  # pragma: no cover - a convenience for users: python -m ... cdk.out/*.template.json
    import sys

    failed = False
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            problems = check_template(json.load(handle))
        for problem in problems:
            print(f"{path}: {problem}")
        failed = failed or bool(problems)
    raise SystemExit(1 if failed else 0)
