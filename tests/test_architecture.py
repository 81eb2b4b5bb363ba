"""The package's layers depend one way, and the pure and run-time layers never load the CDK.

Every module of ``batch_constructs`` belongs to one layer (``LAYERS``); a module may import its own layer and the layers
below it, never one above. The run-time layer (code that runs in AWS or on a user's terminal) may import only the
errors and the pure model. The README's architecture section draws the same table as a Mermaid diagram; a test keeps
the two in step. A new top-level module or folder must be placed in a layer here first.
"""

from __future__ import annotations

import ast
import importlib
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "batch_constructs"
DOC = ROOT / "README.md"

#: Layer name -> (rank, the top-level modules or folders in it, what it is). Higher ranks may import lower ones.
LAYERS: dict[str, tuple[int, tuple[str, ...], str]] = {
    "errors": (0, ("errors",), "the one error type"),
    "model": (1, ("model",), "pure: what AWS Batch accepts (capacities, limits, rules, registry)"),
    "internal": (2, ("_internal",), "private CDK helpers (validation, IAM, logs, compliance)"),
    "constructs": (
        3,
        (
            "types",
            "network",
            "roles",
            "compute",
            "queue",
            "jobs",
            "platform",
            "storage",
            "compliance",
            "contract",
            "testing",
        ),
        "the constructs: network, roles, environments, queues, jobs, platform, storage",
    ),
    "triggers": (4, ("triggers", "monitoring"), "what starts and watches jobs"),
    "facade": (5, ("__init__",), "the lazy public facade"),
}
#: Code that runs in AWS (the Lambda) or on a user's terminal (the CLI): boto3, the errors and the pure model only.
RUNTIME: tuple[str, ...] = ("_lambda", "cli", "__main__")
RUNTIME_MAY_IMPORT: tuple[str, ...] = ("errors", "model")
CDK_MODULES = ("aws_cdk", "constructs", "jsii")


def top_of(module: str) -> str:
    """``batch_constructs.jobs.base`` -> ``jobs``; ``batch_constructs`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(top: str) -> str:
    if top in RUNTIME:
        return "runtime"
    for name, (_, members, _) in LAYERS.items():
        if top in members:
            return name
    raise AssertionError(f"batch_constructs.{top} is in no layer: add it to LAYERS or RUNTIME in {__file__}")


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def parse(path: pathlib.Path, at_run_time: bool = False) -> ast.Module:
    """``path``'s syntax tree; ``at_run_time``: with the bodies of ``if TYPE_CHECKING:`` blocks removed."""
    tree = ast.parse(path.read_text())
    if at_run_time:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
    return tree


def package_of(path: pathlib.Path) -> str:
    """The package relative imports in ``path`` start from."""
    here = module_name(path)
    return here if path.name == "__init__.py" else here.rsplit(".", 1)[0]


def resolve_relative(package: str, relative: str) -> str:
    """``..types`` from ``batch_constructs.jobs`` -> ``batch_constructs.types``."""
    level = len(relative) - len(relative.lstrip("."))
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    rest = relative.lstrip(".")
    return ".".join(base + ([rest] if rest else []))


