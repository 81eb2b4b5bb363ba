"""cdk-nag for apps built with batch-constructs: register the five packs, and acknowledge inherent findings.

``add_compliance_packs(app)`` registers AwsSolutions, NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1 and Serverless as
cdk-nag 3 validation plugins, so that ``cdk synth`` fails on any finding that is not acknowledged. cdk-nag is an
optional dependency (``pip install batch-constructs[nag]``), imported only when this function runs.

``acknowledge`` and ``acknowledge_in_packs`` record an acknowledgement through aws-cdk-lib's ``Validations`` API (no
cdk-nag import). Place each on the narrowest construct (the resource, the policy) and give the reason a security
reviewer would accept; fix the cause first where it can be fixed.
"""

from __future__ import annotations

import json
import pathlib

import aws_cdk as cdk
from constructs import IConstruct

from ._internal.compliance import CONTROL_PACKS, acknowledge, acknowledge_in_packs

__all__ = [
    "CONTROL_PACKS",
    "acknowledge",
    "acknowledge_from_template_metadata",
    "acknowledge_in_packs",
    "add_compliance_packs",
    "unacknowledged_findings",
]


def add_compliance_packs(app: cdk.App) -> None:
    """Register the five cdk-nag packs on ``app`` as validation plugins (cdk-nag 3: findings fail the synth).

    Findings and acknowledgements are written to ``cdk.out/validation-report.json`` and the stacks' metadata. Every
    acknowledgement is also written into the ``Metadata`` of each resource it covers
    (``cdk_nag: {rules_to_suppress: [{id, reason}]}``, cdk-nag's own format), so the template alone carries the
    reasons: an auditor re-reading it (see :func:`acknowledge_from_template_metadata`) sees them, and so does anyone
    reading the deployed stack.

    Raises:
        ImportError: cdk-nag is not installed; the message names the extra that installs it.
    """
    try:
        import cdk_nag
    except ImportError as error:
        raise ImportError(
            "batch_constructs.compliance.add_compliance_packs needs cdk-nag 3: "
            "pip install 'batch-constructs[nag]' (or pip install 'cdk-nag>=3.0.2,<4')"
        ) from error
    cdk.Validations.of(app).add_plugins(
        # One pack writes every acknowledgement into its resource's CloudFormation Metadata (cdk_nag.rules_to_suppress)
        # too, so that the template alone carries them: see ``acknowledgements_from_template``.
        cdk_nag.AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        cdk_nag.NIST80053R5Checks(app),
        cdk_nag.HIPAASecurityChecks(app),
        cdk_nag.PCIDSS321Checks(app),
        cdk_nag.ServerlessChecks(app),
    )


def acknowledge_from_template_metadata(scope: IConstruct) -> int:
    """Re-apply the acknowledgements a template carries in its resources' ``Metadata``; returns how many.

    For an audit from the template alone: cdk-nag 3 reads acknowledgements from the construct tree, not from a
    template, so after ``cloudformation_include.CfnInclude(stack, "Template", template_file=...)`` call this on the
    include, then register the packs and synthesize. Each ``cdk_nag.rules_to_suppress`` entry that
    :func:`add_compliance_packs` wrote becomes an acknowledgement on the same resource, with the same reason.
    """
    count = 0
    for construct in scope.node.find_all():
        if not isinstance(construct, cdk.CfnResource):
            continue
        metadata = construct.cfn_options.metadata or {}
        for rule in (metadata.get("cdk_nag") or {}).get("rules_to_suppress", []):
            acknowledge(construct, str(rule["id"]), str(rule["reason"]))
            count += 1
    return count


def unacknowledged_findings(assembly_directory: str | pathlib.Path) -> list[str]:
    """Every finding in a cloud assembly's ``validation-report.json``, warnings included, one line each.

    cdk-nag 3 fails ``app.synth()`` on error-level findings only; warning-level ones are just reported. Call this after
    ``app.synth()`` (``apps/__main__.py`` does, so ``make synth`` fails on either). No report means no plugin ran: [].
    """
    report = pathlib.Path(assembly_directory) / "validation-report.json"
    if not report.exists():
        return []
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for where in violation.get("violatingConstructs", violation.get("violatingResources", [])):
                path = where.get("constructPath") or where.get("resourceLogicalId") or "?"
                lines.append(f"{violation.get('ruleName')}: {path}")
    return sorted(set(lines))
