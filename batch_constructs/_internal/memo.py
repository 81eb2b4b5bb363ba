"""Facts that never change once an object exists, read through jsii once and remembered on its Python object.

Each read of ``Stack.of(x)``, ``x.node``, ``x.node.path``, ``duration.to_seconds()`` or ``size.to_mebibytes()`` is a
round trip to the jsii kernel's Node process (``node.path`` two: the ``node``, then its ``path``). A construct cannot
move in the tree, so its node, stack and path are fixed when it is created, and a ``Duration`` or ``Size`` is
immutable; the library reads them many times (every check, grant and acknowledgement names a path or needs the stack;
every time limit is checked, then rendered), so this module remembers them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar, cast

from aws_cdk import Aws, Duration, Size, Stack
from aws_cdk import aws_ecs as ecs
from constructs import IConstruct, Node

_T = TypeVar("_T")

_STACK = "_batch_constructs_stack"
_NODE = "_batch_constructs_node"
_PATH = "_batch_constructs_path"
_SECONDS = "_batch_constructs_seconds"
_MEBIBYTES = "_batch_constructs_mebibytes"
_GIBIBYTES = "_batch_constructs_gibibytes"


def _remember(target: object, name: str, value: object) -> None:
    try:
        setattr(target, name, value)
    except AttributeError:  # an object that takes no attributes: read again next time
        pass


def _read_once(target: object, name: str, read: Callable[[], _T]) -> _T:
    """``target``'s value remembered under ``name``, else ``read()`` (through jsii), remembered for next time."""
    cached = getattr(target, name, None)
    if cached is not None:
        return cast(_T, cached)
    value = read()
    _remember(target, name, value)
    return value


def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)``: the nearest enclosing stack (``scope`` itself for a stack, a nested stack included)."""
    if isinstance(scope, Stack):
        return scope
    return _read_once(scope, _STACK, lambda: Stack.of(scope))


def adopt_stack(child: IConstruct, parent: IConstruct, construct_id: str | None = None) -> None:
    """Remember ``child``'s stack from ``parent`` (the scope it was created in) when that is known without jsii; with
    ``construct_id`` (the child's id), its path too when the parent's is known."""
    stack = parent if isinstance(parent, Stack) else getattr(parent, _STACK, None)
    if stack is not None and not isinstance(child, Stack):
        _remember(child, _STACK, stack)
    if construct_id is not None:
        # A stack's path is read once (the library names paths of what it builds in it in every check and message).
        parent_path = path_of(parent) if isinstance(parent, Stack) else getattr(parent, _PATH, None)
        if parent_path is not None:
            # constructs' Node: ``path = scope.path ? `${scope.path}/${id}` : id``, the id with "/" and newlines
            # replaced by "--" (sanitizeId).
            child_id = _ID_SEPARATORS.sub("--", construct_id)
            _remember(child, _PATH, f"{parent_path}/{child_id}" if parent_path else child_id)


_ID_SEPARATORS = re.compile("[/\n]")


def node_of(construct: IConstruct) -> Node:
    """``construct.node``: a construct's tree node is created with it and never replaced."""
    return _read_once(construct, _NODE, lambda: construct.node)


def path_of(construct: IConstruct) -> str:
    """``construct.node.path``."""
    return _read_once(construct, _PATH, lambda: node_of(construct).path)


def seconds_of(duration: Duration) -> float:
    """``duration.to_seconds()`` (a token's number stays a token: check it with ``is_known``)."""
    return _read_once(duration, _SECONDS, duration.to_seconds)


def mebibytes_of(size: Size) -> float:
    """``size.to_mebibytes()`` (a ``Size`` is immutable; a token's number stays a token)."""
    return _read_once(size, _MEBIBYTES, size.to_mebibytes)


def gibibytes_of(size: Size) -> float:
    """``size.to_gibibytes()`` (a ``Size`` is immutable; a token's number stays a token)."""
    return _read_once(size, _GIBIBYTES, size.to_gibibytes)


def known_seconds(seconds: int) -> Duration:
    """``Duration.seconds(seconds)``, with its seconds already known to :func:`seconds_of`."""
    duration = Duration.seconds(seconds)
    _remember(duration, _SECONDS, seconds)
    return duration


# ``Aws.ACCOUNT_ID`` and the other pseudo parameters are constant token strings, created once in the jsii kernel's
# process and the same in every app and stack (each resolves to its ``Ref``): read once per process.


@functools.cache
def account_id() -> str:
    """``Aws.ACCOUNT_ID``."""
    return Aws.ACCOUNT_ID


@functools.cache
def region() -> str:
    """``Aws.REGION``."""
    return Aws.REGION


@functools.cache
def partition() -> str:
    """``Aws.PARTITION``."""
    return Aws.PARTITION


# aws-cdk-lib's enum-like classes (``ecs.CpuArchitecture.ARM64``) are static JavaScript objects: each Python read is a
# jsii round trip and returns a new Python object for the same JavaScript one, so ``==`` between two reads is False.
# Read them once, and compare such objects by their jsii reference.


@functools.cache
def x86_64() -> ecs.CpuArchitecture:
    """``ecs.CpuArchitecture.X86_64``."""
    return ecs.CpuArchitecture.X86_64


@functools.cache
def arm64() -> ecs.CpuArchitecture:
    """``ecs.CpuArchitecture.ARM64``."""
    return ecs.CpuArchitecture.ARM64


@functools.cache
def linux() -> ecs.OperatingSystemFamily:
    """``ecs.OperatingSystemFamily.LINUX``."""
    return ecs.OperatingSystemFamily.LINUX


def same_object(first: object, second: object) -> bool:
    """True when both are the same JavaScript object (or the same Python object), however often it was read."""
    if first is second:
        return True
    ref = getattr(first, "__jsii_ref__", None)
    return ref is not None and ref == getattr(second, "__jsii_ref__", None)
