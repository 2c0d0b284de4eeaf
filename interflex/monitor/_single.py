"""Rules judged on one exchange alone: ST-5, section 5 statuses, ST-7, ST-10, ST-3, AU-3, AU-4, CL-1, CL-3, CL-4.

The body and status checks are `interflex.validation`'s (the same functions as
`interflex-validate`'s HAR check); this module says who broke the rule and which rule it is.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from interflex.monitor._model import CLIENT, ERROR, SERVER, WARNING, MonitorFinding, Platform
from interflex.monitor._view import NOT_JSON, View
from interflex.profile import ID_FIELDS, Operation
from interflex.validation import Instant, rfc3339_instant
from interflex.validation._findings import Finding
from interflex.validation._har import JSON_TYPE, UNPARSED, request_findings, response_findings
from interflex.validation._plausibility import PLAUSIBILITY_KINDS, plausibility
from interflex.validation._schemas import compiled

_FORM = "application/x-www-form-urlencoded"
_PLAUSIBILITY = frozenset({"PL-1", "PL-2", "PL-3", "PL-4", "PL-6"})
_REAL_TIME = 1e9  # `started` above this is a Unix time (2001 on), so PL-6 can compare it with deadlines
_UNIX_EPOCH = rfc3339_instant("1970-01-01T00:00:00Z")
assert _UNIX_EPOCH is not None
_DOCUMENTS = frozenset({"/openapi.yaml", "/openapi.json"})
PAST_MARGIN = 2.0  # seconds of clock difference between capture and platform tolerated by PL-6


def _finding(view: View, severity: str, rule: str, side: str, message: str) -> MonitorFinding:
    op = view.op
    return MonitorFinding(severity, rule, side, view.exchange.index, message, op.id if op else None)


def _where(view: View) -> str:
    exchange = view.exchange
    return f"{exchange.method} {view.path}"


def _parsed(value: Any) -> Any:
    """A body already parsed, for the shared checks; UNPARSED lets them parse (and explain) it."""
    return UNPARSED if value is NOT_JSON or value is None else value


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _body_problem(finding: Finding) -> str:
    return f"{finding.path or '/'}: {finding.message}"


def _summary(problems: list[Finding]) -> str:
    """The first problem of a body, and how many more there are."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{_body_problem(problems[0])} [{problems[0].rule}]{more}"


class LastLists:
    """The last list body of each URL that was found fine, parsed: a list read again unchanged
    (polling) is neither parsed nor validated again. Holds at most `limit` bytes of bodies (their
    parsed form takes several times that), none over a sixteenth of it."""

    __slots__ = ("bodies", "kept", "limit")

    def __init__(self, limit: int = 4 << 20) -> None:
        self.bodies: dict[str, tuple[bytes, list[Any]]] = {}
        self.kept = 0
        self.limit = limit

    def get(self, url: str, body: bytes) -> list[Any] | None:
        """The parsed body when `url` last answered these very bytes and they were fine."""
        last = self.bodies.get(url)
        return last[1] if last is not None and last[0] == body else None

    def put(self, url: str, body: bytes, parsed: list[Any]) -> None:
        """Remember a fine list body of `url`."""
        if len(body) > self.limit >> 4:
            return
        last = self.bodies.pop(url, None)
        if last is not None:
            self.kept -= len(last[0])
        if self.kept + len(body) > self.limit:
            self.bodies.clear()
            self.kept = 0
        self.bodies[url] = (body, parsed)
        self.kept += len(body)


