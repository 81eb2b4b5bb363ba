"""What the library reads through jsii once and remembers gives the same answers as asking CDK each time."""

from __future__ import annotations

import math
import random
import struct

import aws_cdk as cdk
from aws_cdk import Duration, Size, Token
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from batch_constructs import BatchPlatform
from batch_constructs._internal import logs as _logs
from batch_constructs._internal.limits import CHECKS_ID, register_stack_checks
from batch_constructs._internal.memo import (
    adopt_stack,
    arm64,
    gibibytes_of,
    known_seconds,
    mebibytes_of,
    path_of,
    same_object,
    seconds_of,
    stack_of,
    x86_64,
)
from batch_constructs._internal.validation import _is_token

from ..helpers import new_app


def test_stack_and_path_are_cdks_answers_and_read_once() -> None:
    # GIVEN a construct two levels under a stack, and one in a nested stack
    stack = cdk.Stack(new_app(), "Memo")
    inner = Construct(Construct(stack, "Outer"), "Inner")
    nested = cdk.NestedStack(stack, "Nested")
    deep = Construct(nested, "Deep")
    # THEN the answers are CDK's (the nearest stack: the nested one), and a second read comes from the object
    assert stack_of(inner) is stack and path_of(inner) == "Memo/Outer/Inner"
    assert stack_of(deep) is nested and stack_of(nested) is nested
    assert inner._batch_constructs_stack is stack and inner._batch_constructs_path == "Memo/Outer/Inner"  # type: ignore[attr-defined]
    assert stack_of(stack) is stack


def test_adopted_stack_comes_from_the_parent_only_when_known() -> None:
    stack = cdk.Stack(new_app(), "Adopt")
    child = Construct(stack, "Child")
    adopt_stack(child, stack)
    assert child._batch_constructs_stack is stack  # type: ignore[attr-defined]
    # a parent whose stack is not known yet gives nothing (the child asks CDK when needed)
    loose_parent = Construct(stack, "Loose")
    grandchild = Construct(loose_parent, "Grandchild")
    adopt_stack(grandchild, loose_parent)
    assert not hasattr(grandchild, "_batch_constructs_stack") and stack_of(grandchild) is stack


def test_seconds_are_cdks_answer_and_a_token_stays_a_token() -> None:
    assert seconds_of(Duration.minutes(10)) == 600
    token = seconds_of(Duration.seconds(Token.as_number(cdk.Fn.ref("Timeout"))))
    assert Token.is_unresolved(token) and _is_token(token)


def test_is_token_answers_as_cdk_does_for_numbers_strings_and_lists() -> None:
    # GIVEN number, string and list tokens, plain values, and random doubles (half of them with the token marker bits)
    values: list[object] = [
        Token.as_number(cdk.Fn.ref("N")),
        Token.as_list(cdk.Aws.ACCOUNT_ID),
        cdk.Aws.REGION,
        ["#{Token[x]}"],
        ["a"],
        [],
        ["a", "b"],
        "plain",
        0.0,
        -1.5,
        1e308,
        3,
        True,
    ]
    rng = random.Random(14)
    for _ in range(400):
        high = rng.choice([0xFBFF0000 | rng.getrandbits(16), rng.getrandbits(32)])
        number = struct.unpack("<d", struct.pack("<II", rng.getrandbits(32), high))[0]
        if not (math.isnan(number) or math.isinf(number)):  # jsii cannot send these to CDK at all
            values.append(number)
    # THEN the pure-Python answer is CDK's for every one
    assert [_is_token(v) for v in values] == [bool(Token.is_unresolved(v)) for v in values]
    assert sum(_is_token(v) for v in values) > 100


def test_stack_checks_and_default_key_are_created_once_per_stack() -> None:
    stack = cdk.Stack(new_app(), "Once")
    first, second = Construct(stack, "A"), Construct(stack, "B")
    register_stack_checks(first, stack)
    register_stack_checks(second, stack)
    assert [c.node.id for c in stack.node.children].count(CHECKS_ID) == 1
    assert _logs.default_key(first) is _logs.default_key(second)
    # a stack object that does not remember (as for one created on the JavaScript side) still finds the existing ones
    del stack._batch_constructs_checks_registered  # type: ignore[attr-defined]
    del stack._batch_constructs_default_key  # type: ignore[attr-defined]
    register_stack_checks(Construct(stack, "C"), stack)
    key = _logs.default_key(stack)
    assert [c.node.id for c in stack.node.children].count(CHECKS_ID) == 1
    assert key.node.path == "Once/BatchConstructsKey"


