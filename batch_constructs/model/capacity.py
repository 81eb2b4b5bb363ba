"""What a compute environment can run: the facts the fit rules compare jobs against.

Instance sizes come from the EC2 instance type documentation. A family or type missing from the tables is *unknown*:
rules never reject a job because of an unknown instance (they only skip the size check), so the tables can stay small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "EFA_TYPES",
    "FARGATE_MEMORY",
    "FARGATE_SHAPES",
    "GPU_TYPES",
    "USABLE_MEMORY_FRACTION",
    "Architecture",
    "EnvironmentCapacity",
    "InstanceShape",
    "Platform",
    "architecture_of",
    "efa_support",
    "shape_of",
    "shapes_of",
    "shapes_of_family",
    "smallest_fitting",
    "usable_memory_mib",
]

Platform = Literal["FARGATE", "EC2"]
Architecture = Literal["X86_64", "ARM64"]


@dataclass(frozen=True)
class InstanceShape:
    """One instance type's resources."""

    name: str
    vcpus: float
    memory_mib: int
    gpus: int = 0


@dataclass(frozen=True)
class EnvironmentCapacity:
    """What one compute environment can place. ``shapes is None`` means the sizes are unknown (imported or unlisted)."""

    platform: Platform
    spot: bool
    managed: bool = True
    max_vcpus: float | None = None
    shapes: tuple[InstanceShape, ...] | None = None
    architectures: frozenset[str] = field(default_factory=frozenset)
    single_instance_type: str | None = None
    #: True for an EfaEnvironment, False for the library's other environments, None when unknown (L2, imported).
    efa: bool | None = False
    #: Instance types and families named by the environment (empty when not known, e.g. for L2 environments).
    instance_types: frozenset[str] = field(default_factory=frozenset)
    instance_families: frozenset[str] = field(default_factory=frozenset)
    #: Subnets without a NAT: the interface endpoint services (``secretsmanager``, ``ssm``, ...) they reach, the only
    #: AWS APIs a job there can call. None when they have a NAT or the library cannot tell (the user's own VPC, L2 and
    #: imported environments): nothing is checked then.
    isolated_endpoints: frozenset[str] | None = None

    def launches(self, instance_type: str) -> bool | None:
        """Whether the environment may launch ``instance_type``; None when the library cannot tell."""
        if not self.instance_types and not self.instance_families:
            return None
        if instance_type in self.instance_types:
            return True
        if instance_type.split(".", maxsplit=1)[0] in self.instance_families:
            return True
        if self.instance_families & _BATCH_ALIASES:
            return None  # "optimal" and the default_* aliases stand for families AWS chooses
        return False

    @property
    def kind(self) -> str:
        """FARGATE, FARGATE_SPOT, EC2 or SPOT: the compute environment's ``Type`` in CloudFormation."""
        if self.platform == "FARGATE":
            return "FARGATE_SPOT" if self.spot else "FARGATE"
        return "SPOT" if self.spot else "EC2"


_SIZE_VCPUS: Final[dict[str, int]] = {
    "medium": 1,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "6xlarge": 24,
    "8xlarge": 32,
    "9xlarge": 36,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
}

#: Largest size (non-metal) of each general-purpose family the library knows, and GiB of memory per vCPU.
_FAMILIES: Final[dict[str, tuple[str, float]]] = {
    **{f: ("24xlarge", 4) for f in ("m5", "m5a", "m5d", "m5n")},
    **{f: ("24xlarge", 2) for f in ("c5", "c5a", "c5d")},
    **{f: ("24xlarge", 8) for f in ("r5", "r5a", "r5d", "r5n")},
    **{f: ("32xlarge", 4) for f in ("m6i", "m6id", "m6in")},
    **{f: ("32xlarge", 2) for f in ("c6i", "c6id", "c6in")},
    **{f: ("32xlarge", 8) for f in ("r6i", "r6id", "r6in")},
    **{f: ("48xlarge", 4) for f in ("m6a", "m7i", "m7a")},
    **{f: ("48xlarge", 2) for f in ("c6a", "c7i", "c7a")},
    **{f: ("48xlarge", 8) for f in ("r6a", "r7i", "r7a")},
    **{f: ("16xlarge", 4) for f in ("m6g", "m6gd", "m7g", "m7gd")},
    **{f: ("16xlarge", 2) for f in ("c6g", "c6gd", "c6gn", "c7g", "c7gd", "c7gn")},
    **{f: ("16xlarge", 8) for f in ("r6g", "r6gd", "r7g", "r7gd")},
    **{f: ("48xlarge", 4) for f in ("m8g",)},
    **{f: ("48xlarge", 2) for f in ("c8g",)},
    **{f: ("48xlarge", 8) for f in ("r8g",)},
    "m4": ("16xlarge", 4),
    "r4": ("16xlarge", 7.625),
}

