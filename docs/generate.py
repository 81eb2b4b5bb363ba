"""Generates the parts of the docs that must match the synthesized templates.

    python docs/generate.py [CDK_OUT_DIR ...]     (default: cdk.out; run `make synth` first - or `make docs`)

* ``docs/compliance.md``: the table of every cdk-nag acknowledgement recorded in the stacks' metadata, between the
  BEGIN/END markers. ``tests/test_compliance.py`` regenerates it from the test session's synthesis and fails when the
  committed file differs, so a new acknowledgement cannot slip in unreviewed.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMPLIANCE = ROOT / "docs" / "compliance.md"
BEGIN, END = "<!-- BEGIN GENERATED ACKNOWLEDGEMENTS -->", "<!-- END GENERATED ACKNOWLEDGEMENTS -->"

#: The five packs the example apps register (cdk-nag 3 acknowledgement id prefixes).
PACKS: dict[str, str] = {
    "AwsSolutions": "AwsSolutions",
    "NIST.800.53.R5": "NIST 800-53 R5",
    "HIPAA.Security": "HIPAA",
    "PCI.DSS.321": "PCI DSS 3.2.1",
    "Serverless": "Serverless",
}


@dataclass(frozen=True, order=True)
class Acknowledgement:
    stack: str
    path: str  # construct path below the stack
    pack: str
    finding: str  # the rule, with its [detail] if any
    reason: str


def acknowledgements(outdirs: Iterable[pathlib.Path]) -> list[Acknowledgement]:
    """Every cdk-nag acknowledgement of the five packs recorded in the metadata files of the given cloud assemblies."""
    found: set[Acknowledgement] = set()
    for outdir in outdirs:
        for meta_file in sorted(outdir.glob("*.metadata.json")):
            stack = meta_file.name.removesuffix(".metadata.json")
            for path, entries in json.loads(meta_file.read_text()).items():
                for entry in entries:
                    if entry.get("type") != "aws:cdk:acknowledged-rules":
                        continue
                    for ack_id, reason in entry["data"].items():
                        pack, _, finding = ack_id.partition("::")
                        if pack in PACKS:
                            rel = path.removeprefix(f"/{stack}").lstrip("/") or "(stack)"
                            found.add(Acknowledgement(stack, rel, pack, finding, reason))
    return sorted(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(acks: Sequence[Acknowledgement]) -> str:
    """The generated section: counts per stack and pack, then one row per acknowledgement."""
    lines = [BEGIN, "", "### Acknowledgements per stack and pack", ""]
    stacks = sorted({a.stack for a in acks})
    counts = Counter((a.stack, a.pack) for a in acks)
    lines.append("| Stack | " + " | ".join(PACKS.values()) + " | Total |")
    lines.append("|---" * (len(PACKS) + 2) + "|")
    for stack in stacks:
        row = [str(counts[(stack, p)]) for p in PACKS]
        lines.append(f"| {stack} | " + " | ".join(row) + f" | {sum(counts[(stack, p)] for p in PACKS)} |")
    lines += ["", "### Every acknowledgement", "", "| Stack | Construct | Finding | Reason |", "|---|---|---|---|"]
    for a in acks:
        lines.append(f"| {a.stack} | `{_cell(a.path)}` | `{_cell(a.finding)}` | {_cell(a.reason)} |")
    lines += ["", END]
    return "\n".join(lines)


def replace_section(document: str, section: str) -> str:
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + section + document[end:]


def main(argv: Sequence[str]) -> int:
    outdirs = [pathlib.Path(a) for a in argv] or [ROOT / "cdk.out"]
    acks = acknowledgements(outdirs)
    COMPLIANCE.write_text(replace_section(COMPLIANCE.read_text(), render(acks)))
    print(f"docs/compliance.md: {len(acks)} acknowledgements")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
