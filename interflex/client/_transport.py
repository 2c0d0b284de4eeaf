"""The one request implementation: `send` performs one operation of PROFILE.md section 2.

`InterflexClient` and the D3.5 functions both call `send`; paths and methods come from
`interflex.profile.OPERATIONS`, never from a second table.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import requests

from interflex.client._exceptions import (
    ConnectError,
    InterflexError,
    InvalidResponseError,
    RequestTimeout,
    TransportError,
    status_error_class,
)
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID, Operation

DEFAULT_TIMEOUT = 10
_MAX_TEXT = 200
_REASONS = (re.compile(r"\[Errno -?\d+\] ([^'\")]+)"), re.compile(r"\[SSL(?:: \w+)?\] ([^(]+?) \(_ssl"))


def send(
    session: requests.Session,
    base_url: str,
    op_id: str,
    *,
    path: dict[str, str] | None = None,
    token: str | None = None,
    body: object = None,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool | str | None = None,
) -> Any:
    """Perform operation `op_id` and return its result.

    `path` fills the `{...}` segments (percent-encoded), `token` becomes the bearer token,
    `body` the JSON body and `form` the form body (A1/A2). The result is the TokenResponse
    dict (A1/A2), the id string (id getters), the list (list operations) or the JSON body of
    a POST/DELETE (`{}` when empty). `verify` None keeps the session's TLS setting. Raises an
    `InterflexError` subclass on failure.
    """
    op = OPERATIONS_BY_ID[op_id]
    url = base_url.rstrip("/") + op.url_path(**{k: _segment(v) for k, v in (path or {}).items()})
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = session.request(
            op.method,
            url,
            headers=headers,
            json=body if op.action == "post" else None,
            data=form,
            params=query,
            timeout=timeout,
            verify=session.verify if verify is None else verify,  # explicit: env CA bundles must not win
            allow_redirects=False,
        )
    except requests.exceptions.InvalidHeader:
        # requests' message quotes the header value, which may be the bearer token: never show it.
        raise TransportError(
            f"{_where(op, url)}: invalid request header (control characters in the token?)", operation=op.id
        ) from None
    except requests.Timeout as exc:
        raise RequestTimeout(f"{_where(op, url)}: no answer within {timeout:g} s", operation=op.id) from exc
    except requests.ConnectionError as exc:
        cls = TransportError if isinstance(exc, requests.exceptions.SSLError) else ConnectError
        raise cls(f"{_where(op, url)}: cannot connect ({_reason(exc)})", operation=op.id) from exc
    except requests.RequestException as exc:
        raise TransportError(f"{_where(op, url)}: {_reason(exc)}", operation=op.id) from exc
    if not 200 <= response.status_code < 300:
        raise _status_error(op, url, response)
    return _result(op, url, response)


def _segment(value: object) -> str:
    """One percent-encoded path segment; "." and ".." are encoded too, so no URL library drops them."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def _where(op: Operation, url: str) -> str:
    return f"{op.id} {op.method} {url.split('?', 1)[0]}"


def _reason(exc: Exception) -> str:
    for pattern in _REASONS:
        found = pattern.search(str(exc))
        if found:
            return found.group(1).strip()
    return f"{type(exc).__name__}: {_clip(str(exc))}" if str(exc) else type(exc).__name__


def _clip(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."


def _status_error(op: Operation, url: str, response: requests.Response) -> InterflexError:
    try:
        payload = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        payload = None
    error = _clip(payload.get("error")) if isinstance(payload, dict) else None
    description = _clip(payload.get("error_description")) if isinstance(payload, dict) else None
    message = f"{_where(op, url)}: HTTP {response.status_code}"
    if error:
        message += f" {error}"
    if description:
        message += f": {description}"
    return status_error_class(response.status_code)(
        message,
        operation=op.id,
        status=response.status_code,
        error=error,
        error_description=description,
        response=response,
    )


def _result(op: Operation, url: str, response: requests.Response) -> Any:
    def invalid(what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"{_where(op, url)}: HTTP {response.status_code} with {what}",
            operation=op.id,
            status=response.status_code,
            response=response,
        )

    if not response.content.strip():
        if op.action in ("post", "delete"):
            return {}
        raise invalid("an empty body")
    try:
        payload = json.loads(response.content)
    except ValueError:
        raise invalid("a body that is not JSON") from None
    except RecursionError:
        raise invalid("a JSON body nested too deeply to parse") from None
    if op.action in ("token", "refresh"):
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise invalid("no access_token in the body (AU-1)")
    elif op.action == "new_id":
        field = ID_FIELDS[op.kind or ""]
        if not isinstance(payload, dict) or not isinstance(payload.get(field), str):
            raise invalid(f'a body that is not {{"{field}": "..."}} (P-05)')
        return payload[field]
    elif op.action == "list":
        if not isinstance(payload, list):
            raise invalid("a body that is not a JSON array (ST-10)")
    elif not isinstance(payload, dict):
        raise invalid("a body that is not a JSON object")
    return payload
