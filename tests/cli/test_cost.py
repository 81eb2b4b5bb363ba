"""``batch-constructs cost``: idle monthly cost from templates, the one price table, and the example READMEs."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable

import pytest

from apps import APP_MODULES
from apps.idle_costs import block, current_block, readme_of
from batch_constructs.cli.cost import idle_cost, markdown, total
from batch_constructs.model import prices

from ..conftest import SynthesizedApp
from .support import STACK, Deployed

#: One resource of each kind the cost counts, and some it must not (gateway endpoint, private NAT gateway).
TEMPLATE = {
    "Resources": {
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"AllocationId": "eipalloc-1"}},
        "PrivateNat": {"Type": "AWS::EC2::NatGateway", "Properties": {"ConnectivityType": "private"}},
        "Eip": {"Type": "AWS::EC2::EIP"},
        "Ecr": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {"VpcEndpointType": "Interface", "SubnetIds": [{"Ref": "A"}, {"Ref": "B"}]},
        },
        "S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        "Key": {"Type": "AWS::KMS::Key"},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 300}},
        "MathAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Metrics": [
                    {"Id": "a", "MetricStat": {"Period": 60}},
                    {"Id": "b", "MetricStat": {"Period": 300}},
                    {"Id": "e", "Expression": "a+b"},
                ]
            },
        },
        "FastAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 10}},
        "Composite": {"Type": "AWS::CloudWatch::CompositeAlarm"},
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard"},
        "Secret": {"Type": "AWS::SecretsManager::Secret"},
        "Logs1": {"Type": "AWS::Logs::LogGroup"},
        "Logs2": {"Type": "AWS::Logs::LogGroup"},
        "Queue": {"Type": "AWS::Batch::JobQueue"},
    }
}


def test_idle_cost_counts_each_billed_resource() -> None:
    lines = {line.item: (line.count, line.monthly) for line in idle_cost([TEMPLATE], log_gb_per_group=2)}
    assert lines == {
        "NAT gateway": (1, 32.85),
        "Public IPv4 address (the NAT gateway's Elastic IP)": (1, 3.65),
        "Interface VPC endpoint, per Availability Zone": (2, 14.6),
        "KMS customer-managed key": (1, 1.0),
        "CloudWatch alarm metric": (3, 0.3),
        "CloudWatch high-resolution alarm metric": (1, 0.3),
        "CloudWatch composite alarm": (1, 0.5),
        "CloudWatch dashboard": (1, 3.0),
        "Secrets Manager secret": (1, 0.4),
        "CloudWatch Logs log group, storage estimate of 2 GB each": (2, 0.12),
    }
    assert total(idle_cost([TEMPLATE], log_gb_per_group=2)) == 56.72


def test_prices_have_one_home_with_date_region_and_sources() -> None:
    assert (prices.PRICES_REGION, prices.HOURS_PER_MONTH) == ("us-east-1", 730)
    assert prices.PRICES_DATE == "2026-12-01"
    assert prices.NAT_GATEWAY_HOUR.monthly == pytest.approx(32.85)
    doc = prices.__doc__ or ""
    for source in ("Amazon VPC pricing", "AWS PrivateLink pricing", "AWS KMS pricing", "Amazon CloudWatch pricing"):
        assert source in doc
    assert f"{prices.PRICES_REGION} list prices of {prices.PRICES_DATE}" in markdown(idle_cost([TEMPLATE]))


@pytest.fixture
def deployed(shared_stack: Deployed) -> Deployed:
    """The module's stack: ``cost`` only reads it (its template) or files."""
    return shared_stack


def test_cost_of_a_template_file_and_a_cdk_out_directory(deployed: Deployed, tmp_path: pathlib.Path) -> None:
    (tmp_path / "Demo.template.json").write_text(json.dumps(TEMPLATE))
    code, out = deployed.run("cost", str(tmp_path / "Demo.template.json"))
    assert code == 0
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    assert rows["NAT gateway"][-4:] == ["1", "0.045", "USD/hour", "32.85"]
    assert rows["Total while idle"][-1] == "56.60"
    code, out = deployed.run("cost", str(tmp_path), "--json")
    assert json.loads(out)["totalMonthlyUsd"] == 56.6


def test_cost_of_a_deployed_stack_reads_get_template(deployed: Deployed) -> None:
    code, out = deployed.run("cost", STACK, "--json", "--log-gb", "10")
    assert code == 0
    doc = json.loads(out)
    assert doc["items"] == [
        {
            "item": "CloudWatch Logs log group, storage estimate of 10 GB each",
            "count": 1,
            "unit_monthly": 0.3,
            "price": "0.03 USD/GB-month",
            "monthly": 0.3,
        }
    ]


def test_cost_of_a_missing_stack_is_an_aws_error(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    assert deployed.run("cost", "NoSuchStack")[0] == 3
    assert "GetTemplate failed: ValidationError" in capsys.readouterr().err


@pytest.mark.parametrize("module", APP_MODULES)
def test_app_readme_idle_cost_is_generated_from_its_templates(
    synth_app: Callable[[str], SynthesizedApp], module: str
) -> None:
    """Each README's table is what ``cost`` computes from the synthesized stacks (``python -m apps.idle_costs --write``
    regenerates them)."""
    assert current_block(readme_of(module).read_text()) == block(synth_app(module).templates, module)
