"""The installable package: the wheel builds, holds the library and nothing else, and works in a clean virtual
environment that has only its runtime dependencies.

The wheel is built from a copy of ``pyproject.toml``, ``README.md`` and ``batch_constructs/`` (``python -m build
--wheel --no-isolation``: no network, the build tools are in the dev extra), once per change of those files: the
suite's cache keeps it between runs, as it keeps the example apps' assemblies.

Offline (the default, about 4 s): a new virtual environment without pip gets the wheel with ``--no-deps
--no-index``, and a private site directory (a ``.pth`` file) holding links to exactly the distributions the wheel's
``Requires-Dist`` needs, resolved transitively from this project's ``.venv``; nothing else of ``.venv`` is visible, so
an import of anything undeclared (cdk-nag, boto3, the apps) fails. Installing aws-cdk-lib and its dependencies from
the package index takes 35-45 s here (about 100 MB), too slow for every test run: ``make wheel-check`` does it
(``BATCH_CONSTRUCTS_INSTALL_FROM_INDEX=1``), as a user's ``pip install`` would.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import batch_constructs

from .conftest import synthesized_once
from .helpers import ROOT

#: The runtime dependencies the wheel may declare (everything else is an extra).
RUNTIME_DEPENDENCIES = {"aws-cdk-lib", "constructs"}
#: Set to 1 to install the wheel and its dependencies from the package index (network, about a minute).
FROM_INDEX = os.environ.get("BATCH_CONSTRUCTS_INSTALL_FROM_INDEX") == "1"
#: A wheel to test instead of building one (``make wheel-check`` passes the one ``make wheel`` built).
GIVEN_WHEEL = os.environ.get("BATCH_CONSTRUCTS_WHEEL")

#: Run by the clean environment's Python. ``import``: import the package, and report its version, where it was
#: imported from, whether the Lambda handler (package data) is there, and which undeclared packages are importable.
#: ``synth`` also defines a job on an imported queue and the Lambda submitter and synthesizes them: about 5 s more
#: (the jsii kernel loading aws-cdk-lib), so only ``make wheel-check`` does it.
SMOKE = r"""
import importlib.util, json, pathlib, sys
import batch_constructs
from batch_constructs.triggers import lambda_submitter

result = {
    "version": batch_constructs.__version__,
    "file": batch_constructs.__file__,
    "handler": (lambda_submitter.HANDLER_DIR / "index.py").is_file(),
    "undeclared": [m for m in ("cdk_nag", "boto3", "moto", "pytest", "apps") if importlib.util.find_spec(m)],
}
if sys.argv[1] == "synth":
    import aws_cdk as cdk
    from aws_cdk import aws_batch as batch
    from batch_constructs import ContainerJob, LambdaSubmitter

    outdir = pathlib.Path(sys.argv[2])
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Smoke")
    queue = batch.JobQueue.from_job_queue_arn(stack, "Queue", "arn:aws:batch:us-east-1:111122223333:job-queue/jobs")
    image = "public.ecr.aws/docker/library/python:3.13-slim"
    job = ContainerJob(stack, "Job", queue=queue, platform="FARGATE", image=image)
    LambdaSubmitter(stack, "Submitter", job=job)
    template = app.synth().get_stack_by_name("Smoke").template
    result["types"] = sorted({r["Type"] for r in template["Resources"].values()})
    result["assets"] = sorted(str(p.relative_to(outdir)) for p in outdir.glob("asset.*/index.py"))
print(json.dumps(result))
"""


def _build_wheel(outdir: pathlib.Path) -> None:
    """Build the wheel into ``outdir`` from a copy of the sources (so a stray build/ or egg-info cannot leak)."""
    work = outdir.with_name(outdir.name + ".src")
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "batch_constructs", src / "batch_constructs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    try:
        run = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel() -> pathlib.Path:
    """The wheel: built once per change of its inputs (the library, ``pyproject.toml``, ``README.md``, the pinned
    build tools in ``constraints.txt``), then reused from the suite's cache (see ``conftest.synthesized_once``)."""
    if GIVEN_WHEEL:
        return pathlib.Path(GIVEN_WHEEL).resolve()
    built = synthesized_once("wheel", _build_wheel, reads=(ROOT / "pyproject.toml", ROOT / "README.md"))
    (found,) = built.glob("*.whl")
    return found


