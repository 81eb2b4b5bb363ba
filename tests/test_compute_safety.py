"""Locked-down instance metadata, update controls, GPU images chosen for the user, EFA interfaces and EFA jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2

from batch_constructs import (
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    GpuEnvironment,
    MultiNodeJob,
    NodeGroup,
    SpotEnvironment,
)
from batch_constructs.errors import BatchConfigurationError

from .contract.fixtures import contract_stack
from .core_stacks import IMAGE
from .helpers import resources, template
from .unit_stacks import Scratch, synthesized_cases

LOCKED = {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1}


def _env_props(tpl: dict[str, Any], prefix: str) -> dict[str, Any]:
    (props,) = [
        v["Properties"]
        for k, v in resources(tpl, "AWS::Batch::ComputeEnvironment").items()
        if k.startswith(prefix) and not k.startswith(prefix + "User")
    ]
    return props


def _launch_template_data(tpl: dict[str, Any], env: dict[str, Any]) -> dict[str, Any]:
    target = env["ComputeResources"]["LaunchTemplate"]["LaunchTemplateId"]["Ref"]
    data: dict[str, Any] = tpl["Resources"][target]["Properties"]["LaunchTemplateData"]
    return data


@pytest.fixture(scope="module")
def fixture() -> tuple[dict[str, Any], dict[str, Any]]:
    return contract_stack()


class NetworkScratch(Scratch):
    """The error cases' stack, with one network they all use (never synthesized: see :class:`tests.helpers.Scratch`)."""

    def __init__(self) -> None:
        super().__init__("Test")
        self.network = BatchNetwork(self.stack, "Network")


@pytest.fixture(scope="module")
def scratch() -> NetworkScratch:
    return NetworkScratch()


GPU_CASES = [
    (["g5.xlarge"], ["ECS_AL2023_NVIDIA"]),
    (["m7i.large", "g6.xlarge"], ["ECS_AL2023", "ECS_AL2023_NVIDIA"]),
    (["m7i.large"], ["ECS_AL2023"]),
]


def _explicit_update_controls(stack: cdk.Stack) -> None:
    network = BatchNetwork(stack, "Network")
    Ec2Environment(
        stack,
        "Env",
        network=network,
        terminate_jobs_on_update=True,
        job_execution_timeout=cdk.Duration.hours(2),
        update_to_latest_image_version=False,
    )


def _six_day_job(stack: cdk.Stack) -> None:
    network = BatchNetwork(stack, "Network")
    env = Ec2Environment(stack, "Env", network=network)
    queue = BatchQueue(stack, "Queue", environments=[env])
    ContainerJob(stack, "Job", image=IMAGE, queue=queue, timeout=cdk.Duration.days(6))


def _gpu_types(instance_types: list[str]) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        network = BatchNetwork(stack, "Network")
        types = [ec2.InstanceType(t) for t in instance_types]
        Ec2Environment(stack, "Ec2", network=network, instance_types=types)
        SpotEnvironment(stack, "Spot", network=network, instance_types=types)

    return build


def _custom_ami(stack: cdk.Stack) -> None:
    network = BatchNetwork(stack, "Network")
    EfaEnvironment(
        stack,
        "Efa",
        network=network,
        images=[batch.EcsMachineImage(image=ec2.MachineImage.generic_linux({"us-east-1": "ami-0123456789abcdef0"}))],
    )


def _node_groups(stack: cdk.Stack) -> None:
    network = BatchNetwork(stack, "Network")
    env = Ec2Environment(stack, "Env", network=network, instance_classes=[ec2.InstanceClass.C7I, ec2.InstanceClass.G5])
    queue = BatchQueue(stack, "Queue", environments=[env])
    MultiNodeJob(
        stack,
        "Job",
        image=IMAGE,
        queue=queue,
        nodes=3,
        node_groups=[
            NodeGroup(0, 0, instance_type=ec2.InstanceType("c7i.xlarge"), vcpus=2),
            NodeGroup(
                1, 2, instance_type=ec2.InstanceType("g5.2xlarge"), vcpus=4, memory=cdk.Size.gibibytes(16), gpus=1
            ),
        ],
    )


def _fargate(stack: cdk.Stack) -> None:
    FargateEnvironment(stack, "Env", network=BatchNetwork(stack, "Network"))


CASES: dict[str, Callable[[cdk.Stack], None]] = {
    "UpdateControls": _explicit_update_controls,
    "SixDays": _six_day_job,
    **{f"Gpu{i}": _gpu_types(types) for i, (types, _) in enumerate(GPU_CASES)},
    "CustomAmi": _custom_ami,
    "NodeGroups": _node_groups,
    "Fargate": _fargate,
}


@pytest.fixture(scope="module")
def cases() -> dict[str, cdk.Stack]:
    """Each valid case in a stack of its own (one app, synthesized once): what each test reads is that case alone."""
    return synthesized_cases(CASES)


