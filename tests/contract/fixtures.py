"""One fixture stack holding every construct the deploy contract concerns, synthesized once with the five cdk-nag
packs: each compute environment kind (a p5.48xlarge EFA environment among them), a user-supplied launch template with
user data, queues, a container job and a multi-node EFA job with per-group containers."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from batch_constructs import (
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    MultiNodeJob,
    NodeGroup,
    SpotEnvironment,
)
from batch_constructs.compliance import unacknowledged_findings

from ..core_stacks import IMAGE
from ..helpers import cfn_lint, new_app, synth_with_packs


@functools.cache
def contract_stack() -> tuple[dict[str, Any], dict[str, Any]]:
    """(template, constructs by name) of the fixture stack; cdk-nag clean under the five packs."""
    app = new_app(outdir=str(pathlib.Path(cdk.FileSystem.mkdtemp("contract"))))
    stack = cdk.Stack(app, "DeployContract")
    network = BatchNetwork(stack, "Network")
    user_template = ec2.LaunchTemplate(
        stack, "UserLaunchTemplate", block_devices=[], http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED
    )
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("echo ECS_IMAGE_PULL_BEHAVIOR=prefer-cached >> /etc/ecs/ecs.config")
    parts: dict[str, Any] = {
        "Fargate": FargateEnvironment(stack, "Fargate", network=network),
        "FargateSpot": FargateSpotEnvironment(stack, "FargateSpot", network=network),
        "Ec2": Ec2Environment(stack, "Ec2", network=network, user_data=user_data),
        "Ec2UserTemplate": Ec2Environment(stack, "Ec2UserTemplate", network=network, launch_template=user_template),
        "Spot": SpotEnvironment(stack, "Spot", network=network),
        "Gpu": GpuEnvironment(stack, "Gpu", network=network),
        "Efa": EfaEnvironment(
            stack, "Efa", network=network, instance_type=ec2.InstanceType("p5.48xlarge"), max_vcpus=4 * 192
        ),
    }
    fargate_queue = BatchQueue(stack, "FargateQueue", environments=[parts["FargateSpot"], parts["Fargate"]])
    ec2_queue = BatchQueue(stack, "Ec2Queue", environments=[parts["Spot"], parts["Ec2"], parts["Ec2UserTemplate"]])
    efa_queue = BatchQueue(stack, "EfaQueue", environments=[parts["Efa"]])
    parts["FargateJob"] = ContainerJob(stack, "FargateJob", image=IMAGE, queue=fargate_queue)
    parts["Ec2Job"] = ContainerJob(stack, "Ec2Job", image=IMAGE, queue=ec2_queue, timeout=cdk.Duration.hours(6))
    parts["EfaJob"] = MultiNodeJob(
        stack,
        "EfaJob",
        image=IMAGE,
        queue=efa_queue,
        nodes=4,
        vcpus=180,
        memory=cdk.Size.gibibytes(1800),
        gpus=8,
        node_groups=[
            NodeGroup(0, 0, command=["python", "-m", "coordinator"], vcpus=8, memory=cdk.Size.gibibytes(32), gpus=0),
            NodeGroup(1, 3, command=["python", "-m", "worker"]),
        ],
        timeout=cdk.Duration.hours(12),
    )
    assembly, outdir = synth_with_packs(app)
    findings = unacknowledged_findings(str(outdir))
    assert findings == [], findings
    # cfn-lint, not the built-in validation engine, checks the template against CloudFormation (see new_app)
    lint = cfn_lint(outdir / "DeployContract.template.json")
    assert lint == [], lint
    return assembly.get_stack_by_name("DeployContract").template, parts