def single_findings(view: View, platform: Platform, lists: LastLists | None = None) -> list[MonitorFinding]:
    """Every finding that needs only this exchange (empty outside `/interflex/api/<version>`).

    `lists` lets a list read again with the same answer skip parsing and validating it."""
    if not view.in_api:
        return []
    status, op = view.status, view.op
    if op is None:
        findings = _unknown_operation(view)
        if status is not None and status >= 500:
            findings.insert(0, _finding(view, ERROR, "ST-7", SERVER, f"{_where(view)} answered {status}"))
        return findings
    # a resource request with a bearer token and no body of its own breaks no request rule
    plain = view.token is not None and op.action in _PLAIN_ACTIONS
    findings = [] if plain else _request_rules(view, platform)
    if status is not None and status >= 500:
        findings.insert(0, _finding(view, ERROR, "ST-7", SERVER, f"{_where(view)} answered {status}"))
    elif status is not None and not _plainly_fine(view, op, status, lists) and not _not_modified(view):
        findings += _response_rules(view)
    if view.query and op.id in ("R3", "O3"):  # without a query, there is no valid_at to judge
        findings += _date_filter(view, platform)
    return findings


def _not_modified(view: View) -> bool:
    """A 304 to a conditional GET (RFC 9110 15.4.5): HTTP caching, outside the profile's status table (D-51)."""
    headers = view.exchange.request_headers
    return view.status == 304 and ("if-none-match" in headers or "if-modified-since" in headers)


def _date_filter(view: View, platform: Platform) -> list[MonitorFinding]:
    """CL-3 (`valid_at` percent-encoded) and, where the platform declares `date-filter`, DF-1."""
    raw = [value for name, _, value in (part.partition("=") for part in view.query.split("&")) if name == "valid_at"]
    findings = []
    if any("+" in value or " " in value for value in raw):
        message = "valid_at is not percent-encoded ('+' in a query value reads as a space)"
        findings.append(_finding(view, ERROR, "CL-3", CLIENT, message))
    if not platform.date_filter or not raw or not view.ok:
        return findings
    values = [unquote(value) for value in raw]
    instant = rfc3339_instant(values[0]) if len(values) == 1 else None
    if instant is None:
        what = "a repeated" if len(values) > 1 else "an empty" if not values[0] else "a malformed"
        message = f"answered {view.status} to {what} valid_at; not 400"
        return [*findings, _finding(view, ERROR, "DF-1", SERVER, message)]
    body = view.response_json
    for item in body if isinstance(body, list) else ():
        deadline = rfc3339_instant(item.get("deadline")) if isinstance(item, dict) else None
        if deadline is not None and deadline < instant:
            message = f"lists an object whose deadline {item['deadline']} is before valid_at {values[0]}"
            return [*findings, _finding(view, ERROR, "DF-1", SERVER, message)]
    return findings


def _unknown_operation(view: View) -> list[MonitorFinding]:
    """ST-5: a path or method outside section 2 (the client's CL-3; a 2xx is the server's ST-5)."""
    exchange, status = view.exchange, view.status
    if exchange.method == "OPTIONS":  # ST-5: OPTIONS may answer 200/204 with Allow
        return []
    if exchange.method in ("GET", "HEAD") and view.path in _DOCUMENTS:
        return []  # D-59: the API's own description, published beside it (the reference server does)
    what = "a path that is not one of section 2" if not view.known_path else "a method section 2 does not list"
    findings = [_finding(view, ERROR, "CL-3", CLIENT, f"{_where(view)}: {what}")]
    if status is not None and 200 <= status < 300:
        expected = "405" if view.known_path else "404"
        findings.append(
            _finding(view, ERROR, "ST-5", SERVER, f"{_where(view)}: {what} answered {status}, not {expected}")
        )
    return findings


_PLAIN_ACTIONS = frozenset({"new_id", "list", "delete"})


