"""The client's exceptions.

The exception tree:

* InterflexError - every failure of a call to an InterFlex server
  + TransportError - no HTTP response at all (DNS, TLS, connection reset, ...)
    - ConnectError - the connection could not be opened (e.g. connection refused)
    - RequestTimeout - connecting or reading took longer than the client's `timeout`
  + InvalidResponseError - a success status whose body is not what the profile names (ST-10)
  + HTTPStatusError - an answer outside 2xx (PROFILE.md section 5, P-06)
    - ClientError - 4xx
      . BadRequestError - 400, 422 (ST-1; also AU-3 `invalid_grant`: wrong password)
      . AuthenticationError - 401 (AU-4 bad token; AU-3 `invalid_client`)
      . ForbiddenError - 403 (AU-5)
      . NotFoundError - 404 (ST-4, ST-5)
      . ConflictError - 409 (ST-2)
    - ServerError - 5xx (ST-7)

* InvalidObjectError(ValueError) - a `create_*` function was given values that do not make a
  valid object; raised before anything is sent.

Every `InterflexError` carries `operation` (the op id, e.g. "R2"), `status` (None without a
response), the Error object's `error` and `error_description` (None when the body has none)
and `response` (the `requests.Response`, None without one). Messages and reprs never contain
credentials or tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

    from interflex.validation import Finding


class InterflexError(Exception):
    """Base class of every error raised by a call to an InterFlex server."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.error = error
        self.error_description = error_description
        self.response = response


class TransportError(InterflexError):
    """The request got no HTTP response (DNS, TLS, connection reset, ...)."""


class ConnectError(TransportError):
    """The connection to the server could not be opened."""


class RequestTimeout(TransportError):
    """Connecting or waiting for the answer took longer than the client's timeout."""


class InvalidResponseError(InterflexError):
    """A success status with a body that is not what the operation returns (ST-10)."""


class HTTPStatusError(InterflexError):
    """The server answered with a status outside 2xx."""


class ClientError(HTTPStatusError):
    """A 4xx answer."""


class BadRequestError(ClientError):
    """400 or 422: the request or its object was rejected (ST-1, PL-n)."""


class AuthenticationError(ClientError):
    """401: a missing, unknown or expired token (AU-4) or rejected client credentials (AU-3).

    A wrong password or refresh token answers 400 `invalid_grant` (RFC 6749): `BadRequestError`.
    """


class ForbiddenError(ClientError):
    """403: the user may not perform the operation (AU-5)."""


class NotFoundError(ClientError):
    """404: unknown path or id (ST-4, ST-5)."""


class ConflictError(ClientError):
    """409: the object's id is already stored (ST-2)."""


class ServerError(HTTPStatusError):
    """A 5xx answer (never conformant, ST-7)."""


class InvalidObjectError(ValueError):
    """A `create_*` function was given values that make no valid object.

    `kind` is the object kind, `findings` the validator's error findings.
    """

    def __init__(self, kind: str, findings: list[Finding]) -> None:
        super().__init__(f"invalid {kind}: " + "; ".join(str(f) for f in findings))
        self.kind = kind
        self.findings = findings


_BY_STATUS: dict[int, type[ClientError]] = {
    400: BadRequestError,
    422: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


def status_error_class(status: int) -> type[HTTPStatusError]:
    """The most specific exception class for an HTTP status outside 2xx."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ClientError
    if 500 <= status < 600:
        return ServerError
    return HTTPStatusError
