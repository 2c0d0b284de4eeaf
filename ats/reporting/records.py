"""Reading the verdict records (contract C4) that test reports carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ats_record(report: Any) -> dict[str, Any] | None:
    """The verdict record a test report carries (`("ats", rec)` in `user_properties`), if any."""
    for name, value in getattr(report, "user_properties", None) or ():
        if name == "ats" and isinstance(value, Mapping):
            return dict(value)
    return None
