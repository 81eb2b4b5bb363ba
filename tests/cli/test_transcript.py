"""The README's "Operations CLI" transcript is the real output of the commands against moto (docs/cli_transcript.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from types import ModuleType

from ..conftest import SynthesizedApp
from ..helpers import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_transcript", ROOT / "docs" / "cli_transcript.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_transcript_is_the_output_of_the_commands(synth_app: Callable[[str], SynthesizedApp]) -> None:
    script = _script()
    (template,) = synth_app("movies_importer").templates.values()
    readme = (ROOT / "README.md").read_text()
    expected = script.render(readme, script.transcript(template))
    assert readme == expected, "README.md's CLI transcript is stale: run `python docs/cli_transcript.py`"
    for command in ("status", "submit", "watch", "logs", "why", "cost"):
        assert f"$ batch-constructs {command} " in readme
