"""An inline SVG chart of the verdict counts per conformance class (no script, no external assets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ats.verdicts import FAIL, INCONCLUSIVE, NA, PASS, VERDICTS, WAIVED

COLORS: dict[str, str] = {PASS: "#2e7d32", FAIL: "#c62828", WAIVED: "#7b1fa2", INCONCLUSIVE: "#ef6c00", NA: "#9e9e9e"}

_LABEL_W = 150
_BAR_W = 430
_ROW_H = 24
_BAR_H = 16
_TOP = 34
_WIDTH = _LABEL_W + _BAR_W + 50


def class_chart(classes: Sequence[Mapping[str, Any]]) -> str:
    """A horizontal stacked bar per class (`{"name", "counts": {verdict: n}}`), scaled to the
    largest class, each segment labelled with its count, with a legend; `role="img"` with a title."""
    largest = max((sum(c["counts"].values()) for c in classes), default=0) or 1
    height = _TOP + _ROW_H * max(len(classes), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="12" class="chart">',
        "<title>Verdict counts (test cases) per conformance class</title>",
    ]
    x = _LABEL_W
    for verdict in VERDICTS:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLORS[verdict]}"/>')
        parts.append(f'<text x="{x + 16}" y="16">{escape(verdict)}</text>')
        x += 30 + 8 * len(verdict)
    if not classes:
        parts.append(f'<text x="{_LABEL_W}" y="{_TOP + 14}">no test case ran</text>')
    for row, cls in enumerate(classes):
        y = _TOP + row * _ROW_H
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y + 12}" text-anchor="end">{escape(str(cls["name"]))}</text>')
        x = float(_LABEL_W)
        for verdict in VERDICTS:
            count = int(cls["counts"].get(verdict, 0))
            if not count:
                continue
            width = _BAR_W * count / largest
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR_H}" fill="{COLORS[verdict]}">'
                f"<title>{escape(str(cls['name']))}: {count} {escape(verdict)}</title></rect>"
            )
            if width >= 8 * len(str(count)) + 4:
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + 12}" text-anchor="middle" fill="#fff">{count}</text>'
                )
            x += width
        total = sum(cls["counts"].values())
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 12}">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)
