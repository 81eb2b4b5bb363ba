"""Queue contracts: a platform publishes what its queues can run; a workload in another app imports a queue from it
and keeps every check of a local queue. Also the queue interface jobs and triggers share, and the capacities cache."""

from __future__ import annotations

import json
import pathlib
from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2

from batch_constructs import (
    BatchConfigurationError,
    BatchNetwork,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    FargateEnvironment,
    GpuEnvironment,
    ImportedQueue,
    LambdaSubmitter,
    PlatformContract,
    QueueContract,
    import_queue,
    publish_contract,
)
from batch_constructs.contract import context_from_file
from batch_constructs.model.contract import SCHEMA_VERSION

from .helpers import new_app, resources

IMAGE = "public.ecr.aws/docker/library/python:3.13-slim"
PARAMETER = "/platform/batch/contract"
ACCOUNT, REGION = "111122223333", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
CONTEXT_KEY = f"ssm:account={ACCOUNT}:parameterName={PARAMETER}:region={REGION}"


def published_contract() -> tuple[dict[str, Any], dict[str, Any]]:
    """The platform app: a fair-share CPU queue (m5/c5 On-Demand) and a GPU queue; its SSM parameter's template entry
    and the contract as a deployed parameter would hold it (literal ARNs)."""
    app = new_app()
    stack = cdk.Stack(app, "Platform")
    network = BatchNetwork(stack, "Network")
    cpu = Ec2Environment(
        stack,
        "Cpu",
        network=network,
        instance_classes=[ec2.InstanceClass.M5, ec2.InstanceClass.C5],
        max_vcpus=64,
    )
    gpu = GpuEnvironment(stack, "Gpu", network=network)
    queues = {
        "cpu": BatchQueue(stack, "CpuQueue", environments=[cpu], fair_share={"teamA": 1.0, "teamB": 2.0}),
        "gpu": BatchQueue(stack, "GpuQueue", environments=[gpu]),
    }
    publish_contract(stack, "Contract", parameter_name=PARAMETER, queues=queues)
    template = app.synth().get_stack_by_name("Platform").template
    (resource,) = resources(template, "AWS::SSM::Parameter").values()
    arns = {name: f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{name}" for name in queues}
    deployed = {name: replace(q.contract(), job_queue_arn=arns[name]) for name, q in queues.items()}
    return resource, json.loads(PlatformContract(queues=deployed).to_json())


@pytest.fixture(scope="module")
def platform() -> tuple[dict[str, Any], dict[str, Any]]:
    return published_contract()


@pytest.fixture(scope="module")
def context_file(
    platform: tuple[dict[str, Any], dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> pathlib.Path:
    """What the CDK CLI writes to the workload app's cdk.context.json after one lookup of the parameter."""
    path = tmp_path_factory.mktemp("workload") / "cdk.context.json"
    path.write_text(json.dumps({CONTEXT_KEY: json.dumps(platform[1])}))
    return path


@pytest.fixture(scope="module")
def workload(context_file: pathlib.Path) -> dict[str, Any]:
    """A workload in ANOTHER app: nothing of the platform but the context file."""
    stack = cdk.Stack(new_app(), "Workload", env=ENV)
    context_from_file(stack, context_file)
    cpu = import_queue(stack, "CpuQueue", parameter_name=PARAMETER, queue="cpu")
    gpu = import_queue(stack, "GpuQueue", parameter_name=PARAMETER, queue="gpu")
    return {"stack": stack, "cpu": cpu, "gpu": gpu}


# --- publishing -----------------------------------------------------------------------------------------------------


def test_the_platform_publishes_one_standard_string_parameter_with_the_queue_arns(
    platform: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    resource, _ = platform
    props = resource["Properties"]
    assert props["Type"] == "String" and props["Tier"] == "Standard" and props["Name"] == PARAMETER
    parts = props["Value"]["Fn::Join"][1]
    arns = [p["Fn::GetAtt"] for p in parts if isinstance(p, dict)]
    assert len(arns) == 2 and all(a[1] == "JobQueueArn" for a in arns)
    text = "".join(p if isinstance(p, str) else "ARN" for p in parts)
    document = json.loads(text)
    assert document["schemaVersion"] == SCHEMA_VERSION
    cpu = document["queues"]["cpu"]
    assert cpu["platform"] == "EC2" and cpu["fairShare"] is True and cpu["shareIdentifiers"] == ["teamA", "teamB"]
    assert cpu["maxVcpus"] == 64 and cpu["maxGpus"] == 0 and cpu["architectures"] == ["X86_64"]
    assert document["queues"]["gpu"]["maxGpus"] >= 1


def test_a_contract_too_large_for_one_parameter_is_an_error_and_a_large_one_is_advanced() -> None:
    stack = cdk.Stack(new_app(), "Big")
    network = BatchNetwork(stack, "Network")
    gpu = GpuEnvironment(stack, "Gpu", network=network)
    many = {f"q{i}": BatchQueue(stack, f"Q{i}", environments=[gpu]) for i in range(3)}
    parameter = publish_contract(stack, "Mid", parameter_name="/mid", queues=many)
    assert stack.resolve(parameter.node.default_child.tier) == "Advanced"  # type: ignore[union-attr]
    more = {f"r{i}": BatchQueue(stack, f"R{i}", environments=[gpu]) for i in range(8)}
    with pytest.raises(BatchConfigurationError, match=r"\[queue-contract\] the contract .* more than an SSM"):
        publish_contract(stack, "Huge", parameter_name="/huge", queues=more)


# --- a workload in another app, checked against the contract only -------------------------------------------------


def test_the_imported_queue_carries_the_platform_facts(workload: dict[str, Any]) -> None:
    cpu: ImportedQueue = workload["cpu"]
    assert not cpu.pending and cpu.platform == "EC2" and cpu.fair_share
    assert cpu.share_identifiers == ("teamA", "teamB")
    assert cpu.job_queue_arn == f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/cpu"
    ((name, capacity),) = cpu.capacities()
    assert name == "Platform/Cpu" and capacity.max_vcpus == 64 and capacity.shapes


def test_a_job_takes_its_platform_from_the_contract(workload: dict[str, Any]) -> None:
    job = ContainerJob(workload["stack"], "Fits", image=IMAGE, queue=workload["cpu"], vcpus=4, scheduling_priority=1)
    assert job.platform == "EC2"


def test_an_oversized_job_is_rejected(workload: dict[str, Any]) -> None:
    # m5 and c5 go up to 96 vCPUs, but the environment's max is 64
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\].*Platform/Cpu"):
        ContainerJob(workload["stack"], "Huge", image=IMAGE, queue=workload["cpu"], vcpus=80, scheduling_priority=1)


def test_a_gpu_job_on_the_cpu_queue_is_rejected_and_fits_the_gpu_queue(workload: dict[str, Any]) -> None:
    stack = workload["stack"]
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\].*GPU"):
        ContainerJob(stack, "GpuOnCpu", image=IMAGE, queue=workload["cpu"], gpus=1, scheduling_priority=1)
    job = ContainerJob(stack, "GpuOnGpu", image=IMAGE, queue=workload["gpu"], gpus=1, vcpus=4)
    assert job.platform == "EC2"


def test_a_missing_share_identifier_and_scheduling_priority_are_rejected(workload: dict[str, Any]) -> None:
    stack = workload["stack"]
    with pytest.raises(BatchConfigurationError, match=r"\[fair-share-priority\]"):
        ContainerJob(stack, "NoPriority", image=IMAGE, queue=workload["cpu"])
    job = ContainerJob(stack, "Fair", image=IMAGE, queue=workload["cpu"], command=["run"], scheduling_priority=1)
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*fair share"):
        LambdaSubmitter(stack, "NoShare", job=job)
    LambdaSubmitter(stack, "WithShare", job=job, share_identifier="teamA")
    # an identifier the platform's policy does not list is accepted by AWS with weight 1.0: a warning, from the contract
    unlisted = LambdaSubmitter(stack, "Unlisted", job=job, share_identifier="team-b")
    (warning,) = [str(m.data) for m in unlisted.node.metadata if "share-unlisted" in str(m.data)]
    assert "did you mean 'teamB'?" in warning


def test_a_grant_names_the_contract_queue_arn(workload: dict[str, Any]) -> None:
    stack = workload["stack"]
    job = ContainerJob(stack, "Granted", image=IMAGE, queue=workload["gpu"])
    role = job.job_role
    grant = job.grant_submit_job(role)
    assert grant.success
    assert stack.resolve(job.job_queue_arn) == f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/gpu"


def test_without_the_value_in_the_context_the_lookup_is_pending_and_reported_missing() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Fresh", env=ENV)
    queue = import_queue(stack, "Queue", parameter_name=PARAMETER, queue="cpu")
    assert queue.pending and queue.capacities() == [] and queue.platform is None
    # a job on it does not fail the CLI's first pass (the CLI then fetches the value and synthesizes again)
    ContainerJob(stack, "Job", image=IMAGE, queue=queue, gpus=1)
    manifest = json.loads((pathlib.Path(app.synth().directory) / "manifest.json").read_text())
    assert [m["key"] for m in manifest["missing"]] == [CONTEXT_KEY]


def test_an_unknown_queue_name_lists_the_published_ones(context_file: pathlib.Path) -> None:
    stack = cdk.Stack(new_app(), "Typo", env=ENV)
    context_from_file(stack, context_file)
    with pytest.raises(
        BatchConfigurationError, match=r"\[queue-contract\] no queue named 'cpux'.*\['cpu', 'gpu'\]"
    ) as raised:
        import_queue(stack, "Queue", parameter_name=PARAMETER, queue="cpux")
    assert raised.value.path == "Typo/Queue" and f"(SSM parameter {PARAMETER})" in str(raised.value)


def test_a_malformed_contract_in_the_context_names_the_import_and_the_field() -> None:
    stack = cdk.Stack(new_app(), "Edited", env=ENV)
    document = {"schemaVersion": 1, "queues": {"cpu": {"jobQueueArn": "arn:q", "platform": "EC2", "fairShare": "no"}}}
    stack.node.set_context(CONTEXT_KEY, json.dumps(document))
    with pytest.raises(BatchConfigurationError, match=r"queue 'cpu': fairShare=\"no\" is not true or false") as raised:
        import_queue(stack, "Queue", parameter_name=PARAMETER, queue="cpu")
    assert raised.value.path == "Edited/Queue"


# --- imports without a contract -------------------------------------------------------------------------------------


def test_a_queue_imported_by_arn_without_platform_is_an_error_with_the_fix() -> None:
    stack = cdk.Stack(new_app(), "Legacy")
    queue = batch.JobQueue.from_job_queue_arn(stack, "Queue", "arn:aws:batch:us-east-1:111122223333:job-queue/q")
    with pytest.raises(BatchConfigurationError, match=r"\[imported-queue\].*Legacy/Queue.*from_contract.*platform="):
        ContainerJob(stack, "Job", image=IMAGE, queue=queue)
    assert ContainerJob(stack, "Ec2Job", image=IMAGE, queue=queue, platform="EC2").platform == "EC2"


def test_a_local_l2_queue_gives_its_platform() -> None:
    stack = cdk.Stack(new_app(), "L2")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    env = batch.FargateComputeEnvironment(stack, "Fargate", vpc=vpc)
    queue = batch.JobQueue(
        stack, "Queue", compute_environments=[batch.OrderedComputeEnvironment(compute_environment=env, order=1)]
    )
    assert ContainerJob(stack, "Job", image=IMAGE, queue=queue).platform == "FARGATE"


# --- same app: the contract of a local queue ------------------------------------------------------------------------


def test_from_contract_in_the_same_app_checks_like_the_queue() -> None:
    app = new_app()
    platform = cdk.Stack(app, "Platform")
    network = BatchNetwork(platform, "Network")
    queue = BatchQueue(
        platform, "Queue", environments=[FargateEnvironment(platform, "Fargate", network=network, max_vcpus=8)]
    )
    workload = cdk.Stack(app, "Workload")
    imported = BatchQueue.from_contract(workload, "Queue", queue.contract())
    assert ContainerJob(workload, "Job", image=IMAGE, queue=imported).platform == "FARGATE"
    with pytest.raises(BatchConfigurationError, match=r"\[fargate-gpu\]"):
        ContainerJob(workload, "Gpu", image=IMAGE, queue=imported, gpus=1)
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\]"):
        ContainerJob(workload, "Big", image=IMAGE, queue=imported, vcpus=16, memory=cdk.Size.gibibytes(32))


def test_an_imported_queue_keeps_the_secrets_endpoint_check_and_an_older_contract_skips_it() -> None:
    from aws_cdk import aws_secretsmanager as secretsmanager

    app = new_app()
    platform = cdk.Stack(app, "Platform")
    aws = ec2.InterfaceVpcEndpointAwsService
    network = BatchNetwork(platform, "Network", nat_gateways=0,
                           interface_endpoints=[aws.ECR, aws.ECR_DOCKER, aws.CLOUDWATCH_LOGS])  # fmt: skip
    queue = BatchQueue(platform, "Queue", environments=[FargateEnvironment(platform, "Fargate", network=network)])
    # GIVEN the platform's contract (schema 2 names the endpoints of its subnets without a NAT)
    document = json.loads(PlatformContract(queues={"q": queue.contract()}).to_json())
    assert document["schemaVersion"] == 2
    assert document["queues"]["q"]["environments"][0]["isolatedEndpoints"] == ["ecr.api", "ecr.dkr", "logs"]
    # WHEN a workload elsewhere submits a job reading a Secrets Manager secret to the imported queue, it is refused
    workload = cdk.Stack(app, "Workload")
    secret = batch.Secret.from_secrets_manager(secretsmanager.Secret(workload, "Token"))
    imported = BatchQueue.from_contract(workload, "Queue", PlatformContract.from_dict(document).queue("q"))
    with pytest.raises(BatchConfigurationError, match=r"\[network-egress\].*without the secretsmanager interface"):
        ContainerJob(workload, "Job", image=IMAGE, queue=imported, secrets={"TOKEN": secret})
    # THEN a version 1 document (no isolatedEndpoints) reads the subnets as unknown: no check, no false alarm
    del document["queues"]["q"]["environments"][0]["isolatedEndpoints"]
    document["schemaVersion"] = 1
    older = BatchQueue.from_contract(workload, "Older", PlatformContract.from_dict(document).queue("q"))
    ContainerJob(workload, "OlderJob", image=IMAGE, queue=older, secrets={"TOKEN": secret})
    # AND a network with a NAT publishes nothing (the 4 KB budget of the parameter holds only what is known)
    nat = BatchQueue(platform, "NatQueue", environments=[FargateEnvironment(platform, "F2", network=BatchNetwork(
        platform, "Nat"))])  # fmt: skip
    assert "isolatedEndpoints" not in nat.contract().to_dict()["environments"][0]


# --- schema versions --------------------------------------------------------------------------------------------------


def test_the_contract_round_trips(platform: tuple[dict[str, Any], dict[str, Any]]) -> None:
    document = platform[1]
    contract = PlatformContract.from_dict(document)
    assert json.loads(contract.to_json()) == document


def test_an_older_minimal_contract_still_checks_the_platform() -> None:
    # GIVEN a document as an older platform wrote it: version 1 fields only, no environments or fair share
    old = {
        "schemaVersion": 1,
        "queues": {"q": {"jobQueueArn": "arn:aws:batch:us-east-1:1:job-queue/q", "platform": "EC2"}},
    }
    contract = PlatformContract.from_json(json.dumps(old)).queue("q")
    assert contract.fair_share is None and contract.environments == ()
    stack = cdk.Stack(new_app(), "Old")
    queue = BatchQueue.from_contract(stack, "Queue", contract)
    # THEN the platform still comes from it, and a Fargate job on the EC2 queue is rejected
    assert ContainerJob(stack, "Job", image=IMAGE, queue=queue, vcpus=500).platform == "EC2"  # sizes unknown: no check
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\].*cannot run a FARGATE job"):
        ContainerJob(stack, "Fargate", image=IMAGE, queue=queue, platform="FARGATE")