#: Types whose memory does not follow their family's ratio.
_SPECIAL: Final[dict[str, InstanceShape]] = {
    s.name: s
    for s in (
        InstanceShape("c5n.large", 2, 5376),
        InstanceShape("c5n.xlarge", 4, 10752),
        InstanceShape("c5n.2xlarge", 8, 21504),
        InstanceShape("c5n.4xlarge", 16, 43008),
        InstanceShape("c5n.9xlarge", 36, 98304),
        InstanceShape("c5n.18xlarge", 72, 196608),
        InstanceShape("hpc6a.48xlarge", 96, 393216),
        InstanceShape("hpc7g.16xlarge", 64, 131072),
    )
}


def _gpu_family(name: str, sizes: Iterable[tuple[str, int, int, int]]) -> dict[str, InstanceShape]:
    return {f"{name}.{size}": InstanceShape(f"{name}.{size}", v, gib * 1024, g) for size, v, gib, g in sizes}


_G_SIZES: Final = (
    ("xlarge", 4, 16, 1),
    ("2xlarge", 8, 32, 1),
    ("4xlarge", 16, 64, 1),
    ("8xlarge", 32, 128, 1),
    ("12xlarge", 48, 192, 4),
    ("16xlarge", 64, 256, 1),
    ("24xlarge", 96, 384, 4),
    ("48xlarge", 192, 768, 8),
)

#: GPU instance types (vCPUs, memory, NVIDIA GPUs), by family.
GPU_TYPES: Final[dict[str, dict[str, InstanceShape]]] = {
    "g4dn": _gpu_family("g4dn", [s for s in _G_SIZES if s[0] not in ("24xlarge", "48xlarge")]),
    "g5": _gpu_family("g5", _G_SIZES),
    "g6": _gpu_family("g6", _G_SIZES),
    "g6e": _gpu_family("g6e", [(s, v, gib * 2, g) for s, v, gib, g in _G_SIZES]),
    "p3": _gpu_family("p3", [("2xlarge", 8, 61, 1), ("8xlarge", 32, 244, 4), ("16xlarge", 64, 488, 8)]),
    "p4d": _gpu_family("p4d", [("24xlarge", 96, 1152, 8)]),
    "p4de": _gpu_family("p4de", [("24xlarge", 96, 1152, 8)]),
    "p5": _gpu_family("p5", [("48xlarge", 192, 2048, 8)]),
    "p5e": _gpu_family("p5e", [("48xlarge", 192, 2048, 8)]),
}

#: Instance types known to support EFA (EC2 User Guide, "Elastic Fabric Adapter: supported instance types").
#: Not exhaustive: a type missing here is only rejected when :func:`efa_support` knows it has no EFA.
EFA_TYPES: Final[frozenset[str]] = frozenset(
    {
        "c5n.18xlarge",
        "c5n.9xlarge",
        "c6in.32xlarge",
        "c6i.32xlarge",
        "m6i.32xlarge",
        "r6i.32xlarge",
        "c6a.48xlarge",
        "m6a.48xlarge",
        "c7i.48xlarge",
        "m7i.48xlarge",
        "r7i.48xlarge",
        "c7g.16xlarge",
        "c7gn.16xlarge",
        "hpc6a.48xlarge",
        "hpc7g.16xlarge",
        "g4dn.8xlarge",
        "g4dn.12xlarge",
        "g4dn.16xlarge",
        "g5.8xlarge",
        "g5.12xlarge",
        "g5.16xlarge",
        "g5.24xlarge",
        "g5.48xlarge",
        "g6.8xlarge",
        "g6.12xlarge",
        "g6.16xlarge",
        "g6.24xlarge",
        "g6.48xlarge",
        "p3dn.24xlarge",
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5.48xlarge",
        "p5e.48xlarge",
        "trn1.32xlarge",
        "trn1n.32xlarge",
    }
)

