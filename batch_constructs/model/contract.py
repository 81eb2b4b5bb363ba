"""The queue contract: what a platform publishes about its queues so that workloads elsewhere keep every check.

A workload in another stack or app sees a queue only by its ARN, and an ARN says nothing about what the queue can run.
The contract carries, per queue, what the fit and fair-share rules compare jobs against: the queue's ARN, platform,
and each compute environment's capacity (:class:`~batch_constructs.model.capacity.EnvironmentCapacity`: Spot or not,
max vCPUs, instance types and families, the shapes they stand for with their GPUs, CPU architectures, EFA, and the
interface endpoints of subnets without a NAT), and whether the queue is fair-share with which share identifiers.

Compatibility, so that workloads and platforms upgrade independently:

* the document carries ``schemaVersion`` (:data:`SCHEMA_VERSION` when written). Versions only ever ADD fields;
* a reader ignores fields it does not know (a newer platform's additions) and reads a missing (or null) field as
  "unknown" (an older platform's document): an unknown fact switches its check off, it never rejects a job;
* only ``jobQueueArn`` and ``platform`` of each queue are required (the facts a workload needed before contracts);
* a known field of the wrong type (``"spot": "yes"``, a negative ``maxVcpus``, a shape without ``memoryMiB``) is an
  error that names the queue, environment and field: versions never change a field's type, so such a document was
  edited or written by another tool, and reading it as "unknown" would silently switch checks off.

The JSON uses camelCase keys (it is read by other tools and languages too); sizes are vCPUs and MiB. Pure: no CDK.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, cast

from ..errors import BatchConfigurationError
from . import registry
from .capacity import FARGATE_SHAPES, EnvironmentCapacity, InstanceShape, Platform

__all__ = ["SCHEMA_VERSION", "EnvironmentContract", "PlatformContract", "QueueContract"]

#: The version this library writes. 1: the first contract (queues, environments, shapes, fair share). 2: adds each
#: environment's ``isolatedEndpoints`` (written only for subnets without a NAT).
SCHEMA_VERSION: Final = 2

_PLATFORMS: Final = ("FARGATE", "EC2")


def _problem(what: str, fix: str) -> BatchConfigurationError:
    return BatchConfigurationError("queue contract", [registry.QUEUE_CONTRACT.fix(what, fix)])


#: The fix of a document whose known field has the wrong type: it was edited, or written by another tool.
_REPUBLISH: Final = "publish it again with BatchQueue.contract() / publish_contract(), or correct the field"


def _finite(value: object) -> float | None:
    """``value`` as a float when it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


#: The kinds of known fields: how a value is checked, and what the error says it should be.
_KINDS: Final[dict[str, tuple[Callable[[object], bool], str]]] = {
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "strings": (lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v), "a list of strings"),
    "objects": (lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v), "a list of objects"),
    # 8192.0 counts too: a writer in another language may print whole numbers that way
    "count": (
        lambda v: _finite(v) is not None and float(cast(float, v)).is_integer() and cast(float, v) >= 0,
        "a whole number of at least 0",
    ),
    "positive": (lambda v: _finite(v) is not None and cast(float, v) > 0, "a number above 0"),
    "size": (lambda v: _finite(v) is not None and cast(float, v) >= 0, "a number of at least 0"),
}


def _typed(data: Mapping[str, object], key: str, where: str, kind: str) -> object:
    """``data[key]``, None when missing or null (unknown), else checked against the ``kind`` of :data:`_KINDS`."""
    value = data.get(key)
    if value is None:
        return None
    valid, expected = _KINDS[kind]
    if not valid(value):
        raise _problem(f"{where}: {key}={_shown(value)} is not {expected}", _REPUBLISH)
    return value


