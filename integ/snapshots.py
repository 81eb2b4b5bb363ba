"""The integration tests' snapshots: ``integ/integ_<app>.py.snapshot/`` holds what each test app synthesizes.

Each snapshot directory has every stack's template (``<stack>.template.json``: the stacks under test, and the assertion
stack ``<Name>DefaultTestDeployAssert<hash>``) and the test manifest ``integ.json`` (which stacks are test cases,
which one asserts), laid out as integ-runner lays its snapshots out, but scrubbed of what changes without the
infrastructure changing: asset hashes (a change of job code is a new image, not a new template) and the ``salt`` that
integ-tests puts in every assertion (the synthesis time, so that each deploy runs the assertions again). Cloud
assembly files that describe assets, metadata and the construct tree are not kept.

``python -m integ.snapshots`` (``make integ-snapshots``) rewrites them; ``tests/test_integ_snapshots.py`` checks,
offline, that they are current and that cfn-lint finds nothing in them.

Each snapshot also records a fingerprint (``fingerprint.sha256``): the SHA-256 of every file synthesis reads (the
example apps, the library, the test apps and their fixtures, ``cdk.json`` and the pinned versions) and of the snapshot
itself. While both are unchanged the snapshot is, by construction, what synthesis would write, and the test skips the
synthesis (about 2 s of CPU per app); after any change it synthesizes and compares.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from typing import Any, Final

from integ._common import CONTEXT
from integ.integ_gpu_training import GPU_JOB_VARIABLE

HERE: Final = pathlib.Path(__file__).resolve().parent
#: The test apps, one per example app (``integ_<example>.py``).
MODULES: Final = tuple(sorted(p.stem for p in HERE.glob("integ_*.py")))

ROOT: Final = HERE.parent
#: What synthesis reads: the files under these paths (byte code and snapshots aside).
INPUTS: Final = (
    "apps",
    "batch_constructs",
    "integ",
    "cdk.json",
    "constraints.txt",
    "package-lock.json",
    "pyproject.toml",
)
FINGERPRINT_FILE: Final = "fingerprint.sha256"

_ASSET_HASH: Final = re.compile(r"[0-9a-f]{64}")
_SALT: Final = re.compile(r'"salt": "\d+"')


def snapshot_dir(module: str) -> pathlib.Path:
    """Where ``module``'s snapshot lives (integ-runner's naming: the test file's name plus ``.snapshot``)."""
    return HERE / f"{module}.py.snapshot"


def scrub(text: str) -> str:
    """``text`` (JSON) without asset hashes and assertion salts."""
    return _SALT.sub('"salt": "SALT"', _ASSET_HASH.sub("ASSET_HASH", text))


def _dump(document: Any) -> str:
    return scrub(json.dumps(document, indent=1, sort_keys=True)) + "\n"


def synthesize(module: str, outdir: pathlib.Path) -> dict[str, str]:
    """Synthesize ``integ.<module>`` into ``outdir``: snapshot file name -> scrubbed content."""
    import aws_cdk as cdk

    build = importlib.import_module(f"integ.{module}").build
    # Asset staging off: the snapshot keeps no asset, and copying the AWS CLI layer of a BucketDeployment (21 MB) and
    # the integ-tests handler (6 MB) per app would be most of the synthesis time.
    app = cdk.App(context={**CONTEXT, "aws:cdk:disable-asset-staging": True}, outdir=str(outdir))
    # The snapshot is the default variant: without the opt-in GPU job, whatever the caller's environment says.
    opt_in = os.environ.pop(GPU_JOB_VARIABLE, None)
    try:
        build(app)
    finally:
        if opt_in is not None:
            os.environ[GPU_JOB_VARIABLE] = opt_in
    assembly = app.synth()
    files = {f"{stack.stack_name}.template.json": _dump(stack.template) for stack in assembly.stacks}
    files["integ.json"] = _dump(json.loads((outdir / "integ.json").read_text()))
    return files


def committed(module: str) -> dict[str, str]:
    """The committed snapshot of ``module``: file name -> content (empty when there is none)."""
    directory = snapshot_dir(module)
    return {p.name: p.read_text() for p in sorted(directory.glob("*.json"))} if directory.is_dir() else {}


def files_under(names: Iterable[str]) -> list[pathlib.Path]:
    """Every file at or under each of ``names`` (paths from the root), sorted per name; no bytecode, no snapshot."""
    found: list[pathlib.Path] = []
    for name in names:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        found += [
            p
            for p in candidates
            if "__pycache__" not in p.parts and p.suffix != ".pyc" and not any(x.endswith(".snapshot") for x in p.parts)
        ]
    return found


def digest_of(files: Iterable[pathlib.Path], seed: bytes = b"") -> str:
    """SHA-256 of ``seed`` and the paths (from the root) and contents of ``files``."""
    digest = hashlib.sha256(seed)
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _input_files() -> list[pathlib.Path]:
    return files_under(INPUTS)


def inputs_digest() -> str:
    """SHA-256 of the paths and contents of every file synthesis reads."""
    return digest_of(_input_files())


def fingerprint(files: dict[str, str], inputs: str) -> str:
    """The fingerprint of a snapshot's ``files`` synthesized from the inputs whose digest is ``inputs``."""
    digest = hashlib.sha256(inputs.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def recorded_fingerprint(module: str) -> str:
    path = snapshot_dir(module) / FINGERPRINT_FILE
    return path.read_text().strip() if path.is_file() else ""


def write(module: str, files: dict[str, str], inputs: str) -> None:
    directory = snapshot_dir(module)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    for name, content in files.items():
        (directory / name).write_text(content)
    (directory / FINGERPRINT_FILE).write_text(fingerprint(files, inputs) + "\n")


def main() -> int:
    """Rewrite every snapshot; print which ones changed."""
    inputs = inputs_digest()
    with tempfile.TemporaryDirectory() as tmp:
        for module in MODULES:
            files = synthesize(module, pathlib.Path(tmp) / module)
            status = "unchanged" if files == committed(module) else "updated"
            write(module, files, inputs)
            print(f"{snapshot_dir(module).relative_to(HERE.parent)}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
