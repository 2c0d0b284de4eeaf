"""Python clients of the InterFlex flexibility API (PROFILE.md; D3.5 section 3.2).

Two ways in, one request implementation underneath:

* `InterflexClient` - a session client: one method per operation A1...N4, keep-alive,
  https, automatic token refresh, typed exceptions.

      >>> client = InterflexClient("https://host/interflex/api/v1", client_id="client",
      ...                          client_secret="client", username="dso1", password="...")
      >>> request_id = client.get_request_id("dso1")

* the D3.5-compatible modules `authentication`, `flexibility_requests`, `flexibility_offers`,
  `flexibility_activations`, `flexibility_activation_acks`, `flexibility_activation_nacks`
  with the functions and argument order of D3.5 tables 2-51 (`http://{host}:{port}/...`).

The exception tree (see `interflex.client._exceptions`):

    InterflexError
    +-- TransportError          no HTTP response
    |   +-- ConnectError        connection refused, DNS failure, ...
    |   +-- RequestTimeout      no answer within the timeout
    +-- InvalidResponseError    2xx with a body that is not what the operation returns
    +-- HTTPStatusError         status outside 2xx
        +-- ClientError         4xx
        |   +-- BadRequestError       400, 422
        |   +-- AuthenticationError   401
        |   +-- ForbiddenError        403
        |   +-- NotFoundError         404
        |   +-- ConflictError         409
        +-- ServerError         5xx

    InvalidObjectError (a ValueError)   a `create_*` function got values making no valid object
"""

from interflex.client._client import InterflexClient
from interflex.client._exceptions import (
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConflictError,
    ConnectError,
    ForbiddenError,
    HTTPStatusError,
    InterflexError,
    InvalidObjectError,
    InvalidResponseError,
    NotFoundError,
    RequestTimeout,
    ServerError,
    TransportError,
)

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "ConflictError",
    "ConnectError",
    "ForbiddenError",
    "HTTPStatusError",
    "InterflexClient",
    "InterflexError",
    "InvalidObjectError",
    "InvalidResponseError",
    "NotFoundError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
]
