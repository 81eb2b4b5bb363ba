"""Container settings, Fargate 32 vCPU/ARM64/platform version, kept revisions and multi-container jobs.

One app (every feature) is synthesized once with the five cdk-nag packs and linted with cfn-lint, so the L1 overrides
(EcsProperties, ConsumableResourceProperties) are checked against the CloudFormation schema, not only asserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from batch_constructs import (
    BatchConfigurationError,
    BatchQueue,
    Container,
    ContainerJob,
    Ec2Environment,
    FargateEnvironment,
    FireLens,
    MultiContainerJob,
    MultiNodeJob,
)

from ..core_stacks import IMAGE, imported_vpc
from ..helpers import cfn_lint, nag_violations, new_app, synth_with_packs

NOFILE = batch.Ulimit(name=batch.UlimitName.NOFILE, soft_limit=65536, hard_limit=65536)
FLUENT_BIT = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


@dataclass
class Synth:
    template: dict[str, Any]
    stack: cdk.Stack
    parts: dict[str, Any]
    lint: list[str]
    nag: list[str]

    def props(self, name: str) -> dict[str, Any]:
        cfn = self.parts[name].job_definition.node.default_child
        props: dict[str, Any] = self.template["Resources"][self.stack.resolve(cfn.logical_id)]["Properties"]
        return props


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    # GIVEN a Fargate queue and an EC2 queue, and a job of every new kind on them
    app = new_app(outdir=str(tmp_path_factory.mktemp("settings")))
    stack = cdk.Stack(app, "Settings")
    vpc = imported_vpc(stack)
    fargate = BatchQueue(stack, "FargateQueue", environments=[FargateEnvironment(stack, "Fargate", vpc=vpc)])
    ec2_queue = BatchQueue(stack, "Ec2Queue", environments=[Ec2Environment(stack, "OnDemand", vpc=vpc)])
    licenses = batch.ConsumableResource(stack, "Licenses", total_quantity=10)
    # WHEN they are defined
    parts: dict[str, Any] = {
        "ec2": ContainerJob(
            stack,
            "Ec2Settings",
            image=IMAGE,
            queue=ec2_queue,
            ulimits=[NOFILE],
            shared_memory_size=Size.gibibytes(2),
            tmpfs=[batch.Tmpfs(container_path="/scratch", size=Size.mebibytes(512))],
            init_process=True,
            consumable_resources={licenses: 2},
        ),
        "big": ContainerJob(
            stack,
            "Big",
            image=IMAGE,
            queue=fargate,
            vcpus=32,
            memory=Size.mebibytes(249856),
            architecture=ecs.CpuArchitecture.ARM64,
            fargate_platform_version=ecs.FargatePlatformVersion.VERSION1_4,
        ),
        "exec": ContainerJob(stack, "Exec", image=IMAGE, queue=fargate, enable_execute_command=True),
        "replace": ContainerJob(stack, "Replace", image=IMAGE, queue=fargate, skip_deregister_on_update=False),
        "mnp": MultiNodeJob(
            stack,
            "Nodes",
            image=IMAGE,
            queue=ec2_queue,
            instance_type=ec2.InstanceType("m7i.4xlarge"),
            ulimits=[NOFILE],
            shared_memory_size=Size.gibibytes(8),
            init_process=True,
        ),
        "firelens": MultiContainerJob(
            stack,
            "WithRouter",
            queue=fargate,
            containers=[
                Container(
                    "main",
                    IMAGE,
                    vcpus=0.75,
                    memory=Size.mebibytes(1536),
                    command=["python", "-m", "job"],
                    depends_on={"log_router": "START"},
                ),
                Container("log_router", FLUENT_BIT, essential=False, firelens=FireLens()),
            ],
        ),
        "sidecar": MultiContainerJob(
            stack,
            "Ec2Sidecar",
            queue=ec2_queue,
            containers=[
                Container("setup", IMAGE, vcpus=1, memory=Size.gibibytes(1), essential=False, command=["init"]),
                Container(
                    "main",
                    IMAGE,
                    vcpus=2,
                    memory=Size.gibibytes(4),
                    depends_on={"setup": "SUCCESS"},
                    ulimits=[NOFILE],
                    shared_memory_size=Size.gibibytes(1),
                ),
                Container("proxy", IMAGE, vcpus=1, memory=Size.gibibytes(1), essential=False),
            ],
            consumable_resources={licenses: 1},
        ),
    }
    # THEN (below) the template says what they asked for, nag-clean and cfn-lint clean
    _, outdir = synth_with_packs(app)
    template_file = outdir / "Settings.template.json"
    import json

    tpl = json.loads(template_file.read_text())
    lint = cfn_lint(template_file)
    return Synth(tpl, stack, parts, lint, nag_violations(outdir))


def test_nag_clean_and_cfn_lint_clean(synth: Synth) -> None:
    assert synth.nag == []
    assert synth.lint == []


def test_ec2_container_settings(synth: Synth) -> None:
    container = synth.props("ec2")["ContainerProperties"]
    assert container["Ulimits"] == [{"HardLimit": 65536, "Name": "nofile", "SoftLimit": 65536}]
    assert container["LinuxParameters"] == {
        "InitProcessEnabled": True,
        "SharedMemorySize": 2048,
        "Tmpfs": [{"ContainerPath": "/scratch", "Size": 512}],
    }
    assert synth.props("ec2")["ConsumableResourceProperties"] == {
        "ConsumableResourceList": [
            {
                "ConsumableResource": {
                    "Ref": synth.stack.resolve(synth.stack.node.find_child("Licenses").node.default_child.logical_id)
                },
                "Quantity": 2,
            }
        ]
    }


def test_fargate_32_vcpus_arm64_platform_version(synth: Synth) -> None:
    container = synth.props("big")["ContainerProperties"]
    assert sorted(container["ResourceRequirements"], key=lambda r: r["Type"]) == [
        {"Type": "MEMORY", "Value": "249856"},
        {"Type": "VCPU", "Value": "32"},
    ]
    assert container["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert container["FargatePlatformConfiguration"] == {"PlatformVersion": "1.4.0"}


def test_execute_command_and_its_grants(synth: Synth) -> None:
    assert synth.props("exec")["ContainerProperties"]["EnableExecuteCommand"] is True
    policy = synth.parts["exec"].job_role.managed_policy
    statements = synth.template["Resources"][synth.stack.resolve(policy.node.default_child.logical_id)]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"} <= actions
    assert "EnableExecuteCommand" not in synth.props("big")["ContainerProperties"]


def test_revisions_kept_on_update_by_default(synth: Synth) -> None:
    for name in ("ec2", "big", "mnp", "firelens", "sidecar"):
        assert synth.props(name)["ResourceRetentionPolicy"] == {"SkipDeregisterOnUpdate": True}, name
    assert synth.props("replace").get("ResourceRetentionPolicy", {}).get("SkipDeregisterOnUpdate") is not True


def test_multinode_container_settings(synth: Synth) -> None:
    container = synth.props("mnp")["NodeProperties"]["NodeRangeProperties"][0]["Container"]
    assert container["Ulimits"] == [{"HardLimit": 65536, "Name": "nofile", "SoftLimit": 65536}]
    assert container["LinuxParameters"] == {"InitProcessEnabled": True, "SharedMemorySize": 8192}


def test_firelens_router_and_dependencies(synth: Synth) -> None:
    props = synth.props("firelens")
    assert "ContainerProperties" not in props
    assert props["PlatformCapabilities"] == ["FARGATE"]
    task = props["EcsProperties"]["TaskProperties"][0]
    main, router = task["Containers"]
    assert main["Name"] == "main" and main["Essential"] is True
    assert main["DependsOn"] == [{"Condition": "START", "ContainerName": "log_router"}]
    assert main["LogConfiguration"]["LogDriver"] == "awsfirelens"
    assert main["LogConfiguration"]["Options"]["Name"] == "cloudwatch_logs"
    assert router["FirelensConfiguration"] == {"Type": "fluentbit"}
    assert router["Essential"] is False
    assert router["LogConfiguration"]["LogDriver"] == "awslogs"
    assert task["NetworkConfiguration"] == {"AssignPublicIp": "DISABLED"}
    assert "TaskRoleArn" in task and "ExecutionRoleArn" in task
    # one job definition per MultiContainerJob: the helper renderings leave nothing behind
    job_definitions = [r for r in synth.template["Resources"].values() if r["Type"] == "AWS::Batch::JobDefinition"]
    assert len(job_definitions) == 7


def test_sum_of_containers_is_the_job_size(synth: Synth) -> None:
    assert [(r.vcpus, r.memory_mib) for r in synth.parts["firelens"].requirements] == [(1.0, 2048)]
    assert [(r.vcpus, r.memory_mib) for r in synth.parts["sidecar"].requirements] == [(4, 6144)]
    containers = synth.props("sidecar")["EcsProperties"]["TaskProperties"][0]["Containers"]
    assert [c["Name"] for c in containers] == ["setup", "main", "proxy"]
    assert containers[1]["Ulimits"] == [{"HardLimit": 65536, "Name": "nofile", "SoftLimit": 65536}]
    assert containers[1]["LinuxParameters"] == {"SharedMemorySize": 1024}
    assert synth.props("sidecar")["PlatformCapabilities"] == ["EC2"]


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def queues() -> tuple[cdk.Stack, BatchQueue, BatchQueue]:
    stack = cdk.Stack(new_app(), "Errors")
    vpc = imported_vpc(stack)
    fargate = BatchQueue(stack, "Small", environments=[FargateEnvironment(stack, "Fargate", vpc=vpc, max_vcpus=4)])
    ec2_queue = BatchQueue(stack, "Ec2", environments=[Ec2Environment(stack, "OnDemand", vpc=vpc)])
    return stack, fargate, ec2_queue


_COUNTER = iter(range(10_000))


def _raises(match: str, build: Any) -> None:
    with pytest.raises(BatchConfigurationError, match=match):
        build(f"Bad{next(_COUNTER)}")


def test_ec2_only_settings_on_fargate(queues: Any) -> None:
    stack, fargate, _ = queues
    _raises(
        r"\[platform-props\] ulimits, shared_memory_size, tmpfs on a Fargate job",
        lambda i: ContainerJob(
            stack,
            i,
            image=IMAGE,
            queue=fargate,
            ulimits=[NOFILE],
            shared_memory_size=Size.gibibytes(1),
            tmpfs=[batch.Tmpfs(container_path="/t", size=Size.mebibytes(1))],
        ),
    )


def test_platform_version_on_ec2(queues: Any) -> None:
    stack, _, ec2_queue = queues
    _raises(
        r"\[platform-props\] fargate_platform_version on an EC2 job",
        lambda i: ContainerJob(
            stack, i, image=IMAGE, queue=ec2_queue, fargate_platform_version=ecs.FargatePlatformVersion.LATEST
        ),
    )


def test_fargate_32_vcpus_needs_its_memory(queues: Any) -> None:
    stack, _, _ = queues
    _raises(
        r"\[fargate-resources\] memory=65536 MiB with vcpus=32 is not a Fargate combination \(allowed with 32 vCPU: "
        r"61440, 122880, 249856",
        lambda i: ContainerJob(stack, i, image=IMAGE, vcpus=32, memory=Size.mebibytes(65536)),
    )


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"ulimits": [NOFILE, NOFILE]}, r"ulimit nofile is set twice"),
        (
            {"ulimits": [batch.Ulimit(name=batch.UlimitName.NOFILE, soft_limit=10, hard_limit=5)]},
            r"soft_limit=10 is above hard_limit=5",
        ),
        ({"consumable_resources": {"arn:aws:batch:us-east-1:123456789012:consumable-resource/x": 0}}, r"quantity 0"),
        ({"shared_memory_size": Size.mebibytes(0)}, r"shared_memory_size=0 MiB"),
    ],
)
def test_container_settings_rule(queues: Any, settings: dict[str, Any], match: str) -> None:
    stack, _, ec2_queue = queues
    _raises(
        r"\[container-settings\] .*" + match, lambda i: ContainerJob(stack, i, image=IMAGE, queue=ec2_queue, **settings)
    )


def test_linux_parameters_and_settings_do_not_mix(queues: Any) -> None:
    stack, _, ec2_queue = queues
    _raises(
        r"\[container-settings\] linux_parameters together with",
        lambda i: ContainerJob(
            stack,
            i,
            image=IMAGE,
            queue=ec2_queue,
            init_process=True,
            linux_parameters=batch.LinuxParameters(stack, f"{i}Linux"),
        ),
    )


@pytest.mark.parametrize(
    ("containers", "match"),
    [
        ([Container("a", IMAGE, essential=False)], r"no container is essential"),
        ([Container("a", IMAGE), Container("a", IMAGE)], r"two containers are named 'a'"),
        ([Container("a", IMAGE, depends_on={"b": "START"})], r"a depends on 'b', which is not a container of the job"),
        (
            [Container("a", IMAGE, depends_on={"b": "COMPLETE"}), Container("b", IMAGE)],
            r"a waits for b to COMPLETE, but b is essential",
        ),
        (
            [
                Container("a", IMAGE, depends_on={"b": "START"}, vcpus=0.5),
                Container("b", IMAGE, depends_on={"a": "START"}, vcpus=0.5, memory=Size.mebibytes(1536)),
            ],
            r"depends_on form a cycle",
        ),
        (
            [
                Container("a", IMAGE, firelens=FireLens(), vcpus=0.5),
                Container("b", IMAGE, firelens=FireLens(), vcpus=0.5, memory=Size.mebibytes(1536)),
            ],
            r"several FireLens routers",
        ),
        ([Container("a b", IMAGE)], r"\[name\] container name"),
    ],
)
def test_multi_container_rule(queues: Any, containers: list[Container], match: str) -> None:
    stack, _, _ = queues
    _raises(match, lambda i: MultiContainerJob(stack, i, containers=containers))


def test_the_sum_must_be_a_fargate_size_and_fit_the_queue(queues: Any) -> None:
    stack, fargate, _ = queues
    _raises(
        r"\[fargate-resources\] the containers' total vcpus=0\.75 is not a Fargate size",
        lambda i: MultiContainerJob(
            stack, i, queue=fargate, containers=[Container("a", IMAGE, vcpus=0.5), Container("b", IMAGE)]
        ),
    )
    _raises(
        r"\[job-fits-queue\].*max_vcpus=4 is less than the job's 8 vCPUs",
        lambda i: MultiContainerJob(
            stack,
            i,
            queue=fargate,
            containers=[
                Container("a", IMAGE, vcpus=4, memory=Size.gibibytes(8)),
                Container("b", IMAGE, vcpus=4, memory=Size.gibibytes(8)),
            ],
        ),
    )


def test_ec2_only_settings_on_a_fargate_container(queues: Any) -> None:
    stack, fargate, _ = queues
    _raises(
        r"\[platform-props\] ulimits on container a of a Fargate job",
        lambda i: MultiContainerJob(
            stack,
            i,
            queue=fargate,
            containers=[Container("a", IMAGE, vcpus=1, memory=Size.gibibytes(2), ulimits=[NOFILE])],
        ),
    )