def _request_rules(view: View, platform: Platform) -> list[MonitorFinding]:
    op, exchange = view.op, view.exchange
    assert op is not None
    findings: list[MonitorFinding] = []
    if op.action in ("token", "refresh"):
        content_type = exchange.request_headers.get("content-type", "")
        if not content_type.lower().startswith(_FORM):
            findings.append(
                _finding(
                    view,
                    ERROR,
                    "CL-1",
                    CLIENT,
                    f"{op.id} body sent as {content_type or 'no content type'}, not {_FORM}",
                )
            )
        if problems := _body_errors(view):
            findings.append(_finding(view, ERROR, "CL-1", CLIENT, f"{op.id} form: {_summary(problems)}"))
        return findings
    if view.token is None:
        header = "malformed Authorization header" if "authorization" in exchange.request_headers else "no bearer token"
        findings.append(_finding(view, ERROR, "CL-1", CLIENT, f"{_where(view)} sent with {header}"))
        if view.ok:
            findings.append(
                _finding(view, ERROR, "AU-4", SERVER, f"{_where(view)} with {header} answered {view.status}, not 401")
            )
    if op.action == "post":
        findings += _post_body_rules(view, platform)
    return findings


def _body_errors(view: View) -> list[Finding]:
    op = view.op
    assert op is not None
    if view.exchange.truncated:
        return []
    kind = op.kind if op.action == "post" else None
    parsed = UNPARSED if kind is None else _parsed(view.request_json)
    if kind is not None and type(parsed) is dict and compiled(kind).is_valid(parsed):
        view.valid_request = True
        # what `request_findings` would find in a valid object: unknown fields (warnings) and PL-1...PL-3
        problems = plausibility(kind, parsed) if kind in PLAUSIBILITY_KINDS else []
        return [Finding(p.severity, "/request/body" + p.path, p.rule, p.message) for p in problems] if problems else []
    text = _text(view.exchange.request_body) if parsed is UNPARSED else ""  # a parsed body is not read again
    problems = request_findings(op, text, parsed=parsed)
    return [p for p in problems if p.severity == ERROR]


def _post_body_rules(view: View, platform: Platform) -> list[MonitorFinding]:
    """CL-4 (the body the client sent), ST-3 and ST-1/PL-n (what the server accepted)."""
    op, exchange = view.op, view.exchange
    assert op is not None
    findings = []
    content_type = exchange.request_headers.get("content-type")
    if content_type is None or not JSON_TYPE.match(content_type):
        sent = f"as {content_type}" if content_type else "without a content type"
        findings.append(_finding(view, ERROR, "CL-4", CLIENT, f"{op.id} body sent {sent}, not application/json"))
        if content_type is not None and view.ok:
            message = f"{op.id} body of type {content_type} answered {view.status}, not 415"
            findings.append(_finding(view, ERROR, "ST-3", SERVER, message))
    problems = _body_errors(view) + _plausibility(view)
    if problems:
        findings.append(_finding(view, ERROR, "CL-4", CLIENT, f"{op.id} body {_summary(problems)}"))
    if view.ok and problems:
        schema = [p for p in problems if p.rule not in _PLAUSIBILITY]
        if schema:
            message = f"{op.id} accepted ({view.status}) a body that breaks section 4: {_body_problem(schema[0])}"
            findings.append(_finding(view, ERROR, "ST-1", SERVER, message))
        elif platform.plausibility:
            for problem in problems:
                message = f"{op.id} accepted ({view.status}) an implausible body: {problem.message}"
                findings.append(_finding(view, ERROR, problem.rule, SERVER, message))
    return findings


def _plausibility(view: View) -> list[Finding]:
    """PL-4 (an offer's entity_id is {agg}) and PL-6 (a deadline not in the past when posted)."""
    op, body = view.op, view.request_json
    if op is None or not isinstance(body, dict):
        return []
    problems = []
    agg = view.params.get("agg")
    if op.id == "O2" and "entity_id" in body and body["entity_id"] != agg:
        problems.append(
            Finding(ERROR, "/request/body/entity_id", "PL-4", f"entity_id {body['entity_id']!r} is not {agg!r}")
        )
    deadline = rfc3339_instant(body.get("deadline")) if op.id in ("R2", "O2") else None
    started = view.exchange.started
    if deadline is not None and started > _REAL_TIME and _unix_seconds(deadline) < started - PAST_MARGIN:
        problems.append(Finding(ERROR, "/request/body/deadline", "PL-6", f"deadline {body['deadline']} is in the past"))
    return problems


