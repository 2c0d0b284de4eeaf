"""The target of a run: the IXIT with command-line overrides, the class selection, a reachability
probe, the pre-flight login of the IXIT accounts and the in-process reference server (plain Python;
the plugin calls these up front)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import requests

from ats.errors import ConfigError
from ats.ixit import Ixit, default_ixit, load_ixit
from ats.recorder import Exchange, Transport
from interflex.profile import CONFORMANCE_CLASSES


def selected_classes(values: list[str]) -> list[str]:
    """The classes of `--ats-class` options; ConfigError naming an unknown one."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    for name in names:
        if name not in CONFORMANCE_CLASSES:
            raise ConfigError(
                f"--ats-class: unknown conformance class {name!r}; expected one of {', '.join(CONFORMANCE_CLASSES)}"
            )
    return names


def resolve_ixit(path: str | None, url: str | None) -> Ixit:
    """The IXIT of a run: `--ixit` (or the reference accounts) with `--target-url` applied."""
    ixit = load_ixit(path) if path else default_ixit()
    ixit = ixit.with_target(url)
    if not ixit.target_url:
        raise ConfigError(f"no target: give --target-url or target_url in the IXIT file {path}")
    return ixit


def probe(ixit: Ixit, timeout: float) -> str | None:
    """One request to the base URL: its `Server` header; ConfigError when it cannot be reached at all."""
    transport = Transport(ixit, timeout)
    try:
        response = transport.session.get(ixit.target_url, timeout=timeout, stream=True, allow_redirects=False)
        response.close()
        return response.headers.get("Server")
    except requests.Timeout:
        return None  # reachable but slow: the test cases will report it (INCONCLUSIVE, environment)
    except requests.exceptions.SSLError as exc:
        raise ConfigError(
            f"target {ixit.target_url}: TLS handshake failed ({first_line(exc)}); see tls.verify / tls.cert in the IXIT"
        ) from None
    except requests.RequestException as exc:
        raise ConfigError(f"target {ixit.target_url} is unreachable: {first_line(exc)}") from None
    finally:
        transport.close()


_LOGIN_HINTS = {"invalid_grant": "check the password", "invalid_client": "check client_id and client_secret"}


def preflight(ixit: Ixit, timeout: float) -> list[str]:
    """Log in every IXIT account once (A1, PROFILE 3): one line per account that gets no access token at all
    (an answer other than 200, or no `access_token` string in it), naming what to check; empty when all log in.

    Only answers count: a login without a complete answer (timeout, dropped connection) is left to the test
    cases, like a slow probe; so is a token response with other faults (the core-auth test cases judge it).
    No password, secret or token is in the lines (D-20)."""
    from ats.redaction import redact
    from ats.session import Api, Context
    from ats.verdicts import Failure, Inconclusive

    def login(role: str) -> Exchange | None:
        try:
            return api.login(role, check=False)
        except (Inconclusive, Failure):
            return None

    context = Context(ixit, timeout)
    api = Api(context)
    lines = []
    try:
        roles = list(ixit.entity_ids)  # the accounts log in at once (independent probes, D-107)
        for role, ex in zip(roles, api.concurrently(partial(login, role) for role in roles), strict=True):
            if ex is None or ex.truncated or ex.error:  # no complete answer
                continue
            body = _json_object(ex.body)
            if ex.status == 200 and isinstance(body.get("access_token"), str) and body["access_token"]:
                continue
            error = body.get("error") if isinstance(body.get("error"), str) else ""
            code = "".join(c for c in error[:60] if c.isprintable() and not c.isspace())
            answer = f"{ex.status} {code}".strip() if ex.status != 200 else "200 without an access_token string"
            where = "dso" if role == "dso" else f"aggregators[{int(role[3:]) - 1}]"
            user = redact(api.account(role).username, context.secrets)
            hint = _LOGIN_HINTS.get(code, "check this account and the target URL (A1 must answer a TokenResponse)")
            lines.append(
                f"IXIT account {where} (user {user}): the target answered {redact(answer, context.secrets)}; {hint}"
            )
    finally:
        context.close()
    return lines


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def selected_alternatives(values: list[str]) -> list[str]:
    """The modes of `--ats-reference-alternative` options (repeatable or comma-separated), checked up front:
    ConfigError naming an unknown mode or two that cannot be combined."""
    names = sorted({n.strip() for v in values for n in v.split(",") if n.strip()})
    if not names:
        return []
    try:
        from reference_server.alternatives import check_alternatives
    except ImportError as exc:
        raise ConfigError(f"--ats-reference-alternative needs the bundled reference server: {exc}") from None
    try:
        check_alternatives(names)
    except ValueError as exc:
        raise ConfigError(f"--ats-reference-alternative: {exc}") from None
    return names


def start_reference_server(fault: str | None, alternatives: list[str] | None = None) -> Any:
    """Start the bundled reference server (own in-memory database, default accounts) in this process,
    in a fault mode and/or alternative modes (self-tests of the suite)."""
    try:
        from reference_server import ReferenceServer
    except ImportError as exc:
        raise ConfigError(f"cannot start the bundled reference server: {exc}") from None
    try:
        server = ReferenceServer(db=":memory:", fault=fault, alternative=alternatives or None)
        server.start()
    except (ValueError, RuntimeError, OSError) as exc:
        raise ConfigError(f"cannot start the bundled reference server: {first_line(exc)}") from None
    return server
