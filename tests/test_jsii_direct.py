"""The test processes' direct transport to the jsii kernel (tests/jsii_direct.py): no relay process, the same answers,
the kernel's output still reaches sys.stdout and sys.stderr, and a clean stop."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import aws_cdk as cdk
import jsii
import pytest
from jsii._kernel.providers.process import _NodeProcess

from . import jsii_direct
from .conftest import ROOT

pytestmark = pytest.mark.skipif(
    os.environ.get(jsii_direct.KEEP_RELAY) == "1", reason="the run keeps jsii's relay process"
)

LINUX_PROC = pathlib.Path("/proc/self/stat").exists()


def _parent_of(pid: int) -> int:
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.skipif(not LINUX_PROC, reason="reads /proc")
def test_this_process_runs_the_kernel_itself_without_the_relay() -> None:
    assert jsii_direct.INSTALLED
    assert cdk.Duration.minutes(2).to_seconds() == 120  # the kernel is up and answers
    kernel = jsii.kernel.provider._process._process  # type: ignore[attr-defined]
    command = pathlib.Path(f"/proc/{kernel.pid}/cmdline").read_bytes().split(b"\0")
    assert command[-2].endswith(b"lib/program.js"), command  # the kernel program, not bin/jsii-runtime.js
    assert _parent_of(kernel.pid) == os.getpid()  # started by this process: no relay in between


def test_a_kernel_starts_prints_and_stops(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_DEBUG", "1")  # the kernel logs each request it reads on its stderr
    process = _NodeProcess()
    process.start()  # the handshake: the kernel's hello came over the socket
    process.stop()
    assert process._process.returncode == 0  # it read {"exit":0} and ended by itself
    assert not any(sink.is_alive() for sink in process._sinks)  # type: ignore[attr-defined]
    # What the kernel's Node process printed reached this process's stderr, as through the relay.
    assert '> {"exit":0}' in capfd.readouterr().err
    process.stop()  # a second stop (jsii's __del__ calls it again) does nothing


def test_kernel_output_is_copied_to_this_process(capfd: pytest.CaptureFixture[str]) -> None:
    read, write = os.pipe()
    os.write(write, b"to stderr\n")
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        jsii_direct._copy(reader, to_stderr=True)
    assert capfd.readouterr().err == "to stderr\n"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({jsii_direct.KEEP_RELAY: "1"}, "False"), ({jsii_direct.KEEP_RELAY: ""}, "True")],
)
def test_the_relay_can_be_kept(environment: dict[str, str], expected: str) -> None:
    code = "from tests import jsii_direct; print(jsii_direct.install())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == expected, result.stderr


def test_a_kernel_laid_out_otherwise_keeps_jsii_s_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _NodeProcess.start
    monkeypatch.setattr(jsii_direct, "_CHANNEL_MARK", b"a kernel that reads its requests elsewhere")
    monkeypatch.setattr(_NodeProcess, "start", original)
    assert jsii_direct.install() is False
    assert _NodeProcess.start is original
