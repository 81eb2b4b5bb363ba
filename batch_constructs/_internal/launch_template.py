"""Launch templates of the library's EC2 environments: locked-down instance metadata, MIME user data, EFA software.

AWS Batch reads launch-template user data only in MIME multi-part format (AWS Batch User Guide, "Use Amazon EC2 launch
templates with AWS Batch"): the parts are rendered here as plain 7-bit text, so a synthesized template shows exactly
what every instance runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2

from . import defaults as _defaults
from .memo import stack_of

#: The MIME boundary of the library's user data; it never occurs in a shell script.
BOUNDARY = "==BATCH-CONSTRUCTS-BOUNDARY=="

#: What the user data's EFA part is recognised by (the deploy-contract rule ``efa-driver`` looks for it).
EFA_INSTALLER_MARKER = "efa_installer.sh"


def metadata_options() -> ec2.CfnLaunchTemplate.MetadataOptionsProperty:
    """IMDSv2 only, hop limit 1, endpoint on (the ECS agent and cloud-init read it on the host)."""
    return ec2.CfnLaunchTemplate.MetadataOptionsProperty(
        http_endpoint="enabled",
        http_tokens="required",
        http_put_response_hop_limit=_defaults.IMDS_HOP_LIMIT,
    )


def efa_install_script(version: str = _defaults.EFA_INSTALLER_VERSION) -> str:
    """The shell part that installs the EFA software, verified the way the EC2 User Guide documents it.

    It imports AWS's GPG key, refuses a key whose fingerprint is not the published one, verifies the tarball's
    signature and only then runs ``efa_installer.sh -y``. A failure stops the script (``set -euo pipefail``): the
    instance then joins the cluster without EFA, and the job's ``/dev/infiniband/uverbs0`` mapping fails visibly.
    """
    tarball = f"aws-efa-installer-{version}.tar.gz"
    base = "https://efa-installer.amazonaws.com"
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            f"# EFA software {version} (batch-constructs): kernel driver, libfabric and rdma-core on the host.",
            "workdir=$(mktemp -d)",
            'cd "$workdir"',
            f"curl -fsSLO {base}/{tarball}",
            f"curl -fsSLO {base}/{tarball}.sig",
            f"curl -fsSLO {base}/aws-efa-installer.key",
            'export GNUPGHOME="$workdir/gnupg"',
            'mkdir -m 700 "$GNUPGHOME"',
            "gpg --batch --import aws-efa-installer.key",
            "fingerprint=$(gpg --batch --with-colons --fingerprint | awk -F: '/^fpr/ {print $10; exit}')",
            f'if [ "$fingerprint" != "{_defaults.EFA_INSTALLER_KEY_FINGERPRINT}" ]; then',
            '  echo "EFA installer key fingerprint $fingerprint is not AWS\'s published one" >&2',
            "  exit 1",
            "fi",
            f"gpg --batch --verify {tarball}.sig {tarball}",
            f"tar -xf {tarball}",
            f"cd aws-efa-installer && ./{EFA_INSTALLER_MARKER} -y",
            'cd / && rm -rf "$workdir"',
            "",
        ]
    )


def mime_user_data(parts: Sequence[str]) -> str:
    """Shell scripts as one MIME multi-part document (each part run by cloud-init in order)."""
    lines = [f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"', "MIME-Version: 1.0", ""]
    for part in parts:
        lines += [
            f"--{BOUNDARY}",
            'Content-Type: text/x-shellscript; charset="us-ascii"',
            "Content-Transfer-Encoding: 7bit",
            "",
            part.rstrip("\n"),
            "",
        ]
    lines.append(f"--{BOUNDARY}--")
    return "\n".join(lines) + "\n"


def user_data_parts(user_data: ec2.UserData | None) -> list[str]:
    """A user's ``ec2.UserData`` as MIME parts (a ``MultipartUserData`` is used as its own document instead)."""
    if user_data is None:
        return []
    return [user_data.render()]


def encoded(parts: Sequence[str], user_data: ec2.UserData | None) -> str | None:
    """Base64 user data for a launch template, or None when there is nothing to run."""
    if isinstance(user_data, ec2.MultipartUserData) and not parts:
        return Fn.base64(user_data.render())
    all_parts = [*parts, *user_data_parts(user_data)]
    return Fn.base64(mime_user_data(all_parts)) if all_parts else None


def resolved_data(template: ec2.LaunchTemplate) -> dict[str, object]:
    """The CloudFormation ``LaunchTemplateData`` an app's ``ec2.LaunchTemplate`` synthesizes (camelCase keys)."""
    cfn = template.node.default_child
    assert isinstance(cfn, ec2.CfnLaunchTemplate)
    data = stack_of(template).resolve(cfn.launch_template_data)
    return dict(data) if isinstance(data, dict) else {}


def metadata_conflicts(data: dict[str, object]) -> list[str]:
    """What in a supplied template's data contradicts the locked-down metadata options (empty: mergeable)."""
    options = data.get("metadataOptions")
    if not isinstance(options, dict):
        return []
    found = []
    tokens = options.get("httpTokens")
    if tokens not in (None, "required"):
        found.append(f"HttpTokens={tokens}")
    hops = options.get("httpPutResponseHopLimit")
    if hops not in (None, _defaults.IMDS_HOP_LIMIT):
        found.append(f"HttpPutResponseHopLimit={hops}")
    if options.get("httpEndpoint") == "disabled":
        found.append("HttpEndpoint=disabled (the ECS agent reads instance metadata)")
    return found
