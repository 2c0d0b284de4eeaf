"""Check one HAR entry against the profile: operation, request body, status, response body.

Request bodies: POSTs of objects against their JSON Schema, A1/A2 forms against the form
schemas of `schemas/openapi.yaml` (section 3).

Finding paths point into the exchange: `/request/body/...`, `/response/status`,
`/response/body/...`. Rules besides the validator's: `status` (a status the profile does
not allow for the operation), `json` (a body that should be JSON and is not) and `body`
(a body where the profile allows none, or only `{}`).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs

from interflex.profile import (
    API_PREFIX,
    ID_FIELDS,
    OAUTH_ERRORS,
    OPERATIONS_BY_ID,
    Operation,
    allowed_methods,
    decode_path,
    match_operation,
)
from interflex.validation._findings import ERROR, WARNING, Finding
from interflex.validation._inputs import HarEntry, parse_json
from interflex.validation._openapi import bundled_openapi
from interflex.validation._results import Result
from interflex.validation._statuses import allowed_statuses
from interflex.validation._validator import schema_findings, validate

API_BASE = re.compile(re.escape(API_PREFIX) + r"/[^/?#]+")
_FORM = "application/x-www-form-urlencoded"
JSON_TYPE = re.compile(r"^application/([\w.+-]+\+)?json\s*(;|$)", re.IGNORECASE)


def api_path(url: object) -> str | None:
    """The still percent-encoded path after `/interflex/api/<version>`; None without that prefix."""
    if not isinstance(url, str):
        return None
    path = urlsplit(url).path
    found = API_BASE.search(path)
    return path[found.end() :] if found else None


def _prefixed(findings: list[Finding], prefix: str) -> list[Finding]:
    return [Finding(f.severity, prefix + f.path, f.rule, f.message) for f in findings]


def _response_text(response: dict[str, Any]) -> str:
    content = response.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return ""
    text = content["text"]
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "\ufffd"  # undecodable: reported as "not JSON" where JSON is required
    return text


def _mime_type(response: dict[str, Any]) -> str:
    content = response.get("content")
    mime = content.get("mimeType") if isinstance(content, dict) else None
    if isinstance(mime, str) and mime:
        return mime
    headers = response.get("headers")
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "content-type":
            return str(header.get("value", ""))
    return ""


UNPARSED: Any = object()  # no parsed body given: parse the text


def _json_body(text: str, where: str, parsed: Any = UNPARSED) -> tuple[Any, list[Finding]]:
    if parsed is not UNPARSED:
        return parsed, []
    try:
        return parse_json(text), []
    except ValueError as exc:
        return None, [Finding(ERROR, where, "json", f"body is not JSON: {exc}")]


@cache
def _form_validator(op_id: str) -> jsonschema_rs.Validator:
    """The form body schema of A1/A2 from the OpenAPI document (PasswordGrant, RefreshGrant)."""
    document = bundled_openapi()
    op = OPERATIONS_BY_ID[op_id]
    ref = document["paths"][op.path][op.method.lower()]["requestBody"]["content"][_FORM]["schema"]["$ref"]
    return jsonschema_rs.Draft202012Validator({"$ref": ref, "components": document["components"]})


def _check_form(op: Operation, text: str) -> list[Finding]:
    """A1/A2: the form fields of section 3 (first value of each field)."""
    form = {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}
    return _prefixed(schema_findings(_form_validator(op.id), form), "/request/body")


def _check_request(op: Operation, request: dict[str, Any], strict: bool) -> list[Finding]:
    post = request.get("postData")
    text = post.get("text") if isinstance(post, dict) else None
    return request_findings(op, text if isinstance(text, str) else None, strict)


def request_findings(op: Operation, text: str | None, strict: bool = False, parsed: Any = UNPARSED) -> list[Finding]:
    """The request body of `op` (None: not in the capture): a POSTed object or the A1/A2 form.

    Shared by the HAR check and the protocol monitor (CL-1, CL-4). `parsed`: the body's JSON
    value when the caller has parsed it already (it must be valid JSON).
    """
    if op.request_schema is None and op.action not in ("token", "refresh"):
        return []
    if text is None:
        return [Finding(WARNING, "/request/body", "body", "request body not in the capture; not checked")]
    if op.request_schema is None:
        return _check_form(op, text)
    body, problems = _json_body(text, "/request/body", parsed)
    if problems:
        return problems
    return _prefixed(validate(body, op.request_schema, strict), "/request/body")


def _check_success_body(op: Operation, status: int, text: str, strict: bool, parsed: Any) -> list[Finding]:
    where = "/response/body"
    empty = not text.strip()
    if status == 204:
        return [] if empty else [Finding(ERROR, where, "body", "a 204 response has no body")]
    if empty:  # POST and DELETE may answer without a body; the others answer JSON
        return (
            []
            if op.response_schema is None
            else [Finding(ERROR, where, "json", f"empty body; {op.id} answers a JSON {op.response_schema}")]
        )
    body, problems = _json_body(text, where, parsed)
    if problems:
        return problems
    if op.action == "list":
        if not isinstance(body, list):
            return [Finding(ERROR, where, "type", f"{op.id} answers an array of {op.kind}")]
        findings = []
        for index, item in enumerate(body):
            findings += _prefixed(validate(item, op.kind, strict), f"{where}/{index}")
        return findings
    if op.action == "delete":
        return [] if body == {} else [Finding(ERROR, where, "body", "a DELETE answer may only carry {}")]
    if op.action == "post":
        return [] if body == {} else _prefixed(validate(body, op.kind, strict), where)
    findings = _prefixed(validate(body, op.response_schema, strict), where)
    if op.action == "new_id" and isinstance(body, dict) and op.kind is not None:
        field = ID_FIELDS[op.kind]
        if field not in body:
            findings.append(Finding(ERROR, f"{where}/{field}", "required", f"{op.id} answers {{{field!r}: ...}}"))
    return findings


def _check_response(op: Operation, method: str, response: dict[str, Any], strict: bool) -> list[Finding]:
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or status <= 0:
        return [Finding(ERROR, "/response/status", "status", f"no response status in the capture ({status!r})")]
    return response_findings(op, method, status, _mime_type(response), _response_text(response), strict)


def response_findings(
    op: Operation, method: str, status: int, content_type: str, text: str, strict: bool = False, parsed: Any = UNPARSED
) -> list[Finding]:
    """A response to `op`: status allowed (rule `status`), success body (ST-10), Error body, AU-3.

    Shared by the HAR check and the protocol monitor. `text` is the decoded body; `parsed` its
    JSON value when the caller has parsed it already (valid JSON only).
    """
    allowed = allowed_statuses(op)
    findings = []
    if status not in allowed:
        listed = ", ".join(map(str, sorted(allowed)))
        message = f"{status} is not allowed for {op.id}; allowed: {listed}"
        findings.append(Finding(ERROR, "/response/status", "status", message))
    if method == "HEAD":
        return findings
    if status in op.success:
        findings += _check_success_body(op, status, text, strict, parsed)
    elif 400 <= status < 500 and JSON_TYPE.match(content_type):
        body, problems = _json_body(text, "/response/body", parsed)
        findings += problems or _prefixed(validate(body, "Error", strict), "/response/body")
        if status != 413 and op.action in ("token", "refresh") and isinstance(body, dict) and "error" in body:
            findings += _oauth_error_code(body["error"])
    return findings


def _oauth_error_code(code: object) -> list[Finding]:
    """AU-3: A1/A2 failures (but a 413 for an oversized body, D-10) carry an OAuth error code."""
    if code in OAUTH_ERRORS:
        return []
    listed = ", ".join(sorted(OAUTH_ERRORS))
    return [Finding(ERROR, "/response/body/error", "AU-3", f"{code!r} is not an OAuth error code ({listed})")]


def check_entry(item: HarEntry, strict: bool = False) -> Result:
    """Check one HAR entry; entries outside the 22 operations come back skipped."""
    request, response = item.entry["request"], item.entry["response"]
    method = str(request.get("method", "")).upper()
    url = request.get("url")
    raw_path = api_path(url)
    if raw_path is None:
        return Result(item.source, None, skipped=f"{method} {url}: not under {API_PREFIX}/<version>")
    path = decode_path(raw_path)
    if path is None:
        reason = "a segment decodes to '/' or is not UTF-8"
        return Result(item.source, None, skipped=f"{method} {raw_path}: not one of the 22 operations ({reason})")
    matched = match_operation(method, path)
    if matched is None:
        if allowed_methods(path):
            return Result(item.source, None, skipped=f"{method} {path}: method not listed for this path (ST-5)")
        return Result(item.source, None, skipped=f"{method} {path}: not one of the 22 operations")
    op = matched[0]
    findings = _check_request(op, request, strict) + _check_response(op, method, response, strict)
    operation = f"{op.id} {method} {path} -> {response.get('status')}"
    return Result(item.source, op.kind or op.response_schema, findings, operation=operation)
