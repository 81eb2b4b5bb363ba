"""The one price table behind ``batch-constructs cost`` and the idle costs in the example apps' READMEs.

List prices in USD for **us-east-1**, recorded on **2026-12-01** (:data:`PRICES_DATE`). A month is 730 hours (AWS's own
convention in its pricing calculator). Free tiers are ignored: the numbers are what an account pays once it has used
them up. Where each price comes from:

- NAT gateway hour (0.045) and public IPv4 address hour (0.005): Amazon VPC pricing page, "NAT gateway pricing" and
  "Public IPv4 address" sections (the IPv4 charge since 2024-02-01 applies to every public address, including a NAT
  gateway's Elastic IP).
- Interface VPC endpoint hour per Availability Zone (0.01): AWS PrivateLink pricing page, "Interface endpoint".
  Gateway endpoints (S3, DynamoDB) are free (same page).
- KMS customer-managed key month (1.00): AWS KMS pricing page (each key, symmetric or not, and each replica key).
- CloudWatch standard-resolution alarm (0.10 per alarm metric month), high-resolution alarm (0.30), composite alarm
  (0.50), dashboard (3.00 per month), Logs storage (0.03 per GB-month) and ingestion (0.50 per GB):
  Amazon CloudWatch pricing page, paid tier.
- Secrets Manager secret month (0.40): AWS Secrets Manager pricing page.

Batch itself has no charge; compute environments with min vCPUs 0 run nothing while idle, and Step Functions,
EventBridge, SNS, SQS, Lambda, DynamoDB on demand and S3 bill per use or per GB stored (zero or cents while idle).
Re-check the pages above when prices change, update :data:`PRICES_DATE`, and regenerate the READMEs
(``python -m apps.idle_costs --write``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALARM_MONTH",
    "COMPOSITE_ALARM_MONTH",
    "DASHBOARD_MONTH",
    "HIGH_RESOLUTION_ALARM_MONTH",
    "HOURS_PER_MONTH",
    "INTERFACE_ENDPOINT_AZ_HOUR",
    "KMS_KEY_MONTH",
    "LOG_INGESTION_GB",
    "LOG_STORAGE_GB_MONTH",
    "NAT_GATEWAY_GB",
    "NAT_GATEWAY_HOUR",
    "PRICES_DATE",
    "PRICES_REGION",
    "PUBLIC_IPV4_HOUR",
    "SECRET_MONTH",
    "Price",
]


PRICES_DATE: Final = "2026-12-01"
PRICES_REGION: Final = "us-east-1"
#: Hours in a month, as the AWS Pricing Calculator counts them.
HOURS_PER_MONTH: Final = 730


@dataclass(frozen=True)
class Price:
    """One list price: ``usd`` per ``unit``."""

    usd: float
    unit: str
    source: str

    @property
    def monthly(self) -> float:
        """The price of one unit for a month (hourly prices times :data:`HOURS_PER_MONTH`)."""
        return self.usd * HOURS_PER_MONTH if self.unit.endswith("hour") else self.usd


_VPC = "Amazon VPC pricing"
_CLOUDWATCH = "Amazon CloudWatch pricing"

NAT_GATEWAY_HOUR: Final = Price(0.045, "NAT gateway hour", _VPC)
NAT_GATEWAY_GB: Final = Price(0.045, "GB processed by a NAT gateway", _VPC)
PUBLIC_IPV4_HOUR: Final = Price(0.005, "public IPv4 address hour", _VPC)
INTERFACE_ENDPOINT_AZ_HOUR: Final = Price(
    0.01, "interface endpoint and Availability Zone hour", "AWS PrivateLink pricing"
)
KMS_KEY_MONTH: Final = Price(1.00, "KMS key month", "AWS KMS pricing")
ALARM_MONTH: Final = Price(0.10, "standard-resolution alarm metric month", _CLOUDWATCH)
HIGH_RESOLUTION_ALARM_MONTH: Final = Price(0.30, "high-resolution alarm metric month", _CLOUDWATCH)
COMPOSITE_ALARM_MONTH: Final = Price(0.50, "composite alarm month", _CLOUDWATCH)
DASHBOARD_MONTH: Final = Price(3.00, "dashboard month", _CLOUDWATCH)
LOG_STORAGE_GB_MONTH: Final = Price(0.03, "GB-month of log storage", _CLOUDWATCH)
LOG_INGESTION_GB: Final = Price(0.50, "GB of logs ingested", _CLOUDWATCH)
SECRET_MONTH: Final = Price(0.40, "secret month", "AWS Secrets Manager pricing")