# --- instance metadata ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Ec2", "Spot", "Gpu", "Efa", "Ec2UserTemplate"])
def test_every_ec2_environment_locks_instance_metadata_with_a_pinned_template(
    fixture: tuple[dict[str, Any], dict[str, Any]], kind: str
) -> None:
    tpl, _ = fixture
    env = _env_props(tpl, kind)
    spec = env["ComputeResources"]["LaunchTemplate"]
    target = spec["LaunchTemplateId"]["Ref"]
    assert spec["Version"] == {"Fn::GetAtt": [target, "LatestVersionNumber"]}
    assert _launch_template_data(tpl, env)["MetadataOptions"] == LOCKED


def test_user_data_is_rendered_as_mime_multipart(fixture: tuple[dict[str, Any], dict[str, Any]]) -> None:
    tpl, _ = fixture
    user_data = _launch_template_data(tpl, _env_props(tpl, "Ec2"))["UserData"]["Fn::Base64"]
    assert user_data.startswith("Content-Type: multipart/mixed;")
    assert "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached" in user_data


def test_a_conflicting_user_launch_template_is_an_error(scratch: NetworkScratch) -> None:
    stack, network = scratch.stack, scratch.network
    lt = ec2.LaunchTemplate(stack, scratch.id("Lt"), http_tokens=ec2.LaunchTemplateHttpTokens.OPTIONAL)
    with pytest.raises(BatchConfigurationError, match=r"\[launch-template-merge\].*HttpTokens=optional"):
        Ec2Environment(stack, scratch.id("Env"), network=network, launch_template=lt)


def test_a_launch_template_with_network_interfaces_is_an_error(scratch: NetworkScratch) -> None:
    """AWS Batch refuses security groups on the environment beside network interfaces in its template (aws-cdk#21577);
    ``associate_public_ip_address`` is one way a template gets them."""
    stack, network = scratch.stack, scratch.network
    lt = ec2.LaunchTemplate(stack, scratch.id("Lt"), associate_public_ip_address=False)
    with pytest.raises(BatchConfigurationError, match=r"\[launch-template-merge\] launch_template has network interf"):
        Ec2Environment(stack, scratch.id("Env"), network=network, launch_template=lt)


def test_user_data_in_both_places_is_an_error(scratch: NetworkScratch) -> None:
    stack, network = scratch.stack, scratch.network
    lt = ec2.LaunchTemplate(stack, scratch.id("Lt"), user_data=ec2.UserData.for_linux())
    with pytest.raises(BatchConfigurationError, match=r"\[launch-template-merge\] both user_data"):
        Ec2Environment(
            stack, scratch.id("Env"), network=network, launch_template=lt, user_data=ec2.UserData.for_linux()
        )


def test_user_data_with_an_imported_template_is_an_error(scratch: NetworkScratch) -> None:
    stack, network = scratch.stack, scratch.network
    lt = ec2.LaunchTemplate.from_launch_template_attributes(
        stack, scratch.id("Lt"), launch_template_id="lt-0123456789abcdef0"
    )
    with pytest.raises(BatchConfigurationError, match=r"\[launch-template-merge\] user_data with an imported"):
        Ec2Environment(
            stack, scratch.id("Env"), network=network, launch_template=lt, user_data=ec2.UserData.for_linux()
        )


# --- update controls --------------------------------------------------------------------------------------------


