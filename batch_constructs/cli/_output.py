"""Small text helpers shared by the commands (tables, durations, times)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

#: What ``--json`` prints: plain JSON values.
Jsonable = Mapping[str, object] | Sequence[object] | str | int | float | bool | None


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def duration(seconds: float) -> str:
    """``3h04m``, ``12m05s``, ``42s``."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def timestamp(millis: int | None) -> str:
    """An AWS epoch-milliseconds time as ``2026-12-01 21:52:28Z``; ``-`` when absent."""
    if not millis:
        return "-"
    return datetime.fromtimestamp(millis / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
