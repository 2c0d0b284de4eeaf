"""Validate InterFlex messages against the profile's JSON Schemas and plausibility rules.

    >>> from interflex.validation import validate
    >>> validate({"offer_id": "o-1"})  # an IdResponse
    []

Also here: `rfc3339_instant` (compare RFC 3339 date-times as instants, P-01),
`allowed_statuses` (per operation), and the OpenAPI document (`bundled_openapi` is the
self-contained copy the reference server serves).
"""

from interflex.validation._datetime import Instant, rfc3339_instant
from interflex.validation._findings import Finding, is_valid
from interflex.validation._openapi import bundled_openapi, openapi_document
from interflex.validation._statuses import allowed_statuses, error_statuses
from interflex.validation._validator import detect_kind, validate

__all__ = [
    "Finding",
    "Instant",
    "allowed_statuses",
    "bundled_openapi",
    "detect_kind",
    "error_statuses",
    "is_valid",
    "openapi_document",
    "rfc3339_instant",
    "validate",
]