def test_execution_timeout_is_derived_from_the_longest_job_on_the_queues(
    fixture: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    tpl, _ = fixture
    # Ec2Job (6 h) runs on the queue of Spot, Ec2 and Ec2UserTemplate; EfaJob (12 h) on Efa; Gpu has no job.
    for kind, minutes in (("Spot", 360), ("Ec2", 360), ("Efa", 720), ("Gpu", 30)):
        policy = _env_props(tpl, kind)["UpdatePolicy"]
        assert policy == {"JobExecutionTimeoutMinutes": minutes, "TerminateJobsOnUpdate": False}, kind
        assert _env_props(tpl, kind)["ComputeResources"]["UpdateToLatestImageVersion"] is True


def test_fargate_keeps_no_update_properties(fixture: tuple[dict[str, Any], dict[str, Any]]) -> None:
    tpl, _ = fixture
    env = _env_props(tpl, "FargateSpot")
    assert "UpdatePolicy" not in env and "ReplaceComputeEnvironment" not in env
    assert "UpdateToLatestImageVersion" not in env["ComputeResources"]


def test_explicit_update_controls_are_written(cases: dict[str, cdk.Stack]) -> None:
    (env,) = resources(cases["UpdateControls"], "AWS::Batch::ComputeEnvironment").values()
    assert env["Properties"]["UpdatePolicy"] == {"JobExecutionTimeoutMinutes": 120, "TerminateJobsOnUpdate": True}
    assert env["Properties"]["ComputeResources"]["UpdateToLatestImageVersion"] is False


def test_execution_timeout_out_of_range_is_an_error(scratch: NetworkScratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[update-timeout\].*7201"):
        SpotEnvironment(
            scratch.stack,
            scratch.id("Env"),
            network=scratch.network,
            job_execution_timeout=cdk.Duration.minutes(7201),
        )


def test_a_job_longer_than_five_days_is_capped_at_aws_maximum(cases: dict[str, cdk.Stack]) -> None:
    (props,) = resources(cases["SixDays"], "AWS::Batch::ComputeEnvironment").values()
    assert props["Properties"]["UpdatePolicy"]["JobExecutionTimeoutMinutes"] == 7200


# --- GPU images -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "expected"), [(f"Gpu{i}", expected) for i, (_, expected) in enumerate(GPU_CASES)])
def test_gpu_instance_types_get_the_nvidia_image_in_every_ec2_kind(
    cases: dict[str, cdk.Stack], case: str, expected: list[str]
) -> None:
    environments = resources(cases[case], "AWS::Batch::ComputeEnvironment").values()
    assert len(environments) == 2  # Ec2 and Spot
    for env in environments:
        assert [c["ImageType"] for c in env["Properties"]["ComputeResources"]["Ec2Configuration"]] == expected


def test_an_explicit_image_that_cannot_drive_gpus_is_still_an_error(scratch: NetworkScratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[gpu-image\]"):
        GpuEnvironment(
            scratch.stack,
            scratch.id("Gpu"),
            network=scratch.network,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2023)],
        )


# --- EFA --------------------------------------------------------------------------------------------------------


def test_p5_gets_an_efa_interface_on_each_of_its_32_network_cards(
    fixture: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    tpl, _ = fixture
    env = _env_props(tpl, "Efa")
    interfaces = _launch_template_data(tpl, env)["NetworkInterfaces"]
    assert [i["NetworkCardIndex"] for i in interfaces] == list(range(32))
    assert [i["DeviceIndex"] for i in interfaces] == [0] + [1] * 31
    assert {i["InterfaceType"] for i in interfaces} == {"efa"}
    assert len({str(i["SubnetId"]) for i in interfaces}) == 1
    assert env["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    assert "SecurityGroupIds" not in env["ComputeResources"]


def test_a_custom_ami_gets_no_efa_user_data(cases: dict[str, cdk.Stack]) -> None:
    stack = cases["CustomAmi"]
    efa = stack.node.find_child("Efa")
    assert isinstance(efa, EfaEnvironment)
    data = template(stack).to_json()["Resources"][stack.resolve(efa.launch_template.logical_id)]
    assert "UserData" not in data["Properties"]["LaunchTemplateData"]


def test_more_efa_interfaces_than_network_cards_is_an_error(scratch: NetworkScratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[efa-interfaces\].*p4d.24xlarge.*1-4"):
        EfaEnvironment(
            scratch.stack,
            scratch.id("Efa"),
            network=scratch.network,
            instance_type=ec2.InstanceType("p4d.24xlarge"),
            efa_interfaces=5,
        )


def test_efa_jobs_get_memlock_shared_memory_and_per_group_containers(
    fixture: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    tpl, _ = fixture
    (job,) = [v for k, v in resources(tpl, "AWS::Batch::JobDefinition").items() if k.startswith("EfaJob")]
    main, workers = job["Properties"]["NodeProperties"]["NodeRangeProperties"]
    for node_range, memory_mib in ((main, 32 * 1024), (workers, 1800 * 1024)):
        container = node_range["Container"]
        assert container["Ulimits"] == [{"HardLimit": -1, "Name": "memlock", "SoftLimit": -1}]
        assert container["LinuxParameters"]["SharedMemorySize"] == memory_mib // 2
        assert container["LinuxParameters"]["Devices"][0]["HostPath"] == "/dev/infiniband/uverbs0"
    requirements = {r["Type"]: r["Value"] for r in main["Container"]["ResourceRequirements"]}
    assert requirements == {"VCPU": "8", "MEMORY": str(32 * 1024)}


def test_node_groups_with_their_own_instance_types_write_instance_types_per_range(
    cases: dict[str, cdk.Stack],
) -> None:
    (job,) = resources(cases["NodeGroups"], "AWS::Batch::JobDefinition").values()
    ranges = job["Properties"]["NodeProperties"]["NodeRangeProperties"]
    assert [r["InstanceTypes"] for r in ranges] == [["c7i.xlarge"], ["g5.2xlarge"]]
    assert all("InstanceType" not in r["Container"] for r in ranges)


def test_a_node_group_too_big_for_its_instance_type_is_an_error(scratch: NetworkScratch) -> None:
    stack = scratch.stack
    env = Ec2Environment(stack, scratch.id("Env"), network=scratch.network, instance_classes=[ec2.InstanceClass.C7I])
    queue = BatchQueue(stack, scratch.id("Queue"), environments=[env])
    with pytest.raises(BatchConfigurationError):
        MultiNodeJob(
            stack,
            scratch.id("Job"),
            image=IMAGE,
            queue=queue,
            nodes=2,
            instance_type=ec2.InstanceType("c7i.xlarge"),
            node_groups=[NodeGroup(0, 0), NodeGroup(1, 1, vcpus=16)],
        )


def test_fargate_environment_is_unchanged(cases: dict[str, cdk.Stack]) -> None:
    stack = cases["Fargate"]
    assert isinstance(stack.node.find_child("Env"), FargateEnvironment)
    assert resources(stack, "AWS::EC2::LaunchTemplate") == {}