def _shown(value: object) -> str:
    """A JSON value as it appears in the document, cut to 60 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):  # from_dict called from Python with a value JSON cannot hold
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class EnvironmentContract:
    """One compute environment behind a queue: its name (construct path on the platform side) and capacity."""

    name: str
    capacity: EnvironmentCapacity

    def to_dict(self) -> dict[str, object]:
        cap = self.capacity
        out: dict[str, object] = {
            "name": self.name,
            "platform": cap.platform,
            "spot": cap.spot,
            "managed": cap.managed,
            "maxVcpus": cap.max_vcpus,
            "architectures": sorted(cap.architectures),
            "instanceTypes": sorted(cap.instance_types),
            "instanceFamilies": sorted(cap.instance_families),
            "singleInstanceType": cap.single_instance_type,
            "efa": cap.efa,
        }
        if cap.isolated_endpoints is not None:  # subnets without a NAT; absent: a NAT, or not known (4 KB budget)
            out["isolatedEndpoints"] = sorted(cap.isolated_endpoints)
        if cap.platform == "EC2":  # Fargate's sizes are AWS's, the same everywhere: read from the reader's table
            out["shapes"] = (
                None
                if cap.shapes is None
                else [{"name": s.name, "vcpus": s.vcpus, "memoryMiB": s.memory_mib, "gpus": s.gpus} for s in cap.shapes]
            )
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], queue_platform: Platform, where: str = "environment"
    ) -> EnvironmentContract:
        """Missing (or null) facts read as unknown (no shapes, no max vCPUs, EFA unknown); unknown keys are ignored; a
        known fact of the wrong type is an error (``where`` names the environment in it)."""
        platform = data.get("platform", queue_platform)
        if platform not in _PLATFORMS:
            raise _problem(f"{where}: platform={_shown(platform)}", "use FARGATE or EC2")
        shapes = FARGATE_SHAPES if platform == "FARGATE" else None
        shapes_data = _typed(data, "shapes", where, "objects")
        if shapes_data is not None:
            shapes = tuple(
                _shape(cast(Mapping[str, object], s), f"{where}, shape {index}")
                for index, s in enumerate(cast(list[object], shapes_data))
            )
        max_vcpus = _typed(data, "maxVcpus", where, "size")
        single = _typed(data, "singleInstanceType", where, "str")
        isolated = _typed(data, "isolatedEndpoints", where, "strings")
        capacity = EnvironmentCapacity(
            platform=platform,
            spot=bool(_typed(data, "spot", where, "bool")),
            managed=_typed(data, "managed", where, "bool") is not False,
            max_vcpus=None if max_vcpus is None else float(cast(float, max_vcpus)),
            shapes=shapes or None,
            architectures=_strings(data, "architectures", where),
            single_instance_type=cast(str, single) or None,
            efa=cast("bool | None", _typed(data, "efa", where, "bool")),
            instance_types=_strings(data, "instanceTypes", where),
            instance_families=_strings(data, "instanceFamilies", where),
            isolated_endpoints=None if isolated is None else frozenset(cast(list[str], isolated)),
        )
        return cls(cast(str, _typed(data, "name", where, "str")) or "environment", capacity)


def _shape(data: Mapping[str, object], where: str) -> InstanceShape:
    """One published instance shape: name, vCPUs and memory are required, GPUs default to 0."""
    missing = [key for key in ("name", "vcpus", "memoryMiB") if data.get(key) is None]
    if missing:
        raise _problem(f"{where}: no {', '.join(missing)}", _REPUBLISH)
    memory = int(cast(float, _typed(data, "memoryMiB", where, "count")))
    if memory == 0:
        raise _problem(f"{where}: memoryMiB=0 is not a size", _REPUBLISH)
    return InstanceShape(
        cast(str, _typed(data, "name", where, "str")),
        float(cast(float, _typed(data, "vcpus", where, "positive"))),
        memory,
        int(cast(float, _typed(data, "gpus", where, "count") or 0)),
    )


def _strings(data: Mapping[str, object], key: str, where: str) -> frozenset[str]:
    return frozenset(cast("list[str] | None", _typed(data, key, where, "strings")) or ())


@dataclass(frozen=True)
class QueueContract:
    """One queue as a workload sees it.

    ``environments`` empty means the platform published no capacities (an older or minimal contract): then only the
    platform is checked. ``fair_share`` None means unknown (no share-identifier or scheduling-priority checks).
    """

    job_queue_arn: str
    platform: Platform
    environments: tuple[EnvironmentContract, ...] = ()
    fair_share: bool | None = False
    share_identifiers: tuple[str, ...] = ()

    def capacities(self) -> list[tuple[str, EnvironmentCapacity]]:
        """(name, capacity) of each environment in queue order: what the fit rules take.

        A contract without environments (a minimal or older document) stands for one environment of the queue's
        platform with unknown sizes: the platform is still checked, the sizes are not.
        """
        if not self.environments:
            unknown = EnvironmentCapacity(platform=self.platform, spot=False, efa=None)
            return [(f"{self.platform} environments (sizes not published)", unknown)]
        return [(e.name, e.capacity) for e in self.environments]

    @property
    def architectures(self) -> frozenset[str]:
        return frozenset(a for e in self.environments for a in e.capacity.architectures)

    @property
    def max_vcpus(self) -> float | None:
        """The largest environment's max vCPUs (None when unknown)."""
        known = [e.capacity.max_vcpus for e in self.environments if e.capacity.max_vcpus is not None]
        return max(known) if known else None

    @property
    def max_gpus(self) -> int:
        """The most GPUs one known instance shape behind the queue has."""
        return max((s.gpus for e in self.environments for s in e.capacity.shapes or ()), default=0)

    @property
    def efa(self) -> bool | None:
        """True when an environment is EFA-enabled, None when one is unknown, else False."""
        values = [e.capacity.efa for e in self.environments]
        if any(values):
            return True
        return None if None in values or not values else False

    def to_dict(self) -> dict[str, object]:
        """The queue's entry; the summary fields (architectures .. efa) are for readers, never read back."""
        return {
            "jobQueueArn": self.job_queue_arn,
            "platform": self.platform,
            "fairShare": self.fair_share,
            "shareIdentifiers": list(self.share_identifiers),
            "architectures": sorted(self.architectures),
            "maxVcpus": self.max_vcpus,
            "maxGpus": self.max_gpus,
            "efa": self.efa,
            "environments": [e.to_dict() for e in self.environments],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], name: str = "queue") -> QueueContract:
        arn = data.get("jobQueueArn")
        if not isinstance(arn, str) or not arn:
            raise _problem(f"queue {name!r} has no jobQueueArn", "publish the contract with BatchQueue.contract()")
        platform = data.get("platform")
        if platform not in _PLATFORMS:
            raise _problem(f"queue {name!r} has platform {_shown(platform)}", "publish FARGATE or EC2")
        queue_platform: Platform = platform
        where = f"queue {name!r}"
        envs = cast("list[Mapping[str, object]] | None", _typed(data, "environments", where, "objects"))
        environments = tuple(
            EnvironmentContract.from_dict(e, queue_platform, f"{where}, environment {index}")
            for index, e in enumerate(envs or ())
        )
        shares = cast("list[str] | None", _typed(data, "shareIdentifiers", where, "strings"))
        return cls(
            job_queue_arn=arn,
            platform=queue_platform,
            environments=environments,
            fair_share=cast("bool | None", _typed(data, "fairShare", where, "bool")),
            share_identifiers=tuple(shares or ()),
        )

    @classmethod
    def of(
        cls,
        job_queue_arn: str,
        capacities: Iterable[tuple[str, EnvironmentCapacity]],
        *,
        fair_share: bool,
        share_identifiers: Iterable[str] = (),
    ) -> QueueContract:
        """The contract of a queue from its capacities (the platform is the first environment's)."""
        environments = tuple(EnvironmentContract(n, c) for n, c in capacities)
        if not environments:
            raise _problem("the queue has no environment with a known capacity", "add an environment first")
        return cls(
            job_queue_arn=job_queue_arn,
            platform=environments[0].capacity.platform,
            environments=environments,
            fair_share=fair_share,
            share_identifiers=tuple(share_identifiers),
        )


