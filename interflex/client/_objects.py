"""Build and validate the objects of PROFILE.md section 4 (the D3.5 `create_*` functions)."""

from __future__ import annotations

from typing import Any

from interflex.client._exceptions import InvalidObjectError
from interflex.validation import is_valid, validate


def build(kind: str, **fields: Any) -> dict[str, Any]:
    """Return the object `kind` made of `fields`; raise `InvalidObjectError` when it is invalid.

    The validator checks the schema and the single-message plausibility rules PL-1..PL-3.
    """
    message = dict(fields)
    findings = validate(message, kind)
    if not is_valid(findings):
        raise InvalidObjectError(kind, findings)
    return message
