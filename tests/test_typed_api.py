"""A typed public API: no ``Any``/``**kwargs`` in public signatures, mypy catches misuse, wrong types fail clearly."""

from __future__ import annotations

import inspect
import pathlib
import re
import subprocess
import sys

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_ecs as ecs

import batch_constructs
from batch_constructs import (
    BatchConfigurationError,
    BatchPlatform,
    Container,
    ContainerJob,
    MultiContainerJob,
    MultiNodeJob,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
TYPING = pathlib.Path(__file__).resolve().parent / "typing"


def _public_callables() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name in batch_constructs.__all__:
        obj = getattr(batch_constructs, name)
        if inspect.isclass(obj) and obj.__module__.startswith("batch_constructs"):
            for attr, member in vars(obj).items():
                if attr == "__init__" or (not attr.startswith("_") and inspect.isfunction(member)):
                    found.append((f"{name}.{attr}", member))
                elif isinstance(member, staticmethod | classmethod) and not attr.startswith("_"):
                    found.append((f"{name}.{attr}", member.__func__))
        elif inspect.isfunction(obj):
            found.append((name, obj))
    return found


def test_no_any_or_var_keyword_in_public_signatures() -> None:
    # GIVEN every public class's constructor and public methods, and every public function
    callables = _public_callables()
    assert len(callables) > 50
    # WHEN their signatures are inspected THEN none takes **kwargs/*args or annotates a parameter or result with Any
    offenders = []
    for name, func in callables:
        signature = inspect.signature(func)  # type: ignore[arg-type]
        for param in signature.parameters.values():
            if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                offenders.append(f"{name}: {param}")
            if re.search(r"\bAny\b", str(param.annotation)):
                offenders.append(f"{name}: {param.name}: {param.annotation}")
        if re.search(r"\bAny\b", str(signature.return_annotation)):
            offenders.append(f"{name} -> {signature.return_annotation}")
    assert offenders == []


def test_the_check_sees_kwargs() -> None:
    # A checker that cannot fail is a defect: the same inspection flags a **kwargs signature.
    def sample(**kwargs: object) -> None: ...

    assert any(p.kind is p.VAR_KEYWORD for p in inspect.signature(sample).parameters.values())


def test_add_job_takes_exactly_container_job_parameters() -> None:
    job = inspect.signature(ContainerJob.__init__).parameters
    add = inspect.signature(BatchPlatform.add_job).parameters
    expected = [(p.name, p.annotation, p.default) for p in job.values() if p.name not in ("self", "scope")]
    assert [(p.name, p.annotation, p.default) for p in add.values() if p.name != "self"] == expected


def test_help_names_only_accepted_parameters() -> None:
    # help() of the environments that used to take **kwargs lists their real parameters (and no 'spot' for Spot ones)
    for cls, absent in (
        (batch_constructs.SpotEnvironment, "spot"),
        (batch_constructs.FargateSpotEnvironment, "spot"),
    ):
        params = inspect.signature(cls.__init__).parameters
        assert "network" in params and "max_vcpus" in params and absent not in params
        assert f"    {absent}:" not in (cls.__init__.__doc__ or "")
    assert "spot" in inspect.signature(batch_constructs.GpuEnvironment.__init__).parameters


def _mypy(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )


def test_mypy_accepts_correct_uses() -> None:
    result = _mypy(TYPING / "correct.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_rejects_every_misuse() -> None:
    # GIVEN a file whose every line marked '# error' misuses the API (typos, wrong types, wrong literals)
    source = (TYPING / "misuse.py").read_text().splitlines()
    marked = {i for i, line in enumerate(source, start=1) if line.rstrip().endswith("# error")}
    assert len(marked) >= 10
    # WHEN mypy --strict checks it
    result = _mypy(TYPING / "misuse.py")
    # THEN it fails with an error on each marked line, and on no other line
    reported = {int(m) for m in re.findall(r"misuse\.py:(\d+): error", result.stdout)}
    assert result.returncode != 0
    assert reported == marked, result.stdout


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Types")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory": 2048}, r"memory is int 2048, expected Size\. Fix: pass Size\.mebibytes\(2048\)"),
        ({"timeout": 60}, r"timeout is int 60, expected Duration\. Fix: pass Duration\.seconds\(60\)"),
        ({"command": "python job.py"}, r"command is str 'python job.py', expected a sequence of str"),
        ({"platform": "fargate"}, r"platform is str 'fargate', expected one of 'FARGATE', 'EC2'"),
        ({"architecture": "ARM64"}, r"architecture is str 'ARM64', expected aws_ecs\.CpuArchitecture\. Fix: pass "),
        ({"vcpus": "2"}, r"vcpus is str '2', expected float"),
        ({"shared_memory_size": 64, "platform": "EC2"}, r"shared_memory_size is int 64, expected Size"),
        ({"init_process": "yes"}, r"init_process is str 'yes', expected bool"),
    ],
)
def test_wrong_types_name_parameter_received_and_expected(
    stack: cdk.Stack, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[argument-type\] " + message):
        ContainerJob(stack, f"Bad{abs(hash(str(kwargs)))}", image="x", **kwargs)  # type: ignore[arg-type]


def test_every_wrong_argument_is_reported_at_once(stack: cdk.Stack) -> None:
    with pytest.raises(BatchConfigurationError) as caught:
        MultiNodeJob(stack, "BadNodes", image="x", nodes="2", memory=4096, timeout=Duration.minutes(5))  # type: ignore[arg-type]
    assert [p.split(" is ")[0] for p in caught.value.problems] == ["[argument-type] nodes", "[argument-type] memory"]


def test_container_specs_are_checked(stack: cdk.Stack) -> None:
    with pytest.raises(BatchConfigurationError, match=r"containers\[1\]\.memory is int 512, expected Size"):
        MultiContainerJob(
            stack,
            "BadSpec",
            containers=[Container("a", "x"), Container("b", "y", memory=512)],  # type: ignore[arg-type]
        )


def test_right_types_pass(stack: cdk.Stack) -> None:
    job = ContainerJob(
        stack,
        "Fine",
        image=ecs.ContainerImage.from_registry("x"),
        vcpus=1,
        memory=Size.gibibytes(2),
        architecture=ecs.CpuArchitecture.ARM64,
    )
    assert job.platform == "FARGATE"


def test_environments_check_their_arguments(stack: cdk.Stack) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[argument-type\] max_vcpus is str '64', expected int"):
        batch_constructs.Ec2Environment(stack, "BadEnv", max_vcpus="64")  # type: ignore[arg-type]
    with pytest.raises(
        BatchConfigurationError, match=r"\[argument-type\] instance_classes is str 'm7i', expected a sequence of"
    ):
        batch_constructs.SpotEnvironment(stack, "BadSpot", instance_classes="m7i")  # type: ignore[arg-type]
    with pytest.raises(BatchConfigurationError, match=r"container_insights is str 'on', expected one of 'ENABLED'"):
        batch_constructs.FargateSpotEnvironment(stack, "BadFargate", container_insights="on")  # type: ignore[arg-type]


def test_help_shows_readable_defaults() -> None:
    # GIVEN the signature help() prints WHEN a default is a Size or Duration THEN it reads as the code that makes it
    for cls in (
        ContainerJob,
        MultiNodeJob,
        MultiContainerJob,
        batch_constructs.BatchQueue,
        batch_constructs.ScheduledJob,
    ):
        text = str(inspect.signature(cls.__init__))
        assert " object at 0x" not in text, (cls.__name__, text)
    text = str(inspect.signature(ContainerJob.__init__))
    assert "memory: 'Size' = Size.gibibytes(2)" in text or "memory: Size = Size.gibibytes(2)" in text
    assert "Duration.hours(1)" in text


def test_subclass_environments_accept_every_parameter_of_their_base() -> None:
    # a parameter added to Ec2Environment must reach SpotEnvironment and GpuEnvironment too (explicit signatures)
    base = set(inspect.signature(batch_constructs.Ec2Environment.__init__).parameters)
    assert base - set(inspect.signature(batch_constructs.SpotEnvironment.__init__).parameters) == {"spot"}
    assert base - set(inspect.signature(batch_constructs.GpuEnvironment.__init__).parameters) == set()
    fargate = set(inspect.signature(batch_constructs.FargateEnvironment.__init__).parameters)
    assert fargate - set(inspect.signature(batch_constructs.FargateSpotEnvironment.__init__).parameters) == {"spot"}
