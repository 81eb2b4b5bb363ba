"""The test processes talk to the jsii kernel directly, without the relay process in between.

How jsii 1.x runs aws-cdk-lib: Python starts ``node bin/jsii-runtime.js``, and that Node process starts a second one,
``node lib/program.js`` (the kernel), which reads and writes its requests on file descriptor 3. The first process only
relays: each request goes Python -> relay -> kernel -> relay -> Python, four pipe hops and two event-loop wake-ups, and
a third busy process on a machine with two cores. Its other job is to wrap what the kernel prints on its stdout and
stderr as JSON lines, which Python's jsii decodes back onto ``sys.stdout`` and ``sys.stderr``.

:func:`install` replaces the start and stop of jsii's ``_NodeProcess`` (a private class of the pinned jsii, see
``constraints.txt``) so that Python starts the kernel itself and hands it one end of a socket pair as descriptor 3:
the same program, the same messages, one hop each way. What the kernel prints is copied onto ``sys.stdout`` and
``sys.stderr`` by two threads, as jsii's own sink does. Measured on the 2-core machine: about 35 % less time per
request and one Node process less per test worker.

Test processes only (the root ``conftest.py`` installs it in each process that runs tests): the library and its users
run jsii unchanged, and so do the benchmarks, the CLI and the app subprocesses that tests start.
``BATCH_CONSTRUCTS_JSII_RELAY=1`` keeps jsii's own transport; so does a jsii whose embedded kernel is not laid out as
described above (checked before anything is replaced).
"""

from __future__ import annotations

import atexit
import os
import pathlib
import platform
import socket
import subprocess
import sys
import threading
from typing import IO

#: Set to 1 to run the tests on jsii's own transport (through the relay process).
KEEP_RELAY = "BATCH_CONSTRUCTS_JSII_RELAY"
_KERNEL = "lib/program.js"
#: How the kernel of jsii 1.x opens its channel (``SyncStdio({..., readFD: 3, writeFD: 3})``).
_CHANNEL_MARK = b"readFD:3,writeFD:3"
#: Starts the kernel with the socket on descriptor 3 (any POSIX shell; elsewhere jsii's own transport is kept).
_SHELL = "/bin/sh"
#: Whether :func:`install` replaced the transport in this process.
INSTALLED = False


def install() -> bool:
    """Replace jsii's transport in this process; False (and nothing replaced) when it does not apply."""
    if os.environ.get(KEEP_RELAY) == "1" or not os.path.exists(_SHELL):
        return False
    import jsii._embedded.jsii as embedded
    from jsii._kernel.providers.process import _NodeProcess

    resource = next((name for name, path in embedded.EMBEDDED_FILES.items() if path == _KERNEL), None)
    if resource is None or not hasattr(_NodeProcess, "_jsii_runtime"):
        return False
    import importlib.resources

    if _CHANNEL_MARK not in importlib.resources.files(embedded).joinpath(resource).read_bytes():
        return False
    _NodeProcess.start = _start  # type: ignore[method-assign]
    _NodeProcess.stop = _stop  # type: ignore[method-assign]
    global INSTALLED  # noqa: PLW0603
    INSTALLED = True
    return True


def _copy(reader: IO[bytes], to_stderr: bool) -> None:
    for chunk in iter(lambda: reader.read1(65536), b""):  # type: ignore[attr-defined]
        stream = sys.stderr if to_stderr else sys.stdout
        stream.buffer.write(chunk)
        stream.flush()


def _start(self) -> None:  # type: ignore[no-untyped-def]
    environ = os.environ.copy()
    environ["JSII_AGENT"] = f"Python/{platform.python_version()}"
    relay = pathlib.Path(self._jsii_runtime())  # extracts the embedded files; returns bin/jsii-runtime.js
    kernel = relay.parent.parent / _KERNEL
    ours, theirs = socket.socketpair()
    # The kernel reads and writes descriptor 3. The socket comes in as the shell's stdin; the shell moves it to 3,
    # gives the kernel an empty stdin, as jsii's relay does, and becomes node.
    command = 'exec "$0" --max-old-space-size=4069 --preserve-symlinks "$1" 3<&0 </dev/null'
    self._process = subprocess.Popen(
        [_SHELL, "-c", command, environ.get("JSII_NODE", "node"), str(kernel)],
        stdin=theirs.fileno(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environ,
    )
    theirs.close()
    self._channel = ours
    self._output = self._process.stdout, self._process.stderr
    self._sinks = [
        threading.Thread(target=_copy, args=(reader, to_stderr), daemon=True, name="jsii-kernel-output")
        for reader, to_stderr in zip(self._output, (False, True), strict=True)
    ]
    for sink in self._sinks:
        sink.start()
    # jsii's send() and _next_message() use these two attributes.
    self._process.stdin = ours.makefile("wb")
    self._process.stdout = ours.makefile("rb")
    atexit.register(self.stop)
    self.handshake()


def _stop(self) -> None:  # type: ignore[no-untyped-def]
    atexit.unregister(self.stop)
    process = getattr(self, "_process", None)
    if process is None or getattr(self, "_stopped", False):
        return
    self._stopped = True
    for step in (lambda: process.stdin.write(b'{"exit":0}\n'), process.stdin.close, process.stdout.close):
        try:
            step()
        except OSError:  # the kernel has gone already
            pass
    self._channel.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.terminate()
    for sink in self._sinks:
        sink.join(timeout=5)
    for reader in self._output:
        reader.close()
    self._ctx_stack.close()
