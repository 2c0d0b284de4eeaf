"""The status codes PROFILE.md allows per operation: its successes plus the errors of section 5.

One table for the HAR check of `interflex-validate` and the responses of `schemas/openapi.yaml`
(`tests/test_openapi.py` checks that both agree; the document also lists 404 for operations
with path parameters, for segments that break the id rule (ST-5), which never match an operation).
"""

from __future__ import annotations

from interflex.profile import Operation

# AU-3: 400/401 at A1/A2; 413 for a body over the server's size limit (a 4xx, ST-7).
_AUTH_ERRORS = frozenset({400, 401, 413})
# 400: ST-1, DF-1, AU-4 (malformed Authorization header); 401: AU-4; 403: AU-5.
_RESOURCE_ERRORS = frozenset({400, 401, 403})
_ACTION_ERRORS = {
    "post": frozenset({409, 413, 415, 422}),  # ST-2, size limit, ST-3, ST-1 (422 conforms)
    "delete": frozenset({404}),  # ST-4
}


def error_statuses(op: Operation) -> frozenset[int]:
    """The error statuses section 5 (and section 3 for A1/A2) allows for `op`."""
    if op.action in ("token", "refresh"):
        return _AUTH_ERRORS
    return _RESOURCE_ERRORS | _ACTION_ERRORS.get(op.action, frozenset())


def allowed_statuses(op: Operation) -> frozenset[int]:
    """Every status a conforming target may answer for `op`: successes and errors."""
    return op.success | error_statuses(op)
