"""The rule functions of ``batch_constructs.model.rules`` on their own: every limit's last good and first bad value.

Pure functions, no CDK app: fast enough to cover every boundary. ``test_validation.py`` checks the wiring into the
constructs, ``test_validation_catalogue.py`` configurations as a user writes them.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from batch_constructs.model import capacity as _capacity
from batch_constructs.model import registry
from batch_constructs.model import rules as _rules
from batch_constructs.model.capacity import FARGATE_SHAPES, EnvironmentCapacity, InstanceShape
from batch_constructs.model.rules import JobRequirements

FIX = re.compile(r"^\[([a-z0-9-]+)\] .+\. Fix: .+\.$", re.S)


def ids(problems: list[str]) -> list[str]:
    """The rule ids of ``problems``, checking that each is well formed and known."""
    found = []
    for problem in problems:
        match = FIX.match(problem)
        assert match, problem
        assert match.group(1) in registry.RULES, problem
        found.append(match.group(1))
    return found


def ec2(
    *names: str, max_vcpus: float | None = 256, spot: bool = False, efa: bool | None = False
) -> EnvironmentCapacity:
    types = [n for n in names if "." in n]
    families = [n for n in names if "." not in n]
    return EnvironmentCapacity(
        platform="EC2",
        spot=spot,
        max_vcpus=max_vcpus,
        shapes=_capacity.shapes_of(types, families),
        architectures=frozenset(_capacity.architecture_of(n) for n in names),
        instance_types=frozenset(types),
        instance_families=frozenset(families),
        efa=efa,
    )


FARGATE = EnvironmentCapacity(platform="FARGATE", spot=False, max_vcpus=256, shapes=FARGATE_SHAPES)
FARGATE_SPOT = EnvironmentCapacity(platform="FARGATE", spot=True, max_vcpus=256, shapes=FARGATE_SHAPES)


# ------------------------------------------------------------------------------------------------------------ format


def test_fix_format() -> None:
    assert registry.TIMEOUT.fix("timeout=1 s", "use more") == "[timeout] timeout=1 s. Fix: use more."


def test_int_range_boundaries() -> None:
    assert _rules.int_range(registry.QUEUE_PRIORITY, "priority", 0, 0, 1000, "r") == []
    assert _rules.int_range(registry.QUEUE_PRIORITY, "priority", 1000, 0, 1000, "r") == []
    assert ids(_rules.int_range(registry.QUEUE_PRIORITY, "priority", 1001, 0, 1000, "r")) == ["queue-priority"]
    assert "priority=-1; allowed 0-1000" in _rules.int_range(registry.QUEUE_PRIORITY, "priority", -1, 0, 1000, "r")[0]


# ------------------------------------------------------------------------------------------------------ names, tags


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a", True),
        ("A" * 128, True),
        ("A" * 129, False),
        ("my_job-1", True),
        ("_leading", True),  # compute environment / queue / job definition names may start with '_' or '-'
        ("has space", False),
        ("dots.not.allowed", False),
        ("", False),
        ("${Token[TOKEN.12]}", True),  # unresolved: skipped
    ],
)
def test_resource_names(value: str, ok: bool) -> None:
    problems = _rules.name("job_queue_name", value)
    assert (problems == []) is ok
    if not ok:
        assert ids(problems) == ["name"]
        assert repr(value) in problems[0]


def test_job_names_start_alphanumeric() -> None:
    assert _rules.job_name("job-1") == []
    assert ids(_rules.job_name("-job")) == ["name"]
    assert "use e.g. 'job'" in _rules.job_name("-job")[0]
    assert _rules.job_name(None) == []


def test_name_suggests_a_valid_name() -> None:
    (problem,) = _rules.name("job_definition_name", "my job.v2")
    assert "use e.g. 'my-job-v2'" in problem


def test_tags_limit() -> None:
    assert _rules.tags("AWS::Batch::JobQueue", 50) == []
    (problem,) = _rules.tags("AWS::Batch::JobQueue", 51)
    assert ids([problem]) == ["tags"] and "51 tags" in problem and "at most 50" in problem


# ------------------------------------------------------------------------------------------------------------ Fargate


@pytest.mark.parametrize(
    ("vcpus", "memory", "ok"),
    [
        (0.25, 512, True),
        (0.25, 2048, True),
        (0.25, 1536, False),
        (0.25, 3072, False),
        (0.5, 1024, True),
        (0.5, 4096, True),
        (0.5, 5120, False),
        (1, 2048, True),
        (1, 1024, False),
        (1, 8192, True),
        (1, 9216, False),
        (2, 4096, True),
        (2, 16384, True),
        (2, 17408, False),
        (4, 8192, True),
        (4, 30720, True),
        (4, 31744, False),
        (8, 16384, True),
        (8, 20480, True),
        (8, 17408, False),  # 8 vCPU steps by 4 GiB
        (8, 61440, True),
        (8, 65536, False),
        (16, 32768, True),
        (16, 40960, True),
        (16, 36864, False),  # 16 vCPU steps by 8 GiB
        (16, 122880, True),
        (16, 131072, False),
        (3, 8192, False),
        (32, 65536, False),
    ],
)
def test_fargate_combinations(vcpus: float, memory: int, ok: bool) -> None:
    problems = _rules.fargate_resources(vcpus, memory)
    assert (problems == []) is ok, problems
    if not ok:
        assert ids(problems) == ["fargate-resources"]


def test_fargate_memory_fix_names_nearest_memory_and_vcpus() -> None:
    (problem,) = _rules.fargate_resources(1, 1024)
    assert "memory=1024 MiB with vcpus=1" in problem
    assert "2048-8192 MiB in steps of 1024" in problem
    assert "Fix: use memory=2048 MiB, or vcpus=0.25 or 0.5 for 1024 MiB." in problem


def test_fargate_small_size_lists_its_three_values() -> None:
    (problem,) = _rules.fargate_resources(0.25, 4096)
    assert "512, 1024, 2048 MiB" in problem
    assert "use memory=2048 MiB, or vcpus=0.5, 1 or 2 for 4096 MiB" in problem


def test_fargate_vcpu_fix_names_nearest_vcpus() -> None:
    (problem,) = _rules.fargate_resources(3, 8192)
    assert "vcpus=3 is not a Fargate size" in problem
    assert "use vcpus=4 (with memory=8192 MiB, vcpus may be 1, 2 or 4)" in problem


def test_job_resources() -> None:
    assert _rules.job_resources(0.25, 512, 0, "FARGATE") == []
    assert _rules.job_resources(1, 4, 0, "EC2") == []
    assert ids(_rules.job_resources(0, 512, 0, "FARGATE")) == ["job-resources"]
    assert ids(_rules.job_resources(0.5, 512, 0, "EC2")) == ["job-resources"]
    assert ids(_rules.job_resources(1, 3, 0, "EC2")) == ["job-resources"]
    assert ids(_rules.job_resources(1, 512, -1, "EC2")) == ["job-resources"]
    assert len(_rules.job_resources(0, 3, -1, "EC2")) == 3


def test_vcpus_units_warning() -> None:
    assert _rules.vcpus_units_warning(192) is None
    warning = _rules.vcpus_units_warning(256)
    assert warning and "did you mean vcpus=0.25" in warning


# ---------------------------------------------------------------------------------------------------------------- fit


def test_fits_fargate() -> None:
    job = JobRequirements("FARGATE", 16, 122880)
    assert _rules.fit_problem(job, FARGATE) is None


def test_platform_mismatch() -> None:
    found = _rules.fit_problem(JobRequirements("EC2", 1, 2048), FARGATE)
    assert found and "a FARGATE environment cannot run an EC2 job" in found[0]
    assert "platform='FARGATE'" in found[1]


@pytest.mark.parametrize(
    ("vcpus", "memory", "ok"),
    [(2, 8192, True), (3, 2048, False), (2, 8193, False), (0.5, 512, True)],
)
def test_fit_against_one_instance_type(vcpus: float, memory: int, ok: bool) -> None:
    job = JobRequirements("EC2", vcpus, memory)
    found = _rules.fit_problem(job, ec2("m7i.large"))
    assert (found is None) is ok, found


def test_fit_suggests_a_type_of_the_same_family() -> None:
    problems = _rules.job_fits_queue(JobRequirements("EC2", 16, 2048), "S/Queue", [("S/Env", ec2("m7i.large"))])
    assert ids(problems) == ["job-fits-queue"]
    (problem,) = problems
    assert "largest: m7i.large: 2 vCPUs, 8192 MiB" in problem
    assert "S/Queue" in problem and "S/Env" in problem and "RUNNABLE" in problem
    assert "m7i.4xlarge" in problem


def test_family_is_judged_by_its_largest_size() -> None:
    assert _rules.fit_problem(JobRequirements("EC2", 192, 2048), ec2("m7i", max_vcpus=256)) is None
    found = _rules.fit_problem(JobRequirements("EC2", 193, 2048), ec2("m7i", max_vcpus=256))
    assert found and "m7i.48xlarge" in found[0]


def test_gpu_job_needs_gpu_instances() -> None:
    assert _rules.fit_problem(JobRequirements("EC2", 4, 8192, gpus=1), ec2("m7i")) is not None
    assert _rules.fit_problem(JobRequirements("EC2", 4, 8192, gpus=1), ec2("g5")) is None
    assert _rules.fit_problem(JobRequirements("EC2", 4, 8192, gpus=8), ec2("g5")) is None
    found = _rules.fit_problem(JobRequirements("EC2", 4, 8192, gpus=9), ec2("g5"))
    assert found and "9 GPUs" in found[0]
    cpu_queue = _rules.job_fits_queue(JobRequirements("EC2", 4, 8192, gpus=1), "Q", [("E", ec2("m7i"))])
    assert "g4dn.xlarge" in cpu_queue[0] or "g5.xlarge" in cpu_queue[0]


def test_max_vcpus() -> None:
    assert _rules.fit_problem(JobRequirements("EC2", 16, 2048), ec2("m7i", max_vcpus=16)) is None
    found = _rules.fit_problem(JobRequirements("EC2", 16, 2048), ec2("m7i", max_vcpus=8))
    assert found and "max_vcpus=8" in found[0] and "at least 16" in found[1]


def test_multinode_max_vcpus_counts_every_node() -> None:
    job = JobRequirements("EC2", 72, 2048, instance_type="c5n.18xlarge", multinode=True, nodes=4)
    assert _rules.fit_problem(job, ec2("c5n.18xlarge", max_vcpus=288)) is None
    found = _rules.fit_problem(job, ec2("c5n.18xlarge", max_vcpus=287))
    assert found and "4 nodes x 72 vCPUs" in found[0]


def test_multinode_max_vcpus_counts_whole_instances() -> None:
    """Nodes are single-tenant (one container per instance): 8 one-vCPU nodes on c5n.18xlarge take 8 x 72 vCPUs."""
    groups = [(8, "c5n.18xlarge", 1.0)]
    total = _rules.multinode_instance_vcpus(groups)
    assert total == 576
    job = JobRequirements("EC2", 1, 2048, instance_type="c5n.18xlarge", multinode=True, nodes=8, instance_vcpus=total)
    found = _rules.fit_problem(job, ec2("c5n.18xlarge", max_vcpus=512))
    assert found and "max_vcpus=512 is less than the job's 576 vCPUs of instances (one instance per node" in found[0]
    assert "at least 576, or run fewer or smaller nodes" in found[1]
    assert _rules.fit_problem(job, ec2("c5n.18xlarge", max_vcpus=576)) is None


def test_multinode_instance_vcpus_add_every_group() -> None:
    # a small main node and GPU workers: each group's nodes take instances of its own type
    assert _rules.multinode_instance_vcpus([(1, "m5.large", 1.0), (3, "p4d.24xlarge", 90.0)]) == 2 + 3 * 96
    # an instance type the library does not know counts the container's vCPUs (a lower bound)
    assert _rules.multinode_instance_vcpus([(2, "zz9.huge", 7.0), (1, None, 3.0)]) == 17


def test_multinode_instance_type_must_be_launched() -> None:
    job = JobRequirements("EC2", 4, 2048, instance_type="c5n.18xlarge", multinode=True, nodes=2)
    found = _rules.fit_problem(job, ec2("m7i"))
    assert found and "never launches c5n.18xlarge" in found[0]
    # A family includes its types; an "optimal" environment may launch anything.
    assert _rules.fit_problem(job, ec2("c5n")) is None
    optimal = EnvironmentCapacity(platform="EC2", spot=False, instance_families=frozenset({"optimal"}))
    assert _rules.fit_problem(job, optimal) is None


def test_multinode_size_is_the_instance_type() -> None:
    job = JobRequirements("EC2", 73, 2048, instance_type="c5n.18xlarge", multinode=True, nodes=2)
    found = _rules.fit_problem(job, ec2("c5n.18xlarge", max_vcpus=1000))
    assert found and "c5n.18xlarge" in found[0]


def test_multinode_needs_on_demand_managed_ec2() -> None:
    job = JobRequirements("EC2", 1, 2048, multinode=True, nodes=2)
    assert _rules.fit_problem(job, ec2("m7i", spot=True)) is not None
    unmanaged = EnvironmentCapacity(platform="EC2", spot=False, managed=False)
    found = _rules.fit_problem(job, unmanaged)
    assert found and "unmanaged" in found[0]


def test_unknown_instance_types_never_reject() -> None:
    unknown = ec2("x8g.48xlarge", max_vcpus=None)
    assert unknown.shapes is None
    assert _rules.fit_problem(JobRequirements("EC2", 1000, 10_000_000, gpus=16), unknown) is None


def test_queue_fit_needs_only_one_environment() -> None:
    envs = [("S/Small", ec2("m7i.large")), ("S/Big", ec2("m7i"))]
    assert _rules.job_fits_queue(JobRequirements("EC2", 16, 2048), "S/Q", envs) == []
    assert _rules.job_fits_queue(JobRequirements("EC2", 16, 2048), "S/Q", []) == []


def test_architecture_mismatch() -> None:
    job = JobRequirements("EC2", 1, 2048, architecture="ARM64")
    found = _rules.fit_problem(job, ec2("m7i"))
    assert found and "X86_64" in found[0]
    assert _rules.fit_problem(job, ec2("m7g")) is None


def test_memory_headroom() -> None:
    envs = [("S/E", ec2("m7i.large"))]  # 8192 MiB nominal
    assert _rules.memory_headroom(JobRequirements("EC2", 1, 7782), envs) is None  # 95%
    warning = _rules.memory_headroom(JobRequirements("EC2", 1, 7783), envs)
    assert warning and "m7i.large" in warning and "7782 MiB" in warning and "m7i.xlarge" in warning
    assert _rules.memory_headroom(JobRequirements("EC2", 1, 8193), envs) is None  # an error, not a warning
    # a roomier environment behind the same queue takes it
    assert _rules.memory_headroom(JobRequirements("EC2", 1, 8000), [*envs, ("S/F", ec2("m7i"))]) is None
    # unknown sizes and Fargate are never warned about
    assert _rules.memory_headroom(JobRequirements("EC2", 1, 8000), [("S/U", ec2("zz9.large"))]) is None
    assert _rules.memory_headroom(JobRequirements("FARGATE", 1, 8192), [("S/F", FARGATE)]) is None


# ------------------------------------------------------------------------------------------------------------- queues


def test_queue_environment_count() -> None:
    envs = [(f"S/E{i}", FARGATE) for i in range(4)]
    assert _rules.queue_environments(envs[:3]) == []
    assert ids(_rules.queue_environments(envs)) == ["queue-environments"]
    assert ids(_rules.queue_environments([])) == ["queue-environments"]
    assert _rules.queue_environments([], allow_empty=True) == []


def test_queue_mixing() -> None:
    assert ids(_rules.queue_environments([("S/F", FARGATE), ("S/E", ec2("m7i"))])) == ["queue-mixed-platform"]
    assert _rules.queue_environments([("S/F", FARGATE_SPOT), ("S/G", FARGATE)]) == []
    problems = _rules.queue_environments([("S/A", ec2("m7g")), ("S/B", ec2("m7i"))])
    assert ids(problems) == ["queue-mixed-architecture"]
    assert "S/A: ARM64" in problems[0] and "S/B: X86_64" in problems[0]


def test_queue_order() -> None:
    assert _rules.queue_order([("S/A", 1), ("S/B", 2)]) == []
    assert ids(_rules.queue_order([("S/A", 1), ("S/B", 1)])) == ["queue-order"]
    assert ids(_rules.queue_order([("S/A", 1), ("S/A", 2)])) == ["queue-order"]


@pytest.mark.parametrize(("value", "ok"), [(0, True), (1000, True), (-1, False), (1001, False)])
def test_queue_priority(value: int, ok: bool) -> None:
    assert (_rules.queue_priority(value) == []) is ok


@pytest.mark.parametrize(("value", "ok"), [(600, True), (86400, True), (599, False), (86401, False)])
def test_queue_time_limit(value: int, ok: bool) -> None:
    assert (_rules.queue_time_limit("JOB_RESOURCE_REQUIREMENT", value) == []) is ok


def test_fair_share_shares() -> None:
    assert _rules.fair_share_shares({"teamA": 0.0001, "teamB": 999.9999, "ops*": 1}) == []
    assert ids(_rules.fair_share_shares({"teamA": 0})) == ["fair-share-shares"]
    assert ids(_rules.fair_share_shares({"teamA": 1000})) == ["fair-share-shares"]
    assert ids(_rules.fair_share_shares({"": 1})) == ["fair-share-shares"]
    assert ids(_rules.fair_share_shares({"a*b": 1})) == ["fair-share-shares"]
    assert ids(_rules.fair_share_shares({"x" * 255: 1})) == []
    assert ids(_rules.fair_share_shares({"x" * 256: 1})) == ["fair-share-shares"]
    overlap = _rules.fair_share_shares({"UserA*": 1, "UserA1": 1})
    assert ids(overlap) == ["fair-share-shares"] and "'UserA1'" in overlap[0]
    assert ids(_rules.fair_share_shares({f"s{i}": 1 for i in range(501)})) == ["fair-share-shares"]


@pytest.mark.parametrize(
    ("decay", "reservation", "ok"),
    [
        (0, 0, True),
        (604_800, 99, True),
        (None, None, True),
        (-1, None, False),
        (604_801, None, False),
        (None, -1, False),
        (None, 100, False),
    ],
)
def test_fair_share_policy(decay: int | None, reservation: int | None, ok: bool) -> None:
    problems = _rules.fair_share_policy(decay, reservation)
    assert ids(problems) == ([] if ok else ["fair-share-policy"])


def test_share_identifier() -> None:
    assert _rules.share_identifier("S/Q", True, "teamA") == []
    assert _rules.share_identifier("S/Q", False, None) == []
    assert ids(_rules.share_identifier("S/Q", True, None)) == ["share-identifier"]
    assert ids(_rules.share_identifier("S/Q", False, "teamA")) == ["share-identifier"]
    assert ids(_rules.share_identifier("S/Q", True, "x" * 256)) == ["share-identifier"]
    assert _rules.share_identifier("S/Q", True, "${Token[TOKEN.1]}") == []


@pytest.mark.parametrize(
    ("listed", "value", "hint"),
    [
        (("teamA", "teamB"), "teamA", None),  # listed exactly
        (("ml*", "teamB"), "ml-research", None),  # a prefix entry names it
        (("ml*",), "ml", None),  # the prefix itself
        ((), "anything", None),  # the policy's identifiers are not known
        (("teamA",), None, None),  # no identifier (the share-identifier rule's concern)
        (("teamA",), "${Token[TOKEN.9]}", None),  # decided at deploy or run time
        (("teamA", "teamB"), "teama", "did you mean 'teamA'?"),  # another case
        (("teamA", "teamB"), "team-b", "did you mean 'teamB'?"),  # a separator
        (("ml*", "teamB"), "ML", "starting with 'ml' (the policy's 'ml*')?"),  # the prefix in another case
        (("ml*", "teamB"), "ML-research", "starting with 'ml' (the policy's 'ml*')?"),  # an identifier under it
        (("research", "teamB"), "reserch", "did you mean 'research'?"),  # a close spelling
        (("teamA", "teamB"), "zzz", ""),  # unlisted, nothing like it
        (("ml*",), "m", ""),  # shorter than the prefix
    ],
)
def test_unlisted_share(listed: tuple[str, ...], value: str | None, hint: str | None) -> None:
    message = _rules.unlisted_share("S/Q", listed, value)
    if hint is None:
        assert message is None
        return
    assert message is not None
    assert f"share_identifier={value!r} matches none of the fair-share identifiers of queue S/Q" in message
    assert "default weight 1.0" in message and "acknowledge" in message
    assert (hint in message) if hint else ("did you mean" not in message)


def test_unlisted_share_lists_at_most_ten_identifiers() -> None:
    message = _rules.unlisted_share("S/Q", [f"t{i:02}" for i in range(12)], "other")
    assert message is not None and "'t09' ..." in message and "'t10'" not in message


def test_fair_share_priority() -> None:
    assert _rules.fair_share_priority("S/Q", True, 0) == []
    assert _rules.fair_share_priority("S/Q", False, None) == []
    assert ids(_rules.fair_share_priority("S/Q", True, None)) == ["fair-share-priority"]
    # a submitter of the job to that queue may pass the priority at submit instead
    submitted = _rules.fair_share_priority("S/Q", True, None, submission="the state machine: job S/J")
    assert submitted and "the state machine: job S/J has no scheduling_priority" in submitted[0]
    assert _rules.fair_share_priority("S/Q", True, None, submission="the state machine: job S/J", override=5) == []


@pytest.mark.parametrize(("value", "ok"), [(0, True), (9999, True), (-1, False), (10000, False)])
def test_scheduling_priority(value: int, ok: bool) -> None:
    assert (_rules.scheduling_priority(value) == []) is ok


# ------------------------------------------------------------------------------------------------------------ retries

CATCH_ALL = ("EXIT", {"on_reason": "*"})
SPOT = ("RETRY", {"on_status_reason": "Host EC2*"})


@pytest.mark.parametrize(("attempts", "ok"), [(1, True), (10, True), (0, False), (11, False)])
def test_retry_attempts(attempts: int, ok: bool) -> None:
    assert (_rules.retry(attempts, []) == []) is ok


def test_retry_conditions_limit() -> None:
    assert _rules.retry(5, [SPOT] * 4 + [CATCH_ALL]) == []
    assert ids(_rules.retry(5, [SPOT] * 5 + [CATCH_ALL])) == ["retry-conditions"]


def test_retry_conditions_need_attempts() -> None:
    assert _rules.retry(2, [SPOT, CATCH_ALL]) == []
    assert ids(_rules.retry(1, [SPOT, CATCH_ALL])) == ["retry-conditions"]
    assert _rules.retry(None, [SPOT, CATCH_ALL]) == []  # a token count is not checked


def test_retry_condition_shape() -> None:
    assert ids(_rules.retry(3, [("EXIT", {})])) == ["retry-conditions", "retry-catch-all"]
    assert ids(_rules.retry(3, [("MAYBE", {"on_reason": "x"}), CATCH_ALL])) == ["retry-conditions"]
    assert _rules.retry(3, [("retry", {"on_reason": "x"}), ("exit", {"on_reason": "*"})]) == []


def test_retry_catch_all() -> None:
    problems = _rules.retry(3, [SPOT])
    assert ids(problems) == ["retry-catch-all"] and "exit_on_anything()" in problems[0]
    assert ids(_rules.retry(3, [("EXIT", {"on_exit_code": "1"})])) == ["retry-catch-all"]
    assert ids(_rules.retry(3, [CATCH_ALL, SPOT])) == ["retry-catch-all"]
    assert _rules.retry(3, [("EXIT", {"on_exit_code": "*", "on_reason": "*"})]) == []


@pytest.mark.parametrize(
    ("key", "pattern", "ok"),
    [
        ("on_exit_code", "137", True),
        ("on_exit_code", "1*", True),
        ("on_exit_code", "*", True),
        ("on_exit_code", "1*3", False),
        ("on_exit_code", "-1", False),
        ("on_exit_code", "", False),
        ("on_reason", "CannotPullContainerError:*", True),
        ("on_reason", "Out of memory.", True),
        ("on_reason", "*Spot*", False),
        ("on_reason", "Task failed (OOM)", False),
        ("on_status_reason", "Host EC2*", True),
        ("on_status_reason", "a" * 512, True),
        ("on_status_reason", "a" * 513, False),
        ("on_status_reason", "${Token[TOKEN.3]}", True),
    ],
)
def test_retry_patterns(key: str, pattern: str, ok: bool) -> None:
    problems = _rules.retry_pattern(0, key, pattern)
    assert (problems == []) is ok, problems
    if not ok:
        assert ids(problems) == ["retry-pattern"]


def test_retry_pattern_fix_suggests_a_prefix() -> None:
    (problem,) = _rules.retry_pattern(0, "on_reason", "Task failed (OOM)")
    assert "'Task failed *'" in problem


@pytest.mark.parametrize(("seconds", "ok"), [(60, True), (59, False), (59.9, False)])
def test_timeout(seconds: float, ok: bool) -> None:
    assert (_rules.timeout(seconds) == []) is ok


@pytest.mark.parametrize(("size", "ok"), [(2, True), (10_000, True), (1, False), (10_001, False)])
def test_array_size(size: int, ok: bool) -> None:
    assert (_rules.array_size(size) == []) is ok


@pytest.mark.parametrize(("count", "ok"), [(0, True), (20, True), (21, False)])
def test_dependencies(count: int, ok: bool) -> None:
    assert (_rules.dependencies(count) == []) is ok


@pytest.mark.parametrize(("gib", "ok"), [(21, True), (200, True), (20, False), (201, False)])
def test_ephemeral_storage(gib: int, ok: bool) -> None:
    assert (_rules.ephemeral_storage(gib) == []) is ok


# --------------------------------------------------------------------------------------------------------- multi-node


def test_multinode_ranges_cover_all_nodes() -> None:
    assert _rules.multinode_ranges(4, [(0, 0), (1, 3)], 0) == []
    assert _rules.multinode_ranges(1, [(0, 0)], 0) == []
    assert _rules.multinode_ranges(10, [(0, 9), (4, 5)], 0) == []  # nested ranges override (API_NodeRangeProperty)
    gap = _rules.multinode_ranges(4, [(0, 0), (2, 3)], 0)
    assert ids(gap) == ["multinode-ranges"] and "leave nodes 1 without" in gap[0]
    assert ids(_rules.multinode_ranges(4, [(0, 4)], 0)) == ["multinode-ranges"]
    assert ids(_rules.multinode_ranges(4, [(3, 0)], 0)) == ["multinode-ranges", "multinode-ranges"]


def test_multinode_groups_and_main_node() -> None:
    five = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5)]
    assert _rules.multinode_ranges(6, five, 5) == []
    assert ids(_rules.multinode_ranges(7, [*five, (6, 6)], 0)) == ["multinode-nodes"]
    assert ids(_rules.multinode_ranges(6, five, 6)) == ["multinode-main-node"]
    assert ids(_rules.multinode_ranges(6, five, -1)) == ["multinode-main-node"]
    assert ids(_rules.multinode_ranges(0, [], 0)) == ["multinode-nodes"]


def test_multinode_environments() -> None:
    assert _rules.multinode_environments([("S/E", ec2("c5n.18xlarge"))]) == []
    assert ids(_rules.multinode_environments([("S/S", ec2("m7i", spot=True))])) == ["multinode-environment"]
    assert ids(_rules.multinode_environments([("S/F", FARGATE)])) == ["multinode-environment"]


@pytest.mark.parametrize(
    ("instance_type", "ok"),
    [
        ("c5n.18xlarge", True),
        ("p5.48xlarge", True),
        ("trn1.32xlarge", True),  # unknown to the library: never rejected
        ("t3.micro", False),
        ("m7i.large", False),
        ("c5.24xlarge", False),
        ("m6g.16xlarge", False),
        ("zz9n.large", True),  # an unknown family, even at a small size: never rejected
    ],
)
def test_efa_instance_type(instance_type: str, ok: bool) -> None:
    problems = _rules.efa_instance_type(instance_type)
    assert (problems == []) is ok
    if not ok:
        assert ids(problems) == ["efa-instance-type"] and instance_type in problems[0]


def test_efa_environments() -> None:
    assert _rules.efa_environments([("S/E", ec2("c5n.18xlarge", efa=True))]) == []
    assert _rules.efa_environments([("S/L2", ec2("c5n.18xlarge", efa=None))]) == []  # unknown: skipped
    assert ids(_rules.efa_environments([("S/E", ec2("c5n.18xlarge"))])) == ["efa-environment"]


# ------------------------------------------------------------------------------------------------------ environments


def test_environment_vcpus() -> None:
    assert _rules.environment_vcpus(0, 1) == []
    assert _rules.environment_vcpus(8, 8) == []
    assert ids(_rules.environment_vcpus(0, 0)) == ["environment-vcpus"]
    assert ids(_rules.environment_vcpus(9, 8)) == ["environment-vcpus"]
    assert ids(_rules.environment_vcpus(-1, 8)) == ["environment-vcpus"]


def test_environment_instances_and_architecture() -> None:
    assert _rules.environment_instances(["m7g.large"], ["c7g"]) == []
    assert ids(_rules.environment_instances([], [])) == ["environment-instances"]
    assert ids(_rules.environment_instances(["m7g.large"], ["m7i"])) == ["environment-architecture"]
    assert ids(_rules.environment_instances([], ["a1", "optimal"])) == ["environment-architecture"]


def test_spot_settings() -> None:
    assert _rules.spot_settings(True, "SPOT_PRICE_CAPACITY_OPTIMIZED", None, False) == []
    assert _rules.spot_settings(True, "BEST_FIT", 100, True) == []
    assert _rules.spot_settings(True, "BEST_FIT", 1, True) == []
    assert ids(_rules.spot_settings(False, "SPOT_CAPACITY_OPTIMIZED", None, False)) == ["spot-strategy"]
    assert ids(_rules.spot_settings(True, "BEST_FIT", 0, False)) == ["spot-bid"]
    assert ids(_rules.spot_settings(True, "BEST_FIT", 101, False)) == ["spot-bid"]
    assert ids(_rules.spot_settings(False, "BEST_FIT_PROGRESSIVE", 50, False)) == ["spot-bid"]
    assert ids(_rules.spot_settings(False, "BEST_FIT", None, True)) == ["spot-fleet-role"]


def test_gpu_instances() -> None:
    assert _rules.gpu_instances(["g5", "p4d.24xlarge"]) == []
    assert _rules.gpu_instances(["unknown9"]) == []
    problems = _rules.gpu_instances(["g5", "m7i", "c5.large"])
    assert ids(problems) == ["gpu-instances"] and "m7i, c5.large" in problems[0]


def test_gpu_image() -> None:
    assert _rules.gpu_image(["g5"], [("ECS_AL2023_NVIDIA", False)]) == []
    assert _rules.gpu_image(["g5"], [("ECS_AL2023", True)]) == []  # custom AMI: trusted
    assert _rules.gpu_image(["m7i"], [("ECS_AL2023", False)]) == []
    assert ids(_rules.gpu_image(["g5"], [("ECS_AL2023", False)])) == ["gpu-image"]


# ----------------------------------------------------------------------------------------------------- capacity data


@pytest.mark.parametrize(
    ("name", "arch"),
    [
        ("m7g.large", "ARM64"),
        ("c6gn", "ARM64"),
        ("hpc7g.16xlarge", "ARM64"),
        ("g5g.xlarge", "ARM64"),
        ("a1.large", "ARM64"),
        ("default_arm64", "ARM64"),
        ("g5.xlarge", "X86_64"),
        ("g4dn", "X86_64"),
        ("m7i", "X86_64"),
        ("optimal", "X86_64"),
    ],
)
def test_architecture_of(name: str, arch: str) -> None:
    assert _capacity.architecture_of(name) == arch


@pytest.mark.parametrize(
    ("instance_type", "vcpus", "memory_gib", "gpus"),
    [
        ("m5.large", 2, 8, 0),
        ("c5.18xlarge", 72, 144, 0),
        ("r5.24xlarge", 96, 768, 0),
        ("m6i.32xlarge", 128, 512, 0),
        ("m7i.48xlarge", 192, 768, 0),
        ("c7g.16xlarge", 64, 128, 0),
        ("r7g.16xlarge", 64, 512, 0),
        ("c5n.18xlarge", 72, 192, 0),
        ("hpc6a.48xlarge", 96, 384, 0),
        ("g4dn.12xlarge", 48, 192, 4),
        ("g5.48xlarge", 192, 768, 8),
        ("g6e.xlarge", 4, 32, 1),
        ("p3.16xlarge", 64, 488, 8),
        ("p4d.24xlarge", 96, 1152, 8),
        ("p5.48xlarge", 192, 2048, 8),
    ],
)
def test_instance_sizes(instance_type: str, vcpus: int, memory_gib: int, gpus: int) -> None:
    assert _capacity.shape_of(instance_type) == InstanceShape(instance_type, vcpus, memory_gib * 1024, gpus)


def test_sizes_beyond_a_family_are_unknown() -> None:
    assert _capacity.shape_of("m7g.24xlarge") is None
    assert _capacity.shape_of("m6i.48xlarge") is None
    assert _capacity.shape_of("made.up") is None


def test_efa_types_are_known_sizes() -> None:
    for name in _capacity.EFA_TYPES:
        assert _capacity.efa_support(name) is True
        size = name.partition(".")[2]
        assert size not in ("large", "xlarge", "2xlarge"), name


def test_fargate_shapes_match_the_memory_table() -> None:
    assert [(s.vcpus, s.memory_mib) for s in FARGATE_SHAPES] == [
        (0.25, 2048),
        (0.5, 4096),
        (1, 8192),
        (2, 16384),
        (4, 30720),
        (8, 61440),
        (16, 122880),
        (32, 249856),  # botocore Batch model, ResourceRequirement: 32 vCPU takes 61440, 122880 or 249856 MiB
    ]


# ------------------------------------------------------------------------------------------------------ documentation

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "validation.md"


def documented_ids(section: str) -> list[str]:
    """The ids in the first column of the table under ``## <section>`` of docs/validation.md."""
    text = DOC.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9-]+)` \|", body, re.M)


def test_the_documented_tables_are_generated_from_the_registry() -> None:
    assert registry.markdown_tables() in DOC.read_text(), (
        "docs/validation.md is out of step: paste `python -m batch_constructs.model.registry` under ## Rules"
    )
    assert len(documented_ids("Rules")) == len(registry.RULES)
    assert len(documented_ids("Warnings")) == len(registry.WARNINGS)


def package_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "batch_constructs").rglob("*.py")}


def test_call_sites_pass_rule_objects_never_id_strings() -> None:
    # A rule id typed as a string at a call site can drift from its declaration: every problem and warning is
    # reported through a registry object (registry.TIMEOUT.fix(...), warn(scope, registry.X_WARNING, ...)).
    patterns = (r'\bfix\(\s*"[a-z0-9-]+",', r'\bint_range\(\s*"', r'"\[[a-z0-9-]+\] ', r'\bwarn\(\s*[\w.]+,\s*"')
    offenders = {
        path: pattern
        for path, text in package_sources().items()
        for pattern in patterns
        if re.search(pattern, text) and not path.endswith("registry.py")
    }
    assert not offenders


def test_every_declared_rule_and_warning_is_used() -> None:
    sources = "\n".join(text for path, text in package_sources().items() if not path.endswith("registry.py"))
    declared = {r.id.upper().replace("-", "_") for r in registry.all_rules()}
    declared |= {w.id.upper().replace("-", "_") + "_WARNING" for w in registry.all_warnings()}
    unused = sorted(name for name in declared if not re.search(rf"\bregistry\.{name}\b", sources))
    assert not unused, f"declared but never reported: {unused}"


def test_ids_are_unique_and_well_formed() -> None:
    for item in (*registry.all_rules(), *registry.all_warnings()):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item.id), item
    assert len({r.id for r in registry.all_rules()}) == len(registry.all_rules())
    assert all(r.source for r in registry.all_rules()), "every rule names its source"


def test_secret_endpoints_are_checked_only_where_the_job_can_run_without_a_nat() -> None:
    job = JobRequirements("FARGATE", 1, 2048, secret_services=frozenset({"secretsmanager", "ssm"}))
    isolated = EnvironmentCapacity("FARGATE", False, shapes=FARGATE_SHAPES, isolated_endpoints=frozenset({"ssm"}))
    # an environment with a NAT (or unknown subnets), or one the job cannot run on, is not checked
    unknown = EnvironmentCapacity("FARGATE", False, shapes=FARGATE_SHAPES)
    ec2 = EnvironmentCapacity("EC2", False, isolated_endpoints=frozenset())
    assert _rules.secret_endpoints([job], "Q", [("Nat", unknown), ("Ec2", ec2)]) == []
    # every environment the job can run on is, since the scheduler may place it on any of them
    problems = _rules.secret_endpoints([job], "Q", [("Nat", unknown), ("Isolated", isolated)])
    assert len(problems) == 1 and problems[0].startswith("[network-egress] the job reads Secrets Manager secrets")
    assert "Isolated (queue Q)" in problems[0] and "without the secretsmanager interface endpoint" in problems[0]
    # a job without secrets needs nothing
    assert _rules.secret_endpoints([JobRequirements("FARGATE", 1, 2048)], "Q", [("Isolated", isolated)]) == []
    # the requirements of one job (node groups) are one job: each environment is named once, whatever fits it
    group = JobRequirements("FARGATE", 64, 2048, secret_services=frozenset({"ssm"}))  # fits no Fargate shape
    (once,) = _rules.secret_endpoints([job, group, job], "Q", [("Isolated", isolated)])
    assert "without the secretsmanager interface endpoint" in once