@dataclass(frozen=True)
class PlatformContract:
    """Every queue a platform publishes, by a name the platform chooses (a stable key, like an export name)."""

    queues: Mapping[str, QueueContract] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def queue(self, name: str) -> QueueContract:
        """One queue by name; a missing name is an error listing the names the contract has."""
        if name not in self.queues:
            raise _problem(
                f"no queue named {name!r} (the contract has {sorted(self.queues)})", "use one of the published names"
            )
        return self.queues[name]

    def to_dict(self) -> dict[str, object]:
        return {"schemaVersion": self.schema_version, "queues": {n: q.to_dict() for n, q in self.queues.items()}}

    def to_json(self) -> str:
        """Compact JSON (SSM parameters hold 4 KB, or 8 KB in the advanced tier)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PlatformContract:
        version = data.get("schemaVersion")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _problem(
                f"schemaVersion {version!r}", "read a document written by BatchQueue.contract() / publish_contract()"
            )
        queues = data.get("queues")
        if not isinstance(queues, dict):
            raise _problem("no 'queues' object", "publish at least one queue")
        for name, queue in queues.items():
            if not isinstance(queue, dict):
                raise _problem(f"queue {name!r} is {_shown(queue)}, not an object", _REPUBLISH)
        return cls(
            queues={str(n): QueueContract.from_dict(q, str(n)) for n, q in queues.items()},
            schema_version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> PlatformContract:
        """Parse a published contract (any schema version: older ones read missing facts as unknown)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            problem = f"not JSON ({error.msg}): {text[:80]!r}"
            raise _problem(problem, "pass the parameter's value as published") from None
        if not isinstance(data, dict):
            raise _problem(f"not a JSON object: {text[:80]!r}", "pass the parameter's value as published")
        return cls.from_dict(data)
