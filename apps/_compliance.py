"""Kept only for test modules that still import it; use ``batch_constructs.compliance.add_compliance_packs``."""

from __future__ import annotations

from batch_constructs.compliance import add_compliance_packs

__all__ = ["add_compliance_packs"]