#: EFA interfaces an instance type can carry, one per network card, for the types with more than one (EC2 User Guide,
#: "Maximize network bandwidth on Amazon EC2 instances with multiple network cards" (efa-acc-inst-types.html) and the
#: accelerated-computing "Network specifications" table; the Neuron SDK guide "How to prepare trn1.32xlarge for
#: multi-node execution" for Trn1). ``aws ec2 describe-instance-types --instance-types TYPE --query
#: 'InstanceTypes[].NetworkInfo.EfaInfo.MaximumEfaInterfaces'`` answers for any other type. Every other EFA-capable type
#: has one EFA interface, on network card 0.
EFA_INTERFACES: Final[dict[str, int]] = {
    "p4d.24xlarge": 4,
    "p4de.24xlarge": 4,
    "p5.48xlarge": 32,
    "p5e.48xlarge": 32,
    "trn1.32xlarge": 8,
    "trn1n.32xlarge": 16,
}


def efa_interfaces(instance_type: str) -> int:
    """How many EFA interfaces (network cards) an EFA-capable instance type takes: all of them, for full bandwidth."""
    return EFA_INTERFACES.get(instance_type, 1)


#: Families with no EFA-capable size at all (EFA came to the 5th generation with the "n" variants: c5n, m5n, r5n).
_NO_EFA_FAMILIES: Final[frozenset[str]] = frozenset(
    {"a1", "c4", "m4", "r4", "c5", "c5a", "c5d", "m5", "m5a", "m5d", "r5", "r5a", "r5d"}
    | {"m6g", "m6gd", "c6g", "c6gd", "r6g", "r6gd"}
)
#: Sizes too small for EFA in the families the library knows (their smallest EFA sizes are 8xlarge and up).
_NO_EFA_SIZES: Final[frozenset[str]] = frozenset({"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"})


def efa_support(instance_type: str) -> bool | None:
    """True when the type supports EFA, False when the library knows it does not, None when it cannot tell."""
    if instance_type in EFA_TYPES:
        return True
    family, _, size = instance_type.partition(".")
    if re.match(r"^t\d", family) or family in _NO_EFA_FAMILIES:
        return False
    known_family = family in _FAMILIES or family in GPU_TYPES or any(n.startswith(family + ".") for n in _SPECIAL)
    if known_family and size in _NO_EFA_SIZES:
        return False
    return None


_ARM_FAMILY: Final = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*$")

#: Instance-class values AWS Batch expands itself: "optimal" and "default_x86_64" are x86_64 families.
_BATCH_ALIASES: Final = frozenset({"optimal", "default_x86_64", "default_arm64"})


def architecture_of(family_or_type: str) -> Architecture:
    """ARM64 for Graviton families (a ``g`` after the generation digit: m7g, c6gn, hpc7g, g5g; and a1), else X86_64."""
    family = family_or_type.split(".", maxsplit=1)[0]
    if family in ("a1", "default_arm64"):
        return "ARM64"
    return "ARM64" if _ARM_FAMILY.match(family) else "X86_64"


def shape_of(instance_type: str) -> InstanceShape | None:
    """The resources of one instance type, or None when the library does not know it."""
    if instance_type in _SPECIAL:
        return _SPECIAL[instance_type]
    family, _, size = instance_type.partition(".")
    if family in GPU_TYPES:
        return GPU_TYPES[family].get(instance_type)
    if family in _FAMILIES and size in _SIZE_VCPUS:
        largest, gib_per_vcpu = _FAMILIES[family]
        if _SIZE_VCPUS[size] > _SIZE_VCPUS[largest]:
            return None
        vcpus = _SIZE_VCPUS[size]
        return InstanceShape(instance_type, vcpus, int(vcpus * gib_per_vcpu * 1024))
    return None


