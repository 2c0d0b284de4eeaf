"""Validate InterFlex messages against the profile's JSON Schemas and plausibility rules.

    >>> from interflex.validation import validate
    >>> validate({"offer_id": "o-1"})  # an IdResponse
    []
"""

from interflex.validation._findings import Finding, is_valid
from interflex.validation._validator import detect_kind, validate

__all__ = ["Finding", "detect_kind", "is_valid", "validate"]
