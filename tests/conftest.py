"""Session fixtures. Each example app is synthesized with the five cdk-nag packs registered (so a finding fails the
synthesis, as in ``make synth``) and shared by every test that needs it.

An app is synthesized at most once per test run, across pytest-xdist workers too, and not at all when nothing it is
built from has changed since an earlier run: :func:`synthesized_once` keeps each cloud assembly under
``.pytest_cache/synthesized/<inputs digest>/``, where the digest covers every file a synthesis reads (the library, the
apps, ``cdk.json``, the pinned dependencies, these fixtures) and the installed versions of aws-cdk-lib, constructs,
cdk-nag and jsii. Set ``BATCH_CONSTRUCTS_FRESH_SYNTH=1`` (or delete ``.pytest_cache``) to synthesize everything anew.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import importlib.metadata
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import aws_cdk as cdk

#: The repository's root.
ROOT = pathlib.Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Load moto (``tests/aws_mock.py``) before any test module creates a boto3 session, in each process running tests.

    Not in a pytest-xdist controller, which only hands tests out: this module imports neither moto nor the CDK at
    import time (each import below is where it is used), so the controller starts no jsii kernel and the workers
    start about 2 s sooner.
    """
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        from . import aws_mock  # noqa: F401
    if hasattr(config, "workerinput"):
        _end_worker_quickly(config)


def _end_worker_quickly(config: pytest.Config) -> None:
    """Spare each pytest-xdist worker the full garbage collections of its heap at the end (2-3 s of the run's tail).

    A worker ends holding every construct its tests built, mirrored as Python objects of jsii: a full collection of
    that heap takes about a second here, and a worker ran two after its last test, pytest's final search for
    exceptions raised in ``__del__`` (pytest checks for those before every test as well) and the interpreter's own at
    exit. Both are skipped: the search through pytest's stash key for its number of collection passes (kept when a
    later pytest drops the key), the exit by ending the process with ``os._exit`` in an exit handler: it runs once
    every result has reached the controller (the worker's session is over) and after every handler registered later
    (jsii stops its kernel in one); the few registered before it, at start-up (logging's final flush), do not run.
    Only workers: a run without xdist ends as usual. tests/test_conftest.py checks that results, output and failures
    still arrive.
    """
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:
        pass
    else:
        config.stash[gc_collect_iterations_key] = 0

    def end_now() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    atexit.register(end_now)


@dataclass(frozen=True)
class SynthesizedApp:
    """One example app module, synthesized."""

    module: str
    outdir: pathlib.Path
    templates: dict[str, dict[str, Any]]  # stack name -> template

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.templates[stack_name]


#: Where synthesized cloud assemblies are kept between runs (one folder per inputs digest).
SYNTH_CACHE = ROOT / ".pytest_cache" / "synthesized"
#: What a synthesis reads: every file under these paths (byte for byte, with its path).
SYNTH_INPUTS = ("apps", "batch_constructs", "cdk.json", "constraints.txt", "tests/conftest.py", "tests/helpers.py")
#: The installed distributions whose versions decide what a synthesis writes.
SYNTH_DISTRIBUTIONS = ("aws-cdk-lib", "constructs", "cdk-nag", "jsii")


@functools.cache
def inputs_digest() -> str:
    """SHA-256 of everything a synthesis of the example apps depends on (see :data:`SYNTH_INPUTS`)."""
    from integ.snapshots import digest_of, files_under

    versions = [sys.version, *(f"{name}=={importlib.metadata.version(name)}" for name in SYNTH_DISTRIBUTIONS)]
    return digest_of(files_under(SYNTH_INPUTS), seed="\0".join(versions).encode())[:24]