def test_a_newer_contract_with_unknown_fields_is_read(platform: tuple[dict[str, Any], dict[str, Any]]) -> None:
    newer = json.loads(json.dumps(platform[1]))
    newer["schemaVersion"] = SCHEMA_VERSION + 1
    newer["publishedBy"] = "platform v9"
    newer["queues"]["cpu"]["quotaShares"] = {"teamA": 4}
    newer["queues"]["cpu"]["environments"][0]["consumableResources"] = ["licence"]
    contract = PlatformContract.from_dict(newer)
    assert contract.queue("cpu") == PlatformContract.from_dict(platform[1]).queue("cpu")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", r"not JSON"),
        ('{"queues": {}}', r"schemaVersion None"),
        ('{"schemaVersion": 1}', r"no 'queues' object"),
        ('{"schemaVersion": 1, "queues": {"q": {"platform": "EC2"}}}', r"queue 'q' has no jobQueueArn"),
        ('{"schemaVersion": 1, "queues": {"q": {"jobQueueArn": "a", "platform": "EKS"}}}', r'platform "EKS"'),
    ],
)
def test_an_unreadable_contract_is_an_error(document: str, message: str) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[queue-contract\] .*" + message):
        PlatformContract.from_json(document)


def test_queue_contract_summary_fields() -> None:
    contract = QueueContract("arn", "FARGATE")
    assert contract.max_vcpus is None and contract.max_gpus == 0 and contract.efa is None
    assert contract.capacities()[0][1].platform == "FARGATE"


