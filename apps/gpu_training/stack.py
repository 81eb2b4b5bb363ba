"""The GPU training stack: a GPU queue for single-node jobs, and an EFA cluster for multi-node NCCL training.

=====================  ==============================================================================================
Part                   What it is
=====================  ==============================================================================================
Network                BatchNetwork: 2 AZs, 1 NAT gateway, flow logs, S3/DynamoDB gateway endpoints
GpuEnvironment         g5/g6 On-Demand, ECS_AL2023_NVIDIA, 0-64 vCPUs
GpuQueue               -> GpuEnvironment
SingleGpuJob           1 GPU, 4 vCPUs, 12 GiB, 8 GiB /dev/shm: ``python -m job.launch --steps Ref::steps``
EfaEnvironment         g5.48xlarge (8 A10G GPUs, 100 Gbps EFA) On-Demand, ECS_AL2023_NVIDIA chosen for the GPU type,
                       the EFA software installed at boot from launch-template user data, cluster placement group,
                       security group open to itself only (in and out), 0-768 vCPUs (one 4-node job at a time)
EfaQueue               -> EfaEnvironment
DistributedTrainingJob multi-node: 4 nodes x 8 GPUs, main node 0; the library adds the EFA device, memlock
                       unlimited and /dev/shm
DistributedTraining    Step Functions state machine: submitJob.sync of DistributedTrainingJob, failures to SNS
=====================  ==============================================================================================
"""

from __future__ import annotations

import pathlib
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from batch_constructs import (
    BatchJobStateMachine,
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    EfaEnvironment,
    GpuEnvironment,
    MultiNodeJob,
)

JOB_DIRECTORY: Final = pathlib.Path(__file__).parent / "job"

#: The multi-node instance type. 8 NVIDIA A10G GPUs (24 GiB each), 192 vCPUs, 768 GiB, one 100 Gbps EFA interface.
#: Chosen over p4d.24xlarge (8 A100, 400 Gbps EFA with GPUDirect RDMA, more per hour and rarely available On-Demand
#: without a capacity reservation) because a multi-node job starts only when every node is up at once in one
#: placement group; over g6.48xlarge (8 L4) because the A10G has twice the memory bandwidth for training.
EFA_INSTANCE_TYPE: Final = "g5.48xlarge"
#: GPUs of one EFA node (the trainer starts one process per GPU).
GPUS_PER_EFA_NODE: Final = 8
#: Nodes of the distributed job: 4 x 8 = 32 GPUs.
NODES: Final = 4
#: vCPUs of one g5.48xlarge; the EFA environment's ceiling is one job's worth of nodes.
EFA_NODE_VCPUS: Final = 192
#: Default optimizer steps, a job parameter (override at submission: ``--parameters steps=1000``).
DEFAULT_STEPS: Final = "200"


class GpuTrainingStack(cdk.Stack):
    """GPU and distributed training on AWS Batch.

    Attributes:
        network: the VPC, subnets and jobs' security group.
        gpu_environment / gpu_queue / single_gpu_job: single-node GPU training.
        efa_environment / efa_queue / distributed_job: multi-node NCCL training over EFA.
        training_state_machine: starts ``distributed_job`` and waits for it (``.state_machine``, ``.failure_topic``).
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        image = ecs.ContainerImage.from_asset(str(JOB_DIRECTORY), exclude=["__pycache__", "*.pyc"])
        command = ["python", "-m", "job.launch", "--steps", "Ref::steps"]

        self.network = BatchNetwork(self, "Network")

        # Single-node GPU jobs: the smallest g5/g6 sizes hold them; 64 vCPUs bound the spend of a burst.
        self.gpu_environment = GpuEnvironment(self, "GpuEnvironment", network=self.network, max_vcpus=64)
        self.gpu_queue = BatchQueue(self, "GpuQueue", environments=[self.gpu_environment])
        self.single_gpu_job = ContainerJob(
            self,
            "SingleGpuJob",
            image=image,
            queue=self.gpu_queue,
            vcpus=4,
            memory=cdk.Size.gibibytes(12),  # a g5.xlarge / g6.xlarge has 16 GiB; the rest is the agent's and the OS's
            gpus=1,
            command=command,
            parameters={"steps": DEFAULT_STEPS},
            environment={"GPUS_PER_NODE": "1"},
            linux_parameters=batch.LinuxParameters(
                self, "SingleGpuLinuxParameters", shared_memory_size=cdk.Size.gibibytes(8)
            ),
            timeout=cdk.Duration.hours(2),
        )

        # Multi-node training over EFA: one instance type, one subnet, one cluster placement group. The library picks
        # ECS_AL2023_NVIDIA for the GPU type and installs the EFA software from user data (pass images= with your own
        # AMI to skip the installation).
        self.efa_environment = EfaEnvironment(
            self,
            "EfaEnvironment",
            network=self.network,
            instance_type=ec2.InstanceType(EFA_INSTANCE_TYPE),
            max_vcpus=NODES * EFA_NODE_VCPUS,
        )
        self.efa_queue = BatchQueue(self, "EfaQueue", environments=[self.efa_environment])
        self.distributed_job = MultiNodeJob(
            self,
            "DistributedTrainingJob",
            image=image,
            queue=self.efa_queue,
            nodes=NODES,
            main_node=0,
            vcpus=188,
            memory=cdk.Size.gibibytes(720),  # of 768 GiB: headroom for the ECS agent, Docker and the OS
            gpus=GPUS_PER_EFA_NODE,
            command=command,
            parameters={"steps": DEFAULT_STEPS},
            environment={
                "GPUS_PER_NODE": str(GPUS_PER_EFA_NODE),
                "TRAINING_EFA": "1",
                "TRAINING_INSTANCE_TYPE": EFA_INSTANCE_TYPE,
            },
            timeout=cdk.Duration.hours(4),
        )
        # Started through Step Functions (submitJob.sync): the execution ends when the main node's container ends, and
        # a failure is published to the state machine's encrypted SNS topic. Input: {"parameters": {"steps": "1000"}}.
        self.training_state_machine = BatchJobStateMachine(self, "DistributedTraining", job=self.distributed_job)

        # What the README's commands read after `cdk deploy`.
        outputs = {
            "GpuQueueArn": self.gpu_queue.job_queue_arn,
            "SingleGpuJobDefinitionArn": self.single_gpu_job.job_definition_arn,
            "SingleGpuJobLogGroup": self.single_gpu_job.log_group.log_group_name,
            "TrainingStateMachineArn": self.training_state_machine.state_machine_arn,
            "DistributedJobLogGroup": self.distributed_job.log_group.log_group_name,
            "FailureTopicArn": self.training_state_machine.failure_topic.topic_arn,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