def imports_of(path: pathlib.Path, at_run_time: bool = False) -> set[str]:
    """Every module ``path`` imports, relative imports resolved (``TYPE_CHECKING`` blocks included: they are edges too,
    except in the facade, whose ``TYPE_CHECKING`` block only names what ``__getattr__`` loads; ``at_run_time``: without
    them)."""
    tree = parse(path, at_run_time)
    package = package_of(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = resolve_relative(package, "." * node.level + (node.module or ""))
                # "from . import x" imports the submodule x
                found |= {f"{target}.{a.name}" for a in node.names} if not node.module else {target}
            elif node.module:
                found.add(node.module)
    return found


def package_modules() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_layer() -> None:
    for path in package_modules():
        layer_of(top_of(module_name(path)))


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_it(path: pathlib.Path) -> None:
    here = module_name(path)
    layer = layer_of(top_of(here))
    for imported in sorted(imports_of(path)):
        top_level = imported.split(".")[0]
        if layer in ("runtime", "errors", "model"):
            assert top_level not in CDK_MODULES, f"{here} ({layer}) imports {imported}: the CDK is not allowed here"
        if layer in ("errors", "model"):
            assert top_level not in ("boto3", "botocore"), f"{here} ({layer}) imports {imported}"
        if top_level != "batch_constructs" or layer == "facade":
            continue
        target = layer_of(top_of(imported))
        if layer == "runtime":
            allowed = top_of(imported) in RUNTIME_MAY_IMPORT or top_of(imported) == top_of(here)
            # ``python -m batch_constructs`` is the CLI's second entry point
            allowed = allowed or (top_of(here), top_of(imported)) == ("__main__", "cli")
            assert allowed, f"{here} (run-time) imports {imported}: only {RUNTIME_MAY_IMPORT} and itself"
            continue
        assert target != "runtime", f"{here} imports the run-time module {imported}"
        assert LAYERS[target][0] <= LAYERS[layer][0], f"{here} ({layer}) imports {imported} ({target}), a layer above"


def test_no_module_outside_its_family_imports_private_code() -> None:
    """``_underscore`` modules are private to their folder; ``_internal`` is the one shared private boundary."""
    for path in package_modules():
        here = module_name(path)
        for imported in imports_of(path):
            parts = imported.split(".")
            for depth, part in enumerate(parts[1:], start=1):
                if part.startswith("_") and part not in ("_internal", "__init__"):
                    owner = ".".join(parts[:depth])
                    assert here.startswith(owner), f"{here} imports {imported}, private to {owner}"


def loaded_modules(*modules: str) -> set[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(run.stdout))


def test_the_pure_layer_and_the_errors_load_no_cdk_and_no_boto3() -> None:
    pure = [module_name(p) for p in package_modules() if layer_of(top_of(module_name(p))) in ("errors", "model")]
    loaded = loaded_modules(*pure)
    assert not loaded & {*CDK_MODULES, "boto3", "botocore"}, sorted(loaded & {*CDK_MODULES, "boto3", "botocore"})


def test_the_run_time_layer_loads_no_cdk() -> None:
    runtime = [
        module_name(p)
        for p in package_modules()
        if layer_of(top_of(module_name(p))) == "runtime" and "_lambda" not in p.parts and p.name != "__main__.py"
    ]
    if not runtime:
        pytest.skip("no run-time package yet")
    loaded = loaded_modules(*runtime)
    assert not loaded & set(CDK_MODULES), sorted(loaded & set(CDK_MODULES))


def test_importing_the_package_starts_no_node_process() -> None:
    """``import batch_constructs`` and ``batch_constructs.errors`` load nothing of the CDK until a construct is used."""
    assert not loaded_modules("batch_constructs", "batch_constructs.errors") & set(CDK_MODULES)


@pytest.mark.parametrize("package", ["batch_constructs", "batch_constructs.jobs", "batch_constructs.triggers"])
def test_a_lazy_package_resolves_every_public_name(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert sorted(dir(module)) == sorted(set(dir(module)) | set(module.__all__))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        module.NoSuchThing  # noqa: B018


def lazy_exports_of(package: pathlib.Path) -> dict[str, str]:
    """A lazy package's ``_EXPORTS`` (public name -> module, relative), read from its ``__init__``; {} for others."""
    for node in ast.parse(package.read_text()).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in targets) and node.value is not None:
                exports: dict[str, str] = ast.literal_eval(node.value)
                return exports
    return {}


def names_imported_from(path: pathlib.Path) -> list[tuple[str, str]]:
    """``(module, name)`` of each ``from module import name`` that runs on import (``TYPE_CHECKING`` blocks excluded),
    relative modules resolved."""
    package = package_of(path)
    found: list[tuple[str, str]] = []
    for node in ast.walk(parse(path, at_run_time=True)):
        if isinstance(node, ast.ImportFrom):
            target = resolve_relative(package, "." * node.level + (node.module or "")) if node.level else node.module
            found += [(target or "", alias.name) for alias in node.names]
    return found


def import_closure(module: str) -> set[str]:
    """The package modules that importing ``module`` runs, directly or not, read from the source (imports inside
    functions count; ``TYPE_CHECKING`` blocks do not), each package's ``__init__`` included. A name imported from a
    lazy package (``from ..jobs import MultiNodeJob``) counts the module its ``_EXPORTS`` loads it from."""
    paths = {module_name(p): p for p in package_modules()}
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__ and a/b/__init__ first; an imported name that is no module is skipped
        candidates = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        for candidate in candidates:
            if candidate in paths and candidate not in seen:
                seen.add(candidate)
                imported = imports_of(paths[candidate], at_run_time=True)
                pending += [m for m in imported if m.startswith("batch_constructs")]
                for source, imported_name in names_imported_from(paths[candidate]):
                    if source in paths and paths[source].name == "__init__.py":
                        lazy = lazy_exports_of(paths[source]).get(imported_name)
                        if lazy is not None:
                            pending.append(resolve_relative(source, lazy))
    return seen


def test_a_container_job_loads_no_other_job_kind() -> None:
    """``batch_constructs.jobs`` is lazy: the container job (what most apps use) loads neither the multi-container nor
    the multi-node module."""
    closure = import_closure("batch_constructs.jobs.container")
    assert "batch_constructs.jobs" in closure
    assert not closure & {"batch_constructs.jobs.multicontainer", "batch_constructs.jobs.multinode"}, sorted(closure)


def test_the_import_closure_follows_a_lazy_package_to_the_module_it_loads() -> None:
    """The test above must see ``from ..jobs import MultiNodeJob`` load ``jobs.multinode``, through ``_EXPORTS``."""
    # the triggers' common module imports BatchJob and ImportedJob from the lazy jobs package
    closure = import_closure("batch_constructs.triggers._common")
    assert {"batch_constructs.jobs.base", "batch_constructs.jobs.imported"} <= closure
    assert resolve_relative("batch_constructs.jobs", "..types") == "batch_constructs.types"
    assert lazy_exports_of(PACKAGE / "jobs" / "__init__.py")["MultiNodeJob"] == ".multinode"


def test_every_public_module_sets_all() -> None:
    missing = [
        module_name(p)
        for p in package_modules()
        if not any(part.startswith("_") and part != "__init__.py" for part in p.relative_to(PACKAGE).parts)
        and p.name != "__main__.py"
        and "__all__" not in p.read_text()
    ]
    assert not missing, f"public modules without __all__: {missing}"


def mermaid() -> str:
    """The layers as a Mermaid flowchart: an arrow from each layer to the one it builds on."""
    ordered = sorted(LAYERS.items(), key=lambda item: item[1][0])
    lines = ["```mermaid", "flowchart TD"]
    for name, (_, members, what) in ordered:
        present = [m for m in members if (PACKAGE / m).is_dir() or (PACKAGE / f"{m}.py").exists()]
        label = f"{name}: {', '.join(present)}<br/>{what}"
        lines.append(f'    {name}["{label}"]')
    lines.append(f'    runtime["runtime: {", ".join(RUNTIME)}<br/>boto3 + errors + model, never the CDK"]')
    for (upper, _), (lower, _) in zip(ordered[1:][::-1], ordered[:-1][::-1], strict=True):
        lines.append(f"    {upper} --> {lower}")
    lines += [f"    runtime --> {target}" for target in RUNTIME_MAY_IMPORT]
    lines.append("```")
    return "\n".join(lines) + "\n"


def test_the_architecture_diagram_matches_the_layers() -> None:
    assert mermaid() in DOC.read_text(), f"README.md's architecture diagram is stale; it should be:\n{mermaid()}"


if __name__ == "__main__":
    print(mermaid(), end="")