def synthesized_once(
    name: str, build: Callable[[pathlib.Path], None], reads: tuple[pathlib.Path, ...] = ()
) -> pathlib.Path:
    """The output folder of ``build(outdir)`` for the current inputs: built once, then read from the cache.

    ``build`` must raise on any failure; only a build that returned is marked complete and reused. Workers and runs
    that need the same ``name`` at the same time wait on a file lock, so each is built once. ``reads``: files beyond
    :data:`SYNTH_INPUTS` that ``build`` depends on (e.g. the test module that defines it); their contents key the
    output too.
    """
    folder = SYNTH_CACHE / inputs_digest()
    folder.mkdir(parents=True, exist_ok=True)
    if reads:
        name += "." + hashlib.sha256(b"\0".join(path.read_bytes() for path in reads)).hexdigest()[:12]
    outdir = folder / name
    done = outdir / "synthesized.ok"
    # This test run (shared by its pytest-xdist workers): a fresh run rebuilds what an earlier run built, once.
    this_run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid-{os.getpid()}")
    fresh = os.environ.get("BATCH_CONSTRUCTS_FRESH_SYNTH") == "1"
    with (folder / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() or (fresh and done.read_text() != this_run):
            shutil.rmtree(outdir, ignore_errors=True)
            build(outdir)
            done.write_text(this_run)
        os.utime(folder)
    _prune(keep=folder)
    return outdir


def _prune(keep: pathlib.Path, older_than_s: float = 3600.0) -> None:
    """Delete the assemblies of other inputs not used for an hour (each edit of the library leaves one behind)."""
    for other in SYNTH_CACHE.iterdir():
        if other != keep and other.is_dir() and time.time() - other.stat().st_mtime > older_than_s:
            shutil.rmtree(other, ignore_errors=True)


@pytest.fixture(scope="session")
def synth_app() -> Callable[[str], SynthesizedApp]:
    """``synth_app("movies_importer")``: that app's stacks, synthesized once (see :func:`synthesized_once`)."""
    cache: dict[str, SynthesizedApp] = {}

    def get(module: str) -> SynthesizedApp:
        if module not in cache:
            outdir = synthesized_once(f"cdk.out.{module}", functools.partial(_synthesize, module))
            from aws_cdk import cx_api

            assembly = cx_api.CloudAssembly(str(outdir))
            cache[module] = SynthesizedApp(module, outdir, {s.stack_name: s.template for s in assembly.stacks})
        return cache[module]

    return get


def _synthesize(module: str, outdir: pathlib.Path) -> None:
    """Synthesize one example app with the five cdk-nag packs; fail on any finding, warnings included."""
    from apps import add_app
    from batch_constructs.compliance import add_compliance_packs, unacknowledged_findings

    from .helpers import new_app

    app = new_app(validate=True, outdir=str(outdir))
    add_app(app, module)
    add_compliance_packs(app)
    assembly = app.synth()
    findings = unacknowledged_findings(assembly.directory)
    assert findings == [], f"cdk-nag findings in {module} (warnings included): {findings}"


#: The environment (account, region) the pinned variant of every example app is synthesized in.
PINNED_ACCOUNT = "123456789012"
PINNED_REGION = "eu-west-1"
#: The stage the pinned stacks are synthesized in.
PINNED_STAGE = "Pinned"
#: What an AZ lookup returns in that environment: given as context, so the VPC gets real AZ names without a network
#: call (and not dummy1a/dummy1b, which a missing lookup writes).
PINNED_AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


@pytest.fixture(scope="session")
def pinned_app() -> Callable[[str], SynthesizedApp]:
    """``pinned_app("movies_importer")``: that app's stacks pinned to :data:`PINNED_REGION`, synthesized once.

    The stacks are added under a ``cdk.Stage`` that carries the environment (so the apps need no env parameter): CDK
    then writes literal account, region and partition where an agnostic stack has pseudo-parameters, as a platform
    team's pinned stacks do. Zero findings, warnings included, is asserted as for :func:`synth_app`.
    """
    cache: dict[str, SynthesizedApp] = {}

    def get(module: str) -> SynthesizedApp:
        if module not in cache:
            outdir = synthesized_once(f"cdk.out.pinned.{module}", functools.partial(_synthesize_pinned, module))
            from aws_cdk import cx_api

            assembly = cx_api.CloudAssembly(str(outdir))
            stage_assembly = assembly.get_nested_assembly(f"assembly-{PINNED_STAGE}")  # Stage.artifact_id
            cache[module] = SynthesizedApp(module, outdir, {s.stack_name: s.template for s in stage_assembly.stacks})
        return cache[module]

    return get


def _synthesize_pinned(module: str, outdir: pathlib.Path) -> None:
    import aws_cdk as cdk

    from apps import add_app
    from batch_constructs.compliance import add_compliance_packs, unacknowledged_findings

    from .helpers import new_app

    app = new_app(validate=True, outdir=str(outdir))
    app.node.set_context(f"availability-zones:account={PINNED_ACCOUNT}:region={PINNED_REGION}", PINNED_AZS)
    stage = cdk.Stage(app, PINNED_STAGE, env=cdk.Environment(account=PINNED_ACCOUNT, region=PINNED_REGION))
    add_app(stage, module)
    add_compliance_packs(app)
    assembly = app.synth()
    findings = unacknowledged_findings(assembly.directory)
    assert findings == [], f"cdk-nag findings in pinned {module} (warnings included): {findings}"


@pytest.fixture(scope="session")
def all_apps(synth_app: Callable[[str], SynthesizedApp]) -> list[SynthesizedApp]:
    """Every example app, synthesized (each once per session)."""
    from apps import APP_MODULES

    return [synth_app(name) for name in APP_MODULES]


@pytest.fixture
def stack() -> cdk.Stack:
    """A fresh, environment-agnostic stack with the project's feature flags."""
    import aws_cdk as cdk

    from .helpers import new_app

    return cdk.Stack(new_app(), "Test")