def shapes_of_family(family: str) -> tuple[InstanceShape, ...] | None:
    """Every size of a family the library knows (for GPU families), or just its largest size; None when unknown."""
    if family in GPU_TYPES:
        return tuple(GPU_TYPES[family].values())
    if family in _FAMILIES:
        largest = shape_of(f"{family}.{_FAMILIES[family][0]}")
        return (largest,) if largest else None
    specials = tuple(s for s in _SPECIAL.values() if s.name.startswith(family + "."))
    return specials or None


def shapes_of(instance_types: Iterable[str], instance_classes: Iterable[str]) -> tuple[InstanceShape, ...] | None:
    """All shapes an EC2 environment may launch, or None if any of its types or families is unknown."""
    shapes: list[InstanceShape] = []
    for name in instance_types:
        shape = shape_of(name)
        if shape is None:
            return None
        shapes.append(shape)
    for family in instance_classes:
        family_shapes = shapes_of_family(family)
        if family_shapes is None:
            return None
        shapes.extend(family_shapes)
    return tuple(shapes) if shapes else None


#: Fargate's valid vCPU values and the memory (MiB) each allows (API_ResourceRequirement in botocore's Batch model,
#: ``botocore/data/batch/2016-08-10/service-2.json``: "The supported values are 0.25, 0.5, 1, 2, 4, 8, 16, and 32";
#: 32 vCPU takes exactly 61440, 122880 or 249856 MiB).
FARGATE_MEMORY: Final[dict[float, tuple[int, ...]]] = {
    0.25: (512, 1024, 2048),
    0.5: tuple(range(1024, 4097, 1024)),
    1: tuple(range(2048, 8193, 1024)),
    2: tuple(range(4096, 16385, 1024)),
    4: tuple(range(8192, 30721, 1024)),
    8: tuple(range(16384, 61441, 4096)),
    16: tuple(range(32768, 122881, 8192)),
    32: (61440, 122880, 249856),
}

FARGATE_SHAPES: Final[tuple[InstanceShape, ...]] = tuple(
    InstanceShape(f"fargate-{v}", v, max(mems)) for v, mems in FARGATE_MEMORY.items()
)

#: ECS registers the memory the OS reports (an m4.large's 8192 MiB nominal shows as 7985 MiB) less 32 MiB that the
#: Batch AMI reserves for the agent (AWS Batch User Guide, "Compute resource memory management"). A job asking for more
#: than this fraction of an instance's nominal memory may never be placed on it; the library warns above it.
USABLE_MEMORY_FRACTION: Final = 0.95


def usable_memory_mib(shape: InstanceShape) -> int:
    """A conservative estimate of the memory a job can reserve on ``shape`` (EC2; Fargate sizes are exact)."""
    return int(shape.memory_mib * USABLE_MEMORY_FRACTION)


_C5: Final = ("c5", "c5d")
#: Sizes offered by most current families (3xlarge, 6xlarge, 9xlarge and 18xlarge are the exceptions).
_COMMON_SIZES: Final = (
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
)
_FAMILY_SIZES: Final[dict[str, tuple[str, ...]]] = {
    **{
        f: ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge")
        for f in ("c5", "c5d")
    },
    **{f: (*_COMMON_SIZES[:8], "48xlarge") for f in ("m7i", "c7i", "r7i", "m8g", "c8g", "r8g")},
    "m4": ("large", "xlarge", "2xlarge", "4xlarge", "16xlarge"),
    "r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
}


def smallest_fitting(family: str, vcpus: float, memory_mib: int, gpus: int = 0) -> InstanceShape | None:
    """The smallest size of ``family`` the library knows that holds the job with memory headroom, or None."""
    if family in GPU_TYPES:
        candidates = sorted(GPU_TYPES[family].values(), key=lambda s: (s.vcpus, s.memory_mib))
    else:
        sizes = _FAMILY_SIZES.get(family, _COMMON_SIZES)
        known = (shape_of(f"{family}.{size}") for size in sizes)
        candidates = sorted((s for s in known if s is not None), key=lambda s: (s.vcpus, s.memory_mib))
    for shape in candidates:
        if vcpus <= shape.vcpus and memory_mib <= usable_memory_mib(shape) and gpus <= shape.gpus:
            return shape
    return None