def _unix_seconds(instant: Instant) -> float:
    """An instant as Unix seconds (fractions beyond a float's precision do not matter for PL-6)."""
    fraction = float("0." + instant.fraction) if instant.fraction else 0.0
    return (instant.minute - _UNIX_EPOCH.minute) * 60 + instant.second + fraction


def _empty(body: bytes) -> bool:
    return not body or body.isspace()


def _plainly_fine(view: View, op: Operation, status: int, lists: LastLists | None) -> bool:
    """A fast yes for the common success answers that the shared checks would find nothing in.

    Their only findings besides schema errors are unknown fields and plausibility, which the
    monitor does not report for answers; anything else takes the full check.
    """
    exchange = view.exchange
    if status not in op.success or exchange.method == "HEAD" or exchange.truncated:
        return False
    action, kind = op.action, op.kind
    if action == "list":
        if kind is None:
            return False
        body = exchange.response_body
        if lists is not None:
            known = lists.get(exchange.url, body)
            if known is not None:
                view._response = known  # the same bytes as last time: parsed and fine then
                return True
        parsed = view.response_json
        if type(parsed) is not list:
            return False
        check = compiled(kind).is_valid
        for item in parsed:
            if not check(item):
                return False
        if lists is not None:
            lists.put(exchange.url, body, parsed)
        return True
    if action == "delete" or status == 204:
        return _empty(exchange.response_body)
    if action == "post":
        body = exchange.response_body
        if _empty(body):
            return True
        if view.valid_request and body == exchange.request_body:  # the stored object, answered as posted
            view._response = view.request_json
            return True
        parsed = view.response_json
        return type(parsed) is dict and (not parsed or compiled(kind or "").is_valid(parsed))
    parsed = view.response_json
    schema = _RESPONSE_SCHEMAS.get(action)
    if type(parsed) is not dict or schema is None:
        return False
    if action == "new_id" and (kind is None or ID_FIELDS[kind] not in parsed):
        return False
    return compiled(schema).is_valid(parsed)


_RESPONSE_SCHEMAS = {"token": "TokenResponse", "refresh": "TokenResponse", "new_id": "IdResponse"}


def _response_rules(view: View) -> list[MonitorFinding]:
    """Section 5 status table, ST-10 success bodies, ST-8 Error bodies (SHOULD), AU-3."""
    op, exchange, status = view.op, view.exchange, view.status
    assert op is not None and status is not None
    content_type = exchange.response_headers.get("content-type", "")
    findings: list[MonitorFinding] = []
    body_problems = []
    parsed = UNPARSED if exchange.truncated else _parsed(view.response_json)
    text = "" if exchange.truncated else _text(exchange.response_body)
    for problem in response_findings(op, exchange.method, status, content_type, text, parsed=parsed):
        if problem.severity != ERROR or problem.rule.startswith("PL-"):
            continue  # unknown fields are tolerated (section 4); plausibility is judged where objects are posted
        if problem.rule == "status":
            severity = WARNING if status == 429 else ERROR  # D-51: rate limiting is not in section 5
            findings.append(_finding(view, severity, op.id, SERVER, f"{_where(view)}: {problem.message}"))
        elif problem.rule == "AU-3":
            findings.append(_finding(view, ERROR, "AU-3", SERVER, f"{op.id} error: {problem.message}"))
        else:
            body_problems.append(problem)
    if not body_problems or exchange.truncated:  # a cut body is not judged
        return findings
    if status in op.success:
        findings.append(_finding(view, ERROR, "ST-10", SERVER, f"{op.id} success body {_summary(body_problems)}"))
    else:
        findings.append(_finding(view, WARNING, "ST-8", SERVER, f"{op.id} error body {_summary(body_problems)}"))
    return findings
