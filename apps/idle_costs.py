"""The idle-cost tables of the example apps' READMEs, computed from their synthesized templates.

``python -m apps.idle_costs --write`` synthesizes each app and rewrites the table between the README's
``idle-cost`` markers with :func:`batch_constructs.cli.cost.markdown` (the prices of
``batch_constructs/model/prices.py``); without ``--write`` it only reports the READMEs that differ (exit 1).
``tests/cli/test_cost.py`` checks the same with the session's synthesized apps.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
from collections.abc import Mapping

from batch_constructs.cli.cost import MARKER_BEGIN, MARKER_END, idle_cost, markdown

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_of(module: str) -> pathlib.Path:
    return ROOT / "apps" / module / "README.md"


#: Apps whose stacks are alternatives (a user deploys one of them): one table per stack. The others' stacks are
#: deployed together (shared_platform's platform and workload), so their costs add up in one table.
ALTERNATIVE_STACKS: frozenset[str] = frozenset({"fetch_and_run"})


def block(templates: Mapping[str, Mapping[str, object]], module: str) -> str:
    """The generated Markdown for one app's stacks (by stack name), markers included."""
    if module in ALTERNATIVE_STACKS:
        body = "\n\n".join(f"`{name}`:\n\n{markdown(idle_cost([t]))}" for name, t in sorted(templates.items()))
    else:
        body = markdown(idle_cost(list(templates.values())))
    return f"{MARKER_BEGIN}\n{body}\n{MARKER_END}"


def replace_block(text: str, new_block: str) -> str:
    """``text`` with its marked block replaced by ``new_block``."""
    start, end = text.index(MARKER_BEGIN), text.index(MARKER_END) + len(MARKER_END)
    return text[:start] + new_block + text[end:]


def current_block(text: str) -> str:
    start, end = text.index(MARKER_BEGIN), text.index(MARKER_END) + len(MARKER_END)
    return text[start:end]


def synthesize(module: str) -> dict[str, dict[str, object]]:
    """The templates of one example app, synthesized with the project's feature flags (``cdk.json``)."""
    import aws_cdk as cdk

    from apps import add_app

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(context=context, outdir=outdir)
        add_app(app, module)
        return {stack.stack_name: stack.template for stack in app.synth().stacks}


def main(argv: list[str] | None = None) -> int:
    from apps import APP_MODULES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the READMEs (default: only check them)")
    args = parser.parse_args(argv)
    stale = []
    for module in APP_MODULES:
        path = readme_of(module)
        text = path.read_text()
        updated = replace_block(text, block(synthesize(module), module))
        if updated != text:
            stale.append(module)
            if args.write:
                path.write_text(updated)
    verb = "rewrote" if args.write else "out of date"
    print(f"{verb}: {', '.join(stale)}" if stale else "every README's idle cost matches its templates")
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
