"""PEP 562 lazy exports for a package's facade: each public name is imported from its module on first use.

Standard library only, so that importing a facade (``batch_constructs``, ``batch_constructs.triggers``) loads no CDK
module and starts no jsii kernel until a construct is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: MutableMapping[str, object], public: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose ``namespace`` (its ``globals()``) gets each name of
    ``exports`` (name -> relative module) from its module on first access; ``public`` (its ``__all__``) is listed by
    ``dir()`` before any has been loaded."""
    listed = set(public)

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | listed)

    return __getattr__, __dir__