def _names(wheel: pathlib.Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _metadata(wheel: pathlib.Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(meta).decode())


def test_wheel_holds_the_library_with_its_type_marker_and_lambda_handler(wheel: pathlib.Path) -> None:
    names = _names(wheel)
    # THEN every module of the package is there, with py.typed and the submitter's handler (package data)
    modules = sorted(f"batch_constructs/{p.name}" for p in (ROOT / "batch_constructs").glob("*.py"))
    assert [m for m in modules if m not in names] == []
    assert "batch_constructs/py.typed" in names
    assert "batch_constructs/_lambda/submitter/index.py" in names
    # AND nothing else: no example apps, tests, docs or benchmarks, no byte code
    top_level = {n.split("/", 1)[0] for n in names}
    assert top_level == {"batch_constructs", f"batch_constructs-{batch_constructs.__version__}.dist-info"}
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc")] == []


def test_wheel_metadata_declares_the_version_and_only_the_runtime_dependencies(wheel: pathlib.Path) -> None:
    meta = _metadata(wheel)
    assert meta["Name"] == "batch-constructs"
    # The one version: batch_constructs.__version__, read by setuptools' dynamic version.
    assert meta["Version"] == batch_constructs.__version__
    assert wheel.name == f"batch_constructs-{batch_constructs.__version__}-py3-none-any.whl"
    assert meta["Requires-Python"] == ">=3.11"
    requirements = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    runtime = {canonicalize_name(r.name) for r in requirements if r.marker is None}
    assert runtime == RUNTIME_DEPENDENCIES
    nag = {canonicalize_name(r.name) for r in requirements if r.marker and r.marker.evaluate({"extra": "nag"})}
    assert "cdk-nag" in nag


def _runtime_distributions(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions that ``requirements`` need, transitively (extras and markers honoured)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending: list[tuple[str, frozenset[str]]] = [(r, frozenset({""})) for r in requirements]
    while pending:
        text, active_extras = pending.pop()
        requirement = Requirement(text)
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in active_extras):
            continue
        name = canonicalize_name(requirement.name)
        dist = importlib.metadata.distribution(requirement.name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (text, dist.version)
        if name in found:
            continue
        found[name] = dist
        extras = frozenset({"", *requirement.extras})
        pending += [(r, extras) for r in dist.requires or []]
    return [found[k] for k in sorted(found)]


def _link_distributions(dists: list[importlib.metadata.Distribution], site: pathlib.Path) -> None:
    """Mirror each distribution's installed files (its .dist-info, and its byte code: compiling aws-cdk-lib's modules
    afresh would take half a minute) into ``site`` as symbolic links."""
    for dist in dists:
        for file in dist.files or []:
            if ".." in file.parts:
                continue
            source = pathlib.Path(str(dist.locate_file(file))).resolve()
            target = site / file
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(source)


def _environment() -> dict[str, str]:
    """The child's environment: the pinned Node first on PATH (jsii), and nothing pointing at this project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), env.get("PATH", "")])
    return env


def _smoke(python: pathlib.Path, workdir: pathlib.Path, mode: str) -> dict[str, Any]:
    run = subprocess.run(
        [str(python), "-I", "-c", SMOKE, mode, str(workdir / "cdk.out")],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
        env=_environment(),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _assert_imported_from(result: dict[str, Any], venv: pathlib.Path) -> None:
    assert result["version"] == batch_constructs.__version__
    # imported from the clean environment, not from this work tree
    assert pathlib.Path(result["file"]).resolve().is_relative_to(venv.resolve()), result["file"]
    assert result["handler"], "the Lambda submitter's handler is not installed with the package"
    assert result["undeclared"] == [], "the clean environment is not clean"


@pytest.fixture
def clean_venv(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    venv = tmp_path / "venv"
    # A venv made by a venv's Python is based on the same base interpreter, not on the project's .venv.
    without_pip = [] if FROM_INDEX else ["--without-pip"]
    subprocess.run([sys.executable, "-m", "venv", *without_pip, str(venv)], check=True, env=_environment())
    yield venv


def _site_packages(venv: pathlib.Path) -> pathlib.Path:
    (site,) = venv.glob("lib/python3.*/site-packages")
    return site


@pytest.mark.skipif(FROM_INDEX, reason="the index install below replaces this offline check")
def test_wheel_works_in_a_clean_venv_with_only_its_runtime_dependencies(
    wheel: pathlib.Path, clean_venv: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # GIVEN a clean virtual environment that sees only the wheel's runtime dependencies
    requirements = _metadata(wheel).get_all("Requires-Dist") or []
    dists = _runtime_distributions([r for r in requirements if Requirement(r).marker is None])
    names = {canonicalize_name(d.metadata["Name"]) for d in dists}
    assert RUNTIME_DEPENDENCIES <= names
    assert not names & {"batch-constructs", "cdk-nag", "boto3", "pytest", "moto"}, names
    runtime_site = tmp_path / "runtime-site"
    _link_distributions(dists, runtime_site)
    (_site_packages(clean_venv) / "runtime_dependencies.pth").write_text(f"{runtime_site}\n")
    python = clean_venv / "bin" / "python"
    # WHEN the wheel is installed there, without its dependencies and without an index
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        env=_environment(),
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    # THEN the package imports from there (with its handler), and nothing undeclared is importable
    _assert_imported_from(_smoke(python, tmp_path, "import"), clean_venv)
    # AND the console script is installed; without the [cli] extra (no boto3) it says how to get it, in one line
    script = clean_venv / "bin" / "batch-constructs"
    for argv, code in ((["--help"], 0), (["--region", "us-east-1", "status"], 2)):
        cli = subprocess.run(
            [str(script), *argv], capture_output=True, text=True, check=False, cwd=tmp_path, env=_environment()
        )
        assert cli.returncode == code, cli.stdout + cli.stderr
    assert cli.stderr == "batch-constructs: the batch-constructs CLI needs boto3: pip install 'batch-constructs[cli]'\n"


@pytest.mark.skipif(not FROM_INDEX, reason="network; run `make wheel-check` (BATCH_CONSTRUCTS_INSTALL_FROM_INDEX=1)")
def test_wheel_installs_from_the_index_into_a_clean_venv(
    wheel: pathlib.Path, clean_venv: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # GIVEN a clean virtual environment with pip, WHEN the wheel is installed with its dependencies from the index
    python = clean_venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    install = subprocess.run([*pip, "install", "--quiet", str(wheel)], capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    # THEN pip finds every requirement satisfied, and nothing but the runtime dependencies' closure was installed
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = subprocess.run([*pip, "list", "--format", "json"], capture_output=True, text=True, check=True)
    installed = {canonicalize_name(p["name"]) for p in json.loads(listed.stdout)}
    assert RUNTIME_DEPENDENCIES <= installed
    assert not installed & {"cdk-nag", "boto3", "pytest", "moto"}, installed
    # AND the package imports from there, and a job and the Lambda submitter (with its handler asset) synthesize
    result = _smoke(python, tmp_path, "synth")
    _assert_imported_from(result, clean_venv)
    assert {"AWS::Batch::JobDefinition", "AWS::Lambda::Function", "AWS::SQS::Queue"} <= set(result["types"])
    assert result["assets"], "the Lambda submitter's handler did not reach the cloud assembly"
