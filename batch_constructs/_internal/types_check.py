"""A cheap run-time check of constructor arguments, so a wrong type fails with a message naming the parameter.

Without it, ``memory=2048`` (an int where a ``Size`` is expected) fails deep inside aws-cdk-lib with an
``AttributeError`` on ``to_mebibytes``. The check is plain ``isinstance`` (jsii classes are Python classes, so no jsii
round trip), done once at the top of a constructor, and reports every wrong argument of the call at once.

Expectations are written next to the call, not derived from annotations: the library's annotations use aliases that
only type checkers evaluate (``batch_constructs.types``), and jsii interfaces (``iam.IRole``) are protocols that
``isinstance`` cannot test; those parameters are simply not listed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from constructs import IConstruct

from ..errors import BatchConfigurationError
from ..model import registry
from .memo import path_of
from .validation import is_known

__all__ = ["MapOf", "OneOf", "SeqOf", "check_types"]


@dataclass(frozen=True)
class SeqOf:
    """A list or tuple (never a str) whose items are ``item``."""

    item: type | tuple[type, ...]


@dataclass(frozen=True)
class MapOf:
    """A mapping whose keys are ``key`` and values ``value``."""

    key: type | tuple[type, ...]
    value: type | tuple[type, ...]


@dataclass(frozen=True)
class OneOf:
    """One of a few literal values (a ``Literal[...]`` parameter)."""

    values: tuple[object, ...]


Expected = type | tuple[type, ...] | SeqOf | MapOf | OneOf


def _name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    names = []
    for t in types:
        module = t.__module__
        prefix = ""
        if module.startswith("aws_cdk."):
            prefix = module.removeprefix("aws_cdk.") + "."
        elif module.startswith("batch_constructs"):
            prefix = ""
        names.append(prefix + t.__qualname__)
    return " or ".join(names)


def _describe(expected: Expected) -> str:
    if isinstance(expected, SeqOf):
        return f"a sequence of {_name(expected.item)}"
    if isinstance(expected, MapOf):
        return f"a mapping of {_name(expected.key)} to {_name(expected.value)}"
    if isinstance(expected, OneOf):
        return "one of " + ", ".join(repr(v) for v in expected.values)
    return _name(expected)


def _is_instance(value: object, expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool):
        # bool is an int: accept it only where bool is expected
        return bool in types
    if float in types and isinstance(value, int):
        return True
    return isinstance(value, types)


def _matches(value: object, expected: Expected) -> bool:
    if isinstance(expected, SeqOf):
        return (
            isinstance(value, Sequence)
            and not isinstance(value, str | bytes)
            and all(_is_instance(v, expected.item) for v in value)
        )
    if isinstance(expected, MapOf):
        return isinstance(value, Mapping) and all(
            _is_instance(k, expected.key) and _is_instance(v, expected.value) for k, v in value.items()
        )
    if isinstance(expected, OneOf):
        return isinstance(value, str | int | float) and value in expected.values
    return _is_instance(value, expected)


def _received(value: object) -> str:
    kind = type(value)
    text = repr(value) if isinstance(value, str | int | float | enum.Enum) else ""
    text = text if len(text) <= 40 else text[:37] + "..."
    return kind.__qualname__ + (f" {text}" if text else "")


def check_types(scope: IConstruct, construct_id: str, checks: Iterable[tuple[str, object, Expected]]) -> None:
    """Raise one :class:`BatchConfigurationError` for the construct ``construct_id`` about to be created in ``scope``,
    naming every argument whose value does not match (the path is read only then: two jsii round trips saved).

    ``checks`` holds ``(parameter, value, expected)``; a ``None`` value is always accepted (optional parameters are
    checked by their defaults' types, and required ones are enforced by Python itself).
    """
    problems = [
        registry.ARGUMENT_TYPE.fix(
            f"{name} is {_received(value)}, expected {_describe(expected)}",
            _hint(name, value, expected),
        )
        for name, value, expected in checks
        # a token (a number token is a float, a string token a str) stands for any type until deploy
        if value is not None and not _matches(value, expected) and is_known(value)
    ]
    if problems:
        raise BatchConfigurationError(f"{path_of(scope)}/{construct_id}", problems)


def _hint(name: str, value: object, expected: Expected) -> str:
    if isinstance(expected, SeqOf) and isinstance(value, str):
        return f"pass a list, e.g. {name}=[{value!r}]"
    if isinstance(expected, OneOf):
        return f"pass one of {', '.join(repr(v) for v in expected.values)}"
    expected_types = expected if isinstance(expected, tuple) else (expected,)
    names = {t.__name__ for t in expected_types if isinstance(t, type)}
    if "Size" in names and isinstance(value, int | float):
        return f"pass Size.mebibytes({value}) or Size.gibibytes(...)"
    if "Duration" in names and isinstance(value, int | float):
        return f"pass Duration.seconds({value}) or Duration.minutes(...)"
    if isinstance(value, str):
        for t in expected_types:
            member = value.upper().replace("-", "_").replace(".", "_")
            if isinstance(t, type) and hasattr(t, member):
                return f"pass {_name(t)}.{member}"
            if isinstance(t, type) and issubclass(t, enum.Enum):
                return f"pass the enum member, e.g. {_name(t)}.{next(iter(t.__members__))}"
    return f"pass {_describe(expected)}"