def test_enum_like_objects_compare_by_their_javascript_object() -> None:
    # GIVEN two reads of the same static object: different Python objects, so == is False
    first, second = ecs.CpuArchitecture.ARM64, ecs.CpuArchitecture.ARM64
    assert first != second
    # THEN same_object sees one JavaScript object, and tells it from another
    assert same_object(first, second) and same_object(first, arm64())
    assert not same_object(first, x86_64()) and not same_object(None, arm64())


def test_an_arm64_fargate_job_requires_arm64() -> None:
    # an ARM64 job used to be recorded as X86_64 (== between two reads of CpuArchitecture.ARM64 is always False)
    platform = BatchPlatform(cdk.Stack(new_app(), "Arch"), "Platform")
    arm = platform.add_job("Arm", image="public.ecr.aws/x/y:1", architecture=ecs.CpuArchitecture.ARM64)
    default = platform.add_job("Default", image="public.ecr.aws/x/y:1")
    assert [r.architecture for r in arm.requirements] == ["ARM64"]
    assert [r.architecture for r in default.requirements] == ["X86_64"]


def test_adopted_path_is_the_path_cdk_gives() -> None:
    # GIVEN constructs adopted from a stack (whose path is read once), from a parent with a remembered path, with an id
    # that constructs sanitizes ("/" and newlines become "--"), and a stack inside a stage
    app = new_app()
    stack = cdk.Stack(app, "Paths")
    child = Construct(stack, "Child")
    adopt_stack(child, stack, "Child")
    odd = Construct(child, "a/b\nc")
    adopt_stack(odd, child, "a/b\nc")
    staged_stack = cdk.Stack(cdk.Stage(app, "Stage"), "Inner")
    staged = Construct(staged_stack, "Staged")
    adopt_stack(staged, staged_stack, "Staged")
    # THEN each remembered path is CDK's
    for construct in (child, odd, staged):
        assert construct._batch_constructs_path == construct.node.path  # type: ignore[attr-defined]
    assert odd.node.path == "Paths/Child/a--b--c"
    # and a parent whose path is not known gives none (the child asks CDK when needed)
    loose = Construct(stack, "Loose")
    grandchild = Construct(loose, "Grandchild")
    adopt_stack(grandchild, loose, "Grandchild")
    assert not hasattr(grandchild, "_batch_constructs_path") and path_of(grandchild) == "Paths/Loose/Grandchild"


def test_every_fact_remembered_while_building_an_app_is_cdks_answer() -> None:
    # GIVEN the movies importer (platform, job, grants, state machine, schedule) built in a new app
    from apps.movies_importer import MoviesImporterStack

    stack = MoviesImporterStack(new_app(), "MoviesMemo")
    # THEN every construct's remembered node, path and stack are what CDK answers now
    remembered = {"node": 0, "path": 0, "stack": 0}
    for construct in stack.node.find_all():
        node = getattr(construct, "_batch_constructs_node", None)
        if node is not None:
            remembered["node"] += 1
            assert node.path == construct.node.path
        path = getattr(construct, "_batch_constructs_path", None)
        if path is not None:
            remembered["path"] += 1
            assert path == construct.node.path
        owner = getattr(construct, "_batch_constructs_stack", None)
        if owner is not None:
            remembered["stack"] += 1
            assert same_object(owner, cdk.Stack.of(construct))
    assert all(count > 0 for count in remembered.values()), remembered


def test_size_and_created_duration_conversions_are_cdks_answers() -> None:
    assert mebibytes_of(Size.gibibytes(2)) == 2048 and gibibytes_of(Size.mebibytes(3072)) == 3
    assert seconds_of(known_seconds(90)) == 90 == known_seconds(90).to_seconds()
    token = mebibytes_of(Size.mebibytes(Token.as_number(cdk.Fn.ref("Memory"))))
    assert Token.is_unresolved(token) and _is_token(token)
