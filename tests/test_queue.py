"""BatchQueue: environment order, priority, job-state time limits, fair share and add_environment."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from batch_constructs import BatchQueue, FargateEnvironment, FargateSpotEnvironment

from .core_stacks import Built, _build, imported_vpc
from .helpers import new_app

DEFAULT_LIMITS = [
    {
        "Action": "CANCEL",
        "MaxTimeSeconds": 600,
        "Reason": "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
        "State": "RUNNABLE",
    },
    {
        "Action": "CANCEL",
        "MaxTimeSeconds": 600,
        "Reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "State": "RUNNABLE",
    },
    {
        "Action": "CANCEL",
        "MaxTimeSeconds": 14400,
        "Reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "State": "RUNNABLE",
    },
]


@pytest.fixture(scope="module")
def built() -> Built:
    # GIVEN three Fargate environments in an existing VPC
    stack = cdk.Stack(new_app(), "Queues")
    vpc = imported_vpc(stack)
    spot = FargateSpotEnvironment(stack, "Spot", vpc=vpc)
    on_demand = FargateEnvironment(stack, "OnDemand", vpc=vpc)
    third = FargateEnvironment(stack, "Third", vpc=vpc)
    # WHEN queues are built over them in various ways
    growing = BatchQueue(stack, "Growing", environments=[spot])
    growing.add_environment(on_demand)
    growing.add_environment(third)
    submitter = iam.Role(stack, "Submitter", assumed_by=iam.AccountRootPrincipal())
    ordered = BatchQueue(stack, "Ordered", environments=[spot, on_demand])
    ordered.grant_submit_job(submitter, ["arn:aws:batch:us-east-1:123456789012:job-definition/example:*"])
    parts: dict[str, Any] = {
        "spot": spot,
        "on_demand": on_demand,
        "third": third,
        "ordered": ordered,
        "priority": BatchQueue(stack, "Priority", environments=[on_demand], priority=10),
        "no_limits": BatchQueue(
            stack, "NoLimits", environments=[spot], misconfiguration_timeout=None, capacity_timeout=None
        ),
        "custom_limits": BatchQueue(
            stack,
            "CustomLimits",
            environments=[spot],
            misconfiguration_timeout=Duration.minutes(30),
            capacity_timeout=None,
        ),
        "fair_share": BatchQueue(stack, "FairShare", environments=[spot], fair_share={"teamA": 1.0, "teamB": 0.5}),
        "growing": growing,
        "submitter": submitter,
    }
    return _build(stack, **parts)


def _queue(built: Built, name: str) -> dict[str, Any]:
    props: dict[str, Any] = built.resource(built.parts[name].job_queue)["Properties"]
    return props


def _order(built: Built, *names: str) -> list[dict[str, Any]]:
    return [
        {
            "ComputeEnvironment": {
                "Fn::GetAtt": [built.logical_id(built.parts[n].compute_environment), "ComputeEnvironmentArn"]
            },
            "Order": i,
        }
        for i, n in enumerate(names, start=1)
    ]


def test_environments_are_tried_in_the_order_given(built: Built) -> None:
    assert _queue(built, "ordered")["ComputeEnvironmentOrder"] == _order(built, "spot", "on_demand")
    queue: BatchQueue = built.parts["ordered"]
    assert queue.environments == [built.parts["spot"], built.parts["on_demand"]]
    assert [path for path, _ in queue.capacities()] == ["Queues/Spot", "Queues/OnDemand"]


def test_defaults_priority_one_no_name_no_scheduling_policy(built: Built) -> None:
    props = _queue(built, "ordered")
    assert props["Priority"] == 1
    assert props["State"] == "ENABLED"
    assert "JobQueueName" not in props
    assert "SchedulingPolicyArn" not in props
    assert built.parts["ordered"].fair_share is False


def test_priority_is_passed(built: Built) -> None:
    assert _queue(built, "priority")["Priority"] == 10


def test_by_default_jobs_that_cannot_run_are_cancelled(built: Built) -> None:
    assert _queue(built, "ordered")["JobStateTimeLimitActions"] == DEFAULT_LIMITS


def test_none_disables_the_time_limits(built: Built) -> None:
    assert "JobStateTimeLimitActions" not in _queue(built, "no_limits")


def test_a_custom_misconfiguration_timeout_without_capacity_timeout(built: Built) -> None:
    actions = _queue(built, "custom_limits")["JobStateTimeLimitActions"]
    assert [(a["Reason"], a["MaxTimeSeconds"]) for a in actions] == [
        ("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT", 1800),
        ("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", 1800),
    ]


def test_fair_share_creates_a_scheduling_policy_with_the_shares(built: Built) -> None:
    queue: BatchQueue = built.parts["fair_share"]
    assert queue.fair_share is True
    assert queue.scheduling_policy is not None
    policy_id = built.logical_id(queue.scheduling_policy)
    policy = built.template["Resources"][policy_id]
    assert policy["Type"] == "AWS::Batch::SchedulingPolicy"
    assert policy["Properties"]["FairsharePolicy"]["ShareDistribution"] == [
        {"ShareIdentifier": "teamA", "WeightFactor": 1},
        {"ShareIdentifier": "teamB", "WeightFactor": 0.5},
    ]
    assert _queue(built, "fair_share")["SchedulingPolicyArn"] == {"Fn::GetAtt": [policy_id, "Arn"]}
    assert len(built.of_type("AWS::Batch::SchedulingPolicy")) == 1


def test_add_environment_appends_after_the_existing_ones(built: Built) -> None:
    assert _queue(built, "growing")["ComputeEnvironmentOrder"] == _order(built, "spot", "on_demand", "third")
    assert built.parts["growing"].environments[-1] is built.parts["third"]


def test_grant_submit_job_is_scoped_to_the_queue_and_the_given_definitions(built: Built) -> None:
    (policy,) = built.of_type("AWS::IAM::Policy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "batch:SubmitJob",
            "Effect": "Allow",
            "Resource": [
                "arn:aws:batch:us-east-1:123456789012:job-definition/example:*",
                {"Fn::GetAtt": [built.logical_id(built.parts["ordered"].job_queue), "JobQueueArn"]},
            ],
        }
    ]
    assert built.stack.resolve(built.parts["ordered"].job_queue_arn) == {
        "Fn::GetAtt": [built.logical_id(built.parts["ordered"].job_queue), "JobQueueArn"]
    }