# --- the capacities cache -------------------------------------------------------------------------------------------


def test_capacities_are_cached_and_see_environments_added_through_the_l2() -> None:
    stack = cdk.Stack(new_app(), "Cache")
    network = BatchNetwork(stack, "Network")
    spot = Ec2Environment(stack, "Spot", network=network, instance_classes=[ec2.InstanceClass.M5])
    queue = BatchQueue(stack, "Queue", environments=[spot])
    first = queue.capacities()
    assert queue.capacities() == first and len(first) == 1
    assert queue._cache_key is not None
    # WHEN an environment is added through the L2, THEN the next call sees it
    other = Ec2Environment(stack, "Other", network=network, instance_classes=[ec2.InstanceClass.C5])
    queue.job_queue.add_compute_environment(other.compute_environment, 2)
    assert [path for path, _ in queue.capacities()] == ["Cache/Spot", "Cache/Other"]
    # AND through add_environment
    third = Ec2Environment(stack, "Third", network=network, instance_classes=[ec2.InstanceClass.R5])
    queue.add_environment(third)
    assert [path for path, _ in queue.capacities()][-1] == "Cache/Third"
    # AND an environment added through the L2 with a lower order comes first, as AWS Batch tries it first
    first_tried = Ec2Environment(stack, "FirstTried", network=network, instance_classes=[ec2.InstanceClass.M6I])
    queue.job_queue.add_compute_environment(first_tried.compute_environment, 0)
    assert [path for path, _ in queue.capacities()] == [
        "Cache/FirstTried",
        "Cache/Spot",
        "Cache/Other",
        "Cache/Third",
    ]
    # AND what the queue tracks is what the L2 holds (read through jsii here, once)
    tracked = [(id(env), order) for env, order in queue._tracked().entries]
    assert tracked == [(id(o.compute_environment), o.order) for o in queue.job_queue.compute_environments]
