"""``batch-constructs why``: each RUNNABLE cause, built as a broken state in moto, and its diagnosis.

moto answers DescribeJobs, DescribeJobQueues, DescribeComputeEnvironments, EC2 and IAM from its models; where moto has
no way to reach a state (a compute environment INVALID, a queue blocked, a job's statusReason, a share identifier),
the test sets it on moto's objects, so the CLI still reads it through the real API calls.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from batch_constructs.cli.why import Cause, Facts, check_size, diagnose

from .support import ACCOUNT, REGION, Deployed, deployed_stack, force


@pytest.fixture
def deployed(fresh_stack: Deployed) -> Deployed:
    """Each scenario breaks the stack its own way: a stack per test."""
    return fresh_stack


def _stuck(deployed: Deployed, reason: str | None = None, **submit: Any) -> str:
    job_id = deployed.submit("stuck", **submit)
    force(deployed, job_id, "RUNNABLE", reason)
    return job_id


def _why(deployed: Deployed, job_id: str) -> tuple[int, list[dict[str, str]], str]:
    code, out = deployed.run("why", job_id, "--json")
    text = deployed.run("why", job_id)[1]
    return code, json.loads(out)["causes"], text


def _ids(causes: list[dict[str, str]]) -> list[str]:
    return [c["id"] for c in causes]


def _override(monkeypatch: pytest.MonkeyPatch, cls: Any, method: str, **fields: Any) -> None:
    """Add ``fields`` to what moto's ``cls.method`` describes (states moto has no API for)."""
    original = getattr(cls, method)

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        for item in result if isinstance(result, list) else [result]:
            item.update(fields)
        return result

    monkeypatch.setattr(cls, method, patched)


def test_healthy_runnable_job_has_no_cause(deployed: Deployed) -> None:
    job_id = _stuck(deployed)
    code, causes, text = _why(deployed, job_id)
    assert (code, causes) == (0, [])
    assert "No known cause found" in text


def test_finished_job_is_not_diagnosed(deployed: Deployed) -> None:
    job_id = deployed.submit("done")
    code, out = deployed.run("why", job_id)
    assert code == 0
    assert out.strip() == f"{job_id} is SUCCEEDED: not stuck waiting to start"


def test_queue_disabled(deployed: Deployed) -> None:
    job_id = _stuck(deployed)
    deployed.client("batch").update_job_queue(jobQueue=deployed.queue_arn, state="DISABLED")
    code, causes, text = _why(deployed, job_id)
    assert code == 1
    assert _ids(causes) == ["queue-disabled"]
    assert (
        f"fix: aws batch update-job-queue --job-queue {deployed.queue_arn.rsplit('/', 1)[-1]} --state ENABLED" in text
    )


