"""The documentation cannot drift from the code: architecture diagrams, the README's example and tables, docstrings.

* ``docs/architecture/<module>.md`` is regenerated from the session's synthesized apps and compared with the committed
  file (regenerate with ``make docs`` and review the diff).
* The README's quick-start snippet is executed, synthesized with the five cdk-nag packs, and must be finding-free.
* Every public name is in the README and has a docstring; every public construct documents its defaults.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import pathlib
import re
import sys
from types import ModuleType
from typing import Any

import pytest

import batch_constructs
from apps import APP_MODULES
from batch_constructs.compliance import add_compliance_packs

from .conftest import SynthesizedApp
from .helpers import ROOT, cfn_lint, nag_violations, new_app

README = ROOT / "README.md"
CHANGELOG = ROOT / "CHANGELOG.md"
#: Marks the README's main Python snippet (the next ```python block), which this module runs.
QUICKSTART_MARKER = "<!-- quickstart: executed by tests/test_docs.py -->"
PUBLIC = [name for name in batch_constructs.__all__ if not name.startswith("__")]
#: Public constructs whose ``__init__`` does not document its optional arguments yet (in files this test's author does
#: not own; reported). Strict: the test fails when one is fixed, so that the entry is removed here.
KNOWN_UNDOCUMENTED_DEFAULTS: set[str] = set()


@functools.cache
def _generator() -> ModuleType:
    """docs/generate.py, loaded once (registered in sys.modules: its dataclasses resolve their annotations there)."""
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _generator()


# --- architecture diagrams ------------------------------------------------------------------------------------------


def test_architecture_documents_match_the_synthesized_apps(gen: ModuleType, all_apps: list[SynthesizedApp]) -> None:
    # GIVEN every example app, synthesized as `make synth` does
    stale = []
    for app in all_apps:
        # WHEN its architecture document is generated from the templates
        expected = gen.architecture_document(app.module, app.outdir, list(app.templates))
        committed = gen.ARCHITECTURE / f"{app.module}.md"
        # THEN the committed document is exactly that
        if not committed.exists() or committed.read_text() != expected:
            stale.append(str(committed.relative_to(ROOT)))
    assert stale == [], (
        f"stale architecture diagrams: {stale}. Regenerate with `make docs` (or `make synth` then "
        "`.venv/bin/python docs/generate.py --part diagrams cdk.out`) and review the diff"
    )


def test_there_is_one_architecture_document_per_example_app(gen: ModuleType) -> None:
    documents = sorted(p.stem for p in pathlib.Path(gen.ARCHITECTURE).glob("*.md"))
    assert documents == sorted(APP_MODULES)


def test_architecture_documents_carry_no_asset_hash(gen: ModuleType) -> None:
    for document in sorted(pathlib.Path(gen.ARCHITECTURE).glob("*.md")):
        text = document.read_text()
        assert not re.search(r"[0-9a-f]{64}", text), document
        assert "cdk-hnb659fds" not in text, document


def test_every_queue_is_drawn_with_its_environments_and_every_environment_with_its_network(
    gen: ModuleType, all_apps: list[SynthesizedApp]
) -> None:
    for app in all_apps:
        arch = gen.architecture(app.module, gen.load_stacks(app.outdir, list(app.templates)))
        groups = {n.node_id: n.group for n in arch.nodes}
        targets: dict[str, set[str]] = {}
        for edge in arch.edges:
            targets.setdefault(edge.source, set()).add(groups[edge.target])
        for node in arch.nodes:
            if node.group == "queues" and node.lines[1].startswith("job queue"):
                assert "compute" in targets.get(node.node_id, set()), (app.module, node.path)
            if node.group == "compute":
                assert "network" in targets.get(node.node_id, set()), (app.module, node.path)
        # Every Batch resource of the templates is a box.
        batch = sum(
            1
            for template in app.templates.values()
            for resource in template["Resources"].values()
            if resource["Type"].startswith("AWS::Batch::")
        )
        assert sum(1 for n in arch.nodes if n.group in ("jobs", "queues", "compute")) == batch, app.module


def _stack(name: str, resources: dict[str, Any], paths: dict[str, str], outputs: dict[str, Any] | None = None) -> Any:
    return _generator().StackTemplate(name, {"Resources": resources, "Outputs": outputs or {}}, paths)


def test_folding_events_permissions_and_cross_stack_references_on_a_small_template() -> None:
    gen = _generator()
    # GIVEN a platform stack exporting its queue, and a workload stack with a bucket-triggered job
    platform = _stack(
        "Platform",
        {
            "Queue": {"Type": "AWS::Batch::JobQueue", "Properties": {"Priority": 5}},
        },
        {"Queue": "Batch/Queue/Resource"},
        {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "JobQueueArn"]}, "Export": {"Name": "Platform-Queue"}}},
    )
    workload = _stack(
        "Workload",
        {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Job": {"Type": "AWS::Batch::JobDefinition", "Properties": {"Type": "container"}},
            "JobRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "JobPolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Roles": [{"Ref": "JobRole"}],
                    "PolicyDocument": {
                        "Statement": [{"Action": "s3:GetObject", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}}]
                    },
                },
            },
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [{"Ref": "Bucket"}]}},
                    },
                    "Targets": [
                        {
                            "Arn": {"Fn::ImportValue": "Platform-Queue"},
                            "BatchParameters": {"JobDefinition": {"Ref": "Job"}},
                        }
                    ],
                },
            },
            "Provider": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Cleanup": {"Type": "Custom::Cleanup", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}}},
        },
        {
            "Bucket": "Bucket/Resource",
            "Job": "Job/Resource/Resource",
            "JobRole": "Job/JobRole/Resource",
            "JobPolicy": "Job/JobRole/Policy/Resource",
            "Rule": "OnUpload/Rule/Resource",
            "Provider": "Custom::CleanupProvider/Handler",
            "Cleanup": "Cleanup/Default",
        },
    )
    # WHEN it is drawn
    arch = gen.architecture("example", [platform, workload])
    ids = {n.path: n.node_id for n in arch.nodes}
    edges = {(e.source, e.target): e for e in arch.edges}
    # THEN the role and its policy are folded into the job, and the custom-resource provider is not drawn
    assert sorted(ids) == ["Batch/Queue", "Bucket", "Job", "OnUpload/Rule"]
    assert ("AWS::IAM::ManagedPolicy", "Job definitions", 1) in arch.folded
    assert ("AWS::Lambda::Function", "stack-wide, not drawn", 1) in arch.folded
    # AND the bucket's events flow into the rule (the pattern's reference, reversed)
    assert edges[(ids["Bucket"], ids["OnUpload/Rule"])].label == "Object Created"
    # AND the rule submits to the queue of the other stack through its export, and runs the job
    assert edges[(ids["OnUpload/Rule"], ids["Batch/Queue"])].label == "submits to"
    assert edges[(ids["OnUpload/Rule"], ids["Job"])].label == "runs"
    # AND the job's permission on the bucket is a dotted edge labelled with the action
    permission = edges[(ids["Job"], ids["Bucket"])]
    assert permission.dotted and permission.label == "s3:GetObject"
    # AND the rendered flowchart has one subgraph per stack
    flowchart = gen.render_mermaid(arch)
    assert 'subgraph stack__Platform["stack Platform"]' in flowchart
    assert f'{ids["Job"]} -.->|"s3:GetObject"| {ids["Bucket"]}' in flowchart


# --- README ---------------------------------------------------------------------------------------------------------


def _readme() -> str:
    return README.read_text()


def _quickstart() -> str:
    text = _readme()
    assert QUICKSTART_MARKER in text, "the README's main snippet lost its marker"
    after = text[text.index(QUICKSTART_MARKER) :]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match is not None
    return match.group(1)


def test_readme_quickstart_synthesizes_with_zero_cdk_nag_findings(tmp_path: pathlib.Path) -> None:
    # GIVEN the README's quick-start snippet, with the project's feature flags and the five cdk-nag packs
    snippet = _quickstart()
    assert snippet.count("cdk.App()") == 1, "the snippet must create exactly one app"
    assert len(snippet.strip().splitlines()) <= 20, "the quick start should stay short"
    app = new_app(outdir=str(tmp_path))
    add_compliance_packs(app)
    # WHEN it runs (its app.synth() raises on error-level findings; warning-level ones only reach the report)
    namespace: dict[str, Any] = {"__test_app__": app}
    exec(compile(snippet.replace("cdk.App()", "__test_app__"), "README.md", "exec"), namespace)
    # THEN no pack reported anything, warnings included
    assert nag_violations(tmp_path) == []
    # AND it synthesized a platform, a job and a trigger
    templates = list(tmp_path.glob("*.template.json"))
    assert len(templates) == 1
    types = [r["Type"] for r in json.loads(templates[0].read_text())["Resources"].values()]
    for expected in ("AWS::EC2::VPC", "AWS::Batch::ComputeEnvironment", "AWS::Batch::JobQueue"):
        assert expected in types
    assert "AWS::Batch::JobDefinition" in types
    assert "AWS::Events::Rule" in types or "AWS::StepFunctions::StateMachine" in types
    # AND cfn-lint finds nothing (it checks what the built-in validation would, see tests.helpers.new_app)
    assert cfn_lint(*templates) == []


def test_readme_claim_every_example_app_has_zero_cdk_nag_findings(all_apps: list[SynthesizedApp]) -> None:
    # app.synth() raises only on error-level findings: warning-level ones are only in the report, so read it
    findings = {app.module: nag_violations(app.outdir) for app in all_apps}
    assert {module: found for module, found in findings.items() if found} == {}


def test_readme_starts_with_the_two_commands() -> None:
    text = _readme()
    first_block = re.search(r"```(\w*)\n(.*?)```", text, re.S)
    assert first_block is not None
    assert first_block.group(1) == "bash"
    commands = [line.split("#")[0].strip() for line in first_block.group(2).splitlines() if line.strip()]
    assert commands[:2] == ["make synth", "make test"]


def test_readme_mentions_every_public_name() -> None:
    text = _readme()
    missing = [name for name in PUBLIC if f"`{name}" not in text]
    assert missing == [], f"public names the README does not document: {missing}"


def test_readme_lists_every_example_app_with_its_readme_and_diagram() -> None:
    text = _readme()
    for module in APP_MODULES:
        assert f"(apps/{module}/README.md)" in text, module
        assert f"(docs/architecture/{module}.md)" in text, module


#: Linked files another command writes (not `make test`): the README may link them before their first run.
WRITTEN_BY_OTHER_TARGETS = {"BENCHMARKS.md": "make bench"}


def test_readme_relative_links_resolve() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _readme())
    relative = sorted({link for link in links if "://" not in link and not link.startswith("mailto:")})
    assert relative, "no relative link found"
    missing = [link for link in relative if not (ROOT / link).exists() and link not in WRITTEN_BY_OTHER_TARGETS]
    assert missing == []


def test_changelog_has_a_section_for_the_current_version() -> None:
    assert re.search(rf"^## \[{re.escape(batch_constructs.__version__)}\]", CHANGELOG.read_text(), re.M)


# --- docstrings -----------------------------------------------------------------------------------------------------


def _own_doc(obj: Any) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def test_every_public_class_and_function_has_its_own_docstring() -> None:
    missing = []
    for name in PUBLIC:
        obj = getattr(batch_constructs, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            doc = _own_doc(obj)
            # A dataclass without a docstring gets its signature as __doc__.
            if not doc or doc.startswith(f"{name}("):
                missing.append(name)
    assert missing == []


def test_every_public_constant_has_a_doc_comment() -> None:
    sources = "\n".join(p.read_text() for p in sorted((ROOT / "batch_constructs").glob("*.py")))
    for name in PUBLIC:
        obj = getattr(batch_constructs, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)):
            assert re.search(rf"^#:.*\n(?:#:.*\n)*{name}\b", sources, re.M), name


def _optional_parameters(function: Any) -> list[str]:
    signature = inspect.signature(function)
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is not inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


def _documented(parameter: str, doc: str, owner: Any) -> bool:
    """Named in the docstring, or covered by an ``as for :class:`Other``` line whose class documents it."""
    if re.search(rf"\b{parameter}\b", doc):
        return True
    for other in re.findall(r"as for :class:`~?(?:[\w.]+\.)?(\w+)`", doc):
        target = getattr(batch_constructs, other, None) or getattr(inspect.getmodule(owner), other, None)
        if target is not None and re.search(rf"\b{parameter}\b", _own_doc(target.__init__)):
            return True
    return False


def test_every_public_construct_documents_the_default_of_each_optional_argument() -> None:
    from constructs import Construct

    problems: dict[str, str] = {}
    for name in PUBLIC:
        obj = getattr(batch_constructs, name)
        if inspect.isclass(obj) and issubclass(obj, Construct) and "__init__" in obj.__dict__:
            function = obj.__init__
        elif inspect.isfunction(obj):
            function = obj
        else:
            continue
        optional = _optional_parameters(function)
        if not optional:
            continue
        doc = _own_doc(function)
        if "Default" not in doc:
            problems[name] = f"no 'Default' in the docstring of {function.__qualname__}"
            continue
        undocumented = [p for p in optional if not _documented(p, doc, obj)]
        if undocumented:
            problems[name] = f"{', '.join(undocumented)} not documented"
    new = {k: v for k, v in problems.items() if k not in KNOWN_UNDOCUMENTED_DEFAULTS}
    assert new == {}
    fixed = sorted(KNOWN_UNDOCUMENTED_DEFAULTS - set(problems))
    assert fixed == [], f"now documented: remove {fixed} from KNOWN_UNDOCUMENTED_DEFAULTS"
