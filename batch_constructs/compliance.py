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

from ._internal.compliance import CONTROL_PACKS, acknowledge, acknowledge_in_packs

__all__ = ["CONTROL_PACKS", "acknowledge", "acknowledge_in_packs", "add_compliance_packs", "unacknowledged_findings"]


def add_compliance_packs(app: cdk.App) -> None:
    """Register the five cdk-nag packs on ``app`` as validation plugins (cdk-nag 3: findings fail the synth).

    Findings and acknowledgements are written to ``cdk.out/validation-report.json`` and the stacks' metadata.

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
        cdk_nag.AwsSolutionsChecks(app),
        cdk_nag.NIST80053R5Checks(app),
        cdk_nag.HIPAASecurityChecks(app),
        cdk_nag.PCIDSS321Checks(app),
        cdk_nag.ServerlessChecks(app),
    )


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