def test_queue_invalid_and_blocked(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.batch.models import JobQueue

    job_id = _stuck(deployed)
    _override(
        monkeypatch, JobQueue, "describe", status="INVALID", statusReason="JOB_QUEUE_BLOCKED: head job cannot run"
    )
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["queue-invalid", "queue-blocked"]
    assert "JOB_QUEUE_BLOCKED: head job cannot run" in causes[1]["summary"]
    assert "job_state_time_limit_actions" in causes[1]["fix"]


def test_compute_environment_disabled(deployed: Deployed) -> None:
    job_id = _stuck(deployed)
    deployed.client("batch").update_compute_environment(computeEnvironment=deployed.environment_arn, state="DISABLED")
    code, causes, _ = _why(deployed, job_id)
    assert code == 1
    assert _ids(causes) == ["environment-disabled"]
    assert causes[0]["fix"].endswith("--state ENABLED")


def test_compute_environment_invalid(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.batch.models import BatchBackend

    job_id = _stuck(deployed)
    reason = "CLIENT_ERROR - The security group 'sg-0abc' does not exist"
    _override(monkeypatch, BatchBackend, "describe_compute_environments", status="INVALID", statusReason=reason)
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["environment-invalid"]
    assert reason in causes[0]["summary"]


def test_job_not_a_fargate_size(deployed: Deployed) -> None:
    batch = deployed.client("batch")
    definition = batch.register_job_definition(
        jobDefinitionName="odd-size", type="container", platformCapabilities=["FARGATE"],
        containerProperties={"image": "busybox", "resourceRequirements": [
            {"type": "VCPU", "value": "3"}, {"type": "MEMORY", "value": "5000"}]},
    )["jobDefinitionArn"]  # fmt: skip
    job_id = batch.submit_job(jobName="odd", jobQueue=deployed.queue_arn, jobDefinition=definition)["jobId"]
    force(deployed, job_id, "RUNNABLE", "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT")
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["job-too-large"]
    assert "3 vCPU with 5000 MiB is not a Fargate size" in causes[0]["summary"]


def test_job_larger_than_any_instance_type() -> None:
    """EC2 environments (moto cannot create a managed EC2 one without an instance profile chain): the pure check."""
    environment = {
        "computeEnvironmentName": "Ec2",
        "computeEnvironmentArn": "arn:aws:batch:us-east-1:123456789012:compute-environment/Ec2",
        "state": "ENABLED",
        "status": "VALID",
        "computeResources": {"type": "EC2", "maxvCpus": 512, "instanceTypes": ["m5.large", "c5"], "subnets": []},
    }
    big = {"resourceRequirements": [{"type": "VCPU", "value": "8"}, {"type": "MEMORY", "value": "200000"}]}
    job = {
        "jobId": "j",
        "jobName": "big",
        "status": "RUNNABLE",
        "jobQueue": "q",
        "jobDefinition": "d",
        "container": big,
    }
    causes = check_size(Facts(job=job, queue=None, environments=[environment]))  # type: ignore[arg-type]
    assert [c.id for c in causes] == ["job-too-large"]
    assert "largest: c5.24xlarge, 96 vCPUs" in causes[0].summary
    job["container"] = {"resourceRequirements": [{"type": "VCPU", "value": "8"}, {"type": "MEMORY", "value": "16000"}]}
    assert check_size(Facts(job=job, queue=None, environments=[environment])) == []  # type: ignore[arg-type]
    environment["computeResources"]["instanceTypes"] = ["optimal"]  # type: ignore[index]
    assert check_size(Facts(job=job, queue=None, environments=[environment])) == []  # type: ignore[arg-type]


def test_max_vcpus_reached(deployed: Deployed) -> None:
    from moto.batch.models import batch_backends

    # moto ignores max vCPUs updates on Fargate environments: set it on its model.
    batch_backends[ACCOUNT][REGION].get_compute_environment(deployed.environment_arn).compute_resources["maxvCpus"] = 2
    for name in ("running-1", "running-2"):
        force(deployed, deployed.submit(name), "RUNNING")
    job_id = _stuck(deployed, "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE")
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["max-vcpus"]
    assert ": 2 of 2 vCPUs in use" in causes[0]["summary"]
    assert "Batch says: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE" in causes[0]["summary"]


def test_no_route_without_nat_or_endpoints(deployed: Deployed) -> None:
    ec2 = deployed.client("ec2")
    ec2.delete_route(RouteTableId=deployed.route_table_id, DestinationCidrBlock="0.0.0.0/0")
    job_id = _stuck(deployed)
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["no-route"]
    assert causes[0]["summary"].endswith("lacks the endpoints for ecr.api, ecr.dkr, logs, s3 (gateway: image layers)")

    # GIVEN the endpoints THEN the route problem is gone.
    for service in ("ecr.api", "ecr.dkr", "logs"):
        ec2.create_vpc_endpoint(
            VpcId=deployed.vpc_id, ServiceName=f"com.amazonaws.{REGION}.{service}", VpcEndpointType="Interface",
            SubnetIds=[deployed.subnet_id], PrivateDnsEnabled=True,
        )  # fmt: skip
    ec2.create_vpc_endpoint(
        VpcId=deployed.vpc_id, ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=[deployed.route_table_id]
    )
    assert _why(deployed, job_id)[1] == []


def test_public_subnet_without_public_ip(deployed: Deployed) -> None:
    ec2 = deployed.client("ec2")
    igw = ec2.describe_internet_gateways()["InternetGateways"][0]["InternetGatewayId"]
    ec2.replace_route(RouteTableId=deployed.route_table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    job_id = _stuck(deployed)
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["no-route"]
    assert "the job definition does not assign a public IP" in causes[0]["summary"]


def _spot_queue(deployed: Deployed) -> str:
    batch = deployed.client("batch")
    role = deployed.client("iam").get_role(RoleName="BatchServiceRole")["Role"]["Arn"]
    spot = batch.create_compute_environment(
        computeEnvironmentName="Spot", type="MANAGED", serviceRole=role,
        computeResources={"type": "FARGATE_SPOT", "maxvCpus": 64, "subnets": [deployed.subnet_id],
                          "securityGroupIds": [deployed.security_group_id]},
    )["computeEnvironmentArn"]  # fmt: skip
    return str(
        batch.create_job_queue(
            jobQueueName="SpotQueue",
            priority=1,
            state="ENABLED",
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": spot}],
        )["jobQueueArn"]
    )


def test_spot_capacity(deployed: Deployed) -> None:
    queue = _spot_queue(deployed)
    batch = deployed.client("batch")
    job_id = batch.submit_job(jobName="spot", jobQueue=queue, jobDefinition=deployed.job_definition_arn)["jobId"]
    force(deployed, job_id, "RUNNABLE", "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY")
    code, causes, _ = _why(deployed, job_id)
    assert code == 1
    assert _ids(causes) == ["spot-capacity"]
    assert "Spot capacity is short for Spot: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY" in causes[0]["summary"]
    assert "On-Demand environment after the Spot one" in causes[0]["fix"]


def test_fair_share_queue_without_share_identifier(deployed: Deployed) -> None:
    batch = deployed.client("batch")
    policy = batch.create_scheduling_policy(
        name="teams", fairsharePolicy={"shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 1.0}]}
    )["arn"]
    environment = deployed.environment_arn
    queue = batch.create_job_queue(
        jobQueueName="FairShare", priority=1, state="ENABLED", schedulingPolicyArn=policy,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )["jobQueueArn"]  # fmt: skip
    job_id = batch.submit_job(jobName="noshare", jobQueue=queue, jobDefinition=deployed.job_definition_arn)["jobId"]
    force(deployed, job_id, "RUNNABLE")
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["fair-share"]
    assert "schedules by fair share (policy teams) but the job has no share identifier" in causes[0]["summary"]

    # A share the policy does not list (moto does not return shareIdentifier: set on its job object).
    job = deployed.moto_job(job_id)
    original = type(job).describe
    job.describe = lambda: {**original(job), "shareIdentifier": "teamB"}
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["fair-share"]
    assert "share 'teamB' is not in policy teams's share distribution (teamA)" in causes[0]["summary"]


def test_unfinished_dependency(deployed: Deployed) -> None:
    first = deployed.submit("first")
    force(deployed, first, "RUNNING")
    job_id = deployed.submit("second", dependsOn=[{"jobId": first}])
    force(deployed, job_id, "PENDING")
    code, causes, _ = _why(deployed, job_id)
    assert code == 1
    assert _ids(causes) == ["dependency"]
    assert f"first ({first}) RUNNING" in causes[0]["summary"]
    force(deployed, first, "FAILED")
    assert "a failed dependency fails this job" in _why(deployed, job_id)[1][0]["fix"]


@pytest.mark.parametrize(
    ("service_role", "expected"),
    [
        (("NotForBatch", "ecs-tasks.amazonaws.com", "Policy"), "does not trust batch.amazonaws.com"),
        (("NoPolicies", "batch.amazonaws.com", None), "has no policies"),
    ],
)
def test_service_role_problems(monkeypatch: pytest.MonkeyPatch, service_role: Any, expected: str) -> None:
    from moto.moto_api import state_manager

    with deployed_stack(monkeypatch.setenv, service_role=service_role) as deployed:
        job_id = _stuck(deployed, "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS")
        _, causes, _ = _why(deployed, job_id)
    state_manager.unset_transition("batch::job")
    assert _ids(causes) == ["service-role"]
    assert expected in causes[0]["summary"]


def test_service_role_deleted(deployed: Deployed) -> None:
    iam = deployed.client("iam")
    iam.delete_role_policy(RoleName="BatchServiceRole", PolicyName="BatchService")
    iam.delete_role(RoleName="BatchServiceRole")
    job_id = _stuck(deployed)
    _, causes, _ = _why(deployed, job_id)
    assert _ids(causes) == ["service-role"]
    assert "service role BatchServiceRole does not exist" in causes[0]["summary"]


def test_unexplained_status_reason_is_still_reported() -> None:
    job = {"jobId": "j", "jobName": "n", "status": "RUNNABLE", "jobQueue": "q", "jobDefinition": "d", "startedAt": 0,
           "statusReason": "SOMETHING:NEW"}  # fmt: skip
    causes = diagnose(Facts(job=job, queue=None, environments=[]))  # type: ignore[arg-type]
    assert causes[-1] == Cause("status-reason", "Batch says: SOMETHING:NEW", causes[-1].fix)


def test_account_and_region_constants_match_moto() -> None:
    assert (ACCOUNT, REGION) == ("123456789012", "us-east-1")


def test_on_demand_instance_capacity() -> None:
    """The same reason on an On-Demand EC2 environment is an instance-capacity cause (no Spot advice)."""
    environment = {"computeEnvironmentName": "Ec2", "computeEnvironmentArn": "arn", "state": "ENABLED",
                   "status": "VALID", "computeResources": {"type": "EC2", "maxvCpus": 64, "subnets": []}}  # fmt: skip
    job = {"jobId": "j", "jobName": "n", "status": "RUNNABLE", "jobQueue": "q", "jobDefinition": "d",
           "statusReason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"}  # fmt: skip
    causes = diagnose(Facts(job=job, queue=None, environments=[environment]))  # type: ignore[arg-type]
    ids = [c.id for c in causes]
    assert ids == ["queue-missing", "instance-capacity"]
    assert "allow more instance types" in causes[1].fix
