"""The scale benchmark's stack: one stack with ``jobs`` container job definitions spread over ``queues`` job queues.

Everything comes from batch_constructs with its defaults: a :class:`~batch_constructs.BatchNetwork`, one Fargate Spot
and one Fargate environment shared by every queue (Spot first), ``queues`` :class:`~batch_constructs.BatchQueue` s
and ``jobs`` :class:`~batch_constructs.ContainerJob` s, job ``i`` on queue ``i % queues``.

Roles are shared per queue (one :class:`~batch_constructs.JobRole` and one :class:`~batch_constructs.ExecutionRole`,
as a team owning a queue would): with the library's default of two new roles and a managed policy per job, a job adds
five resources and a stack reaches CloudFormation's 500-resource limit (which the CDK enforces at synth) at about 90
jobs. Shared this way, a job adds two resources (its definition and its own log group) and a queue four (the queue,
both roles and the execution role's managed policy), and the 100-job point stays deployable.
"""

from __future__ import annotations

from typing import Any, Final

import aws_cdk as cdk
from constructs import Construct

from batch_constructs import (
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    ExecutionRole,
    FargateEnvironment,
    FargateSpotEnvironment,
    JobRole,
)

STACK_NAME: Final = "Scale"
#: A public image, so that no asset is staged: the runs measure constructs and synthesis, not file copying.
IMAGE: Final = "public.ecr.aws/docker/library/python:3.12-slim"


class ScaleStack(cdk.Stack):
    """``jobs`` job definitions over ``queues`` queues, on one network and two shared Fargate environments."""

    def __init__(self, scope: Construct, construct_id: str, *, jobs: int, queues: int, **kwargs: Any) -> None:
        if jobs < 1 or queues < 1:
            raise ValueError(f"jobs and queues must be at least 1 (got jobs={jobs}, queues={queues})")
        super().__init__(scope, construct_id, **kwargs)
        network = BatchNetwork(self, "Network")
        environments = [
            FargateSpotEnvironment(self, "FargateSpot", network=network),
            FargateEnvironment(self, "Fargate", network=network),
        ]
        self.queues = [BatchQueue(self, f"Queue{q:02d}", environments=environments) for q in range(queues)]
        roles = [(JobRole(queue, "JobRole"), ExecutionRole(queue, "ExecutionRole")) for queue in self.queues]
        self.jobs = [
            ContainerJob(
                self,
                f"Job{i:03d}",
                image=IMAGE,
                queue=self.queues[i % queues],
                job_role=roles[i % queues][0],
                execution_role=roles[i % queues][1],
                command=["python", "-m", "worker", "--item", "Ref::item"],
                parameters={"item": str(i)},
            )
            for i in range(jobs)
        ]


def add_to(app: cdk.App, *, jobs: int, queues: int) -> list[cdk.Stack]:
    """Add the ``Scale`` stack to ``app``."""
    return [ScaleStack(app, STACK_NAME, jobs=jobs, queues=queues)]
