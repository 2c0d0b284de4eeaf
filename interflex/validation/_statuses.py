"""The status codes PROFILE.md allows per operation: its successes plus the errors of section 5.

One table for the HAR check of `interflex-validate` and the responses of `schemas/openapi.yaml`
(`tests/test_openapi.py` checks that the document lists exactly `openapi_statuses`).
"""

from __future__ import annotations

from interflex.profile import RESERVED_WORDS, Operation, allowed_methods

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


def _collides(op: Operation) -> bool:
    """Whether a reserved word (P-07) in a path parameter makes the path another operation's."""
    for name in op.path_params:
        for word in sorted(RESERVED_WORDS):
            params = {other: "x" for other in op.path_params} | {name: word}
            methods = allowed_methods(op.url_path(**params))
            if methods and op.method not in methods:
                return True
    return False


def openapi_statuses(op: Operation) -> frozenset[int]:
    """The responses `schemas/openapi.yaml` lists for `op`: `allowed_statuses` plus ST-5's answers.

    Tools that send path parameters breaking the id rule (schemathesis's negative tests) get
    404 (not a path of section 2) or, where a reserved word turns the path into another
    operation's path that does not list the method, 405. The HAR check never matches such
    requests to `op`, so they are not in `allowed_statuses`.
    """
    unknown_path = {404} if op.path_params else set()
    other_path = {405} if _collides(op) else set()
    return allowed_statuses(op) | unknown_path | other_path
