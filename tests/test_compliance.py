"""Every cdk-nag acknowledgement the example apps record is listed in docs/compliance.md, and nothing else is."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

from .conftest import SynthesizedApp
from .helpers import ROOT


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def test_compliance_document_lists_exactly_the_recorded_acknowledgements(all_apps: list[SynthesizedApp]) -> None:
    gen = _generator()
    # GIVEN the acknowledgements recorded while synthesizing every example app (all five packs registered)
    acks = gen.acknowledgements(app.outdir for app in all_apps)
    # WHEN the ledger is rendered from them
    expected = gen.render(acks)
    # THEN the committed document holds exactly that ledger (regenerate with `make docs` and review the diff)
    document = pathlib.Path(gen.COMPLIANCE).read_text()
    actual = document[document.index(gen.BEGIN) : document.index(gen.END) + len(gen.END)]
    assert actual == expected


def test_every_acknowledgement_carries_a_real_reason(all_apps: list[SynthesizedApp]) -> None:
    acks = _generator().acknowledgements(app.outdir for app in all_apps)
    assert acks, "the example apps record no acknowledgement at all - is cdk-nag registered?"
    short = [a for a in acks if len(a.reason) < 40]
    assert short == []
