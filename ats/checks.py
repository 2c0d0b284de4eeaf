"""Checks of test cases (contract C3): plain functions raising `Failure` or `Inconclusive`.

Every message says what the profile requires (with its reference), what the target did, and
names the exchange: "REF: requirement; <op> <method> <url> -> <status> ...".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from ats.recorder import Exchange
from ats.verdicts import Failure, Inconclusive
from interflex.validation import rfc3339_instant, validate


def _codes(allowed: int | Iterable[int]) -> list[int]:
    return [allowed] if isinstance(allowed, int) else sorted(allowed)


def _body_snippet(ex: Exchange, limit: int = 300) -> str:
    text = ex.text
    return repr(text[:limit] + ("..." if len(text) > limit else "")) if text else "no body"


def expect_status(ex: Exchange, allowed: int | Iterable[int], ref: str, requirement: str = "") -> None:
    """FAIL unless the status is one of `allowed`."""
    codes = _codes(allowed)
    if ex.status in codes:
        return
    wanted = requirement or f"status {' or '.join(map(str, codes))}"
    raise Failure(f"{ref}: {wanted}; {ex.describe()} ({_body_snippet(ex)})")


def expect_no_5xx(ex: Exchange, ref: str = "ST-7") -> None:
    """FAIL on a 5xx answer: no client input may produce one."""
    if ex.status >= 500:
        raise Failure(f"{ref}: no client input may produce a 5xx response; {ex.describe()} ({_body_snippet(ex)})")


def _schema_errors(body: Any, kind: str) -> list[str]:
    return [str(f) for f in validate(body, kind) if f.severity == "error" and not f.rule.startswith("PL-")]


def expect_schema(ex: Exchange, kind: str, array: bool = False, ref: str = "ST-10") -> Any:
    """Parse the body as JSON and validate it (tolerant mode) as `kind`, or an array of it; return it."""
    body = ex.json()
    if array:
        if not isinstance(body, list):
            raise Failure(
                f"{ref}: the body must be an array of {kind}; {ex.describe()} sent {type(body).__name__} "
                f"{_body_snippet(ex)}"
            )
        errors = [f"[{i}] {e}" for i, item in enumerate(body) for e in _schema_errors(item, kind)]
    else:
        errors = _schema_errors(body, kind)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; ... {len(errors) - 5} more" if len(errors) > 5 else "")
        raise Failure(
            f"{ref}: the body must be a valid {kind}{'[]' if array else ''} (PROFILE 4); "
            f"{ex.describe()} sent one with: {shown}"
        )
    return body


def expect_oauth_error(ex: Exchange, codes: str | Iterable[str], ref: str = "AU-3") -> dict[str, Any]:
    """FAIL unless the answer is 400/401 with an OAuth error object whose `error` is one of `codes`."""
    wanted = [codes] if isinstance(codes, str) else sorted(codes)
    expect_status(ex, (400, 401), ref, f"the failure must answer 400 or 401 with error {' or '.join(wanted)}")
    body = ex.json()
    errors = _schema_errors(body, "Error")
    if errors:
        raise Failure(
            f"{ref}: the answer must be an OAuth error object; {ex.describe()} sent {_body_snippet(ex)}: "
            f"{'; '.join(errors)}"
        )
    if body.get("error") not in wanted:
        raise Failure(
            f"{ref}: error must be {' or '.join(wanted)}; {ex.describe()} answered error {body.get('error')!r}"
        )
    return body


def expect_error_object(ex: Exchange, ref: str = "ST-8") -> dict[str, Any]:
    """FAIL unless an error answer is an `application/json` Error object (a SHOULD: recommended class)."""
    if ex.content_type != "application/json" and not ex.content_type.endswith("+json"):
        raise Failure(
            f"{ref}: error responses should be application/json Error objects; {ex.describe()} "
            f"sent Content-Type {ex.headers.get('Content-Type')!r}"
        )
    body = ex.json()
    errors = _schema_errors(body, "Error")
    if errors:
        raise Failure(
            f"{ref}: error responses should be Error objects; {ex.describe()} sent {_body_snippet(ex)}: "
            f"{'; '.join(errors)}"
        )
    return body


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TIME_FIELDS = ("timestamp", "deadline", "activation_time")


def _same_value(key: str, value: Any, got: Any, exact_times: bool) -> bool:
    if _number(value):
        return _number(got) and got == value
    if key in TIME_FIELDS and not exact_times and rfc3339_instant(value) is not None:
        return rfc3339_instant(got) == rfc3339_instant(value)  # None (not a date-time) never equals an instant
    return type(got) is type(value) and got == value


def same_object(posted: Mapping[str, Any], listed: Mapping[str, Any], exact_times: bool = False) -> list[str]:
    """Field-for-field differences of a posted object and its listed copy (ST-9).

    Numbers compare as numbers (5 == 5.0, never a bool or a string); `timestamp`, `deadline` and
    `activation_time` as instants (PROFILE 4: "Times are compared as instants"; a listed value that
    is not an RFC 3339 date-time is a difference), or as the exact strings with `exact_times` (the
    posted offset kept: a recommendation, IFX-REC-008); fields only in `listed` are ignored
    (unknown fields may be echoed).
    """
    differences = []
    for key, value in posted.items():
        if key not in listed:
            differences.append(f"{key}: missing (posted {value!r})")
        elif not _same_value(key, value, listed[key], exact_times):
            differences.append(f"{key}: posted {value!r}, listed {listed[key]!r}")
    return differences


def find(items: Iterable[Mapping[str, Any]], field: str, value: str) -> Mapping[str, Any] | None:
    """The first item whose `field` equals `value`, or None."""
    return next((item for item in items if isinstance(item, Mapping) and item.get(field) == value), None)


def expect_round_trip(
    posted: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    field: str,
    ref: str = "ST-9",
    where: str = "the list",
    exact_times: bool = False,
) -> Mapping[str, Any]:
    """FAIL unless `items` holds the posted object (by its id `field`) field for field; return it.

    Times compare as instants, or as exact strings with `exact_times` (see `same_object`).
    """
    listed = find(items, field, posted[field])
    if listed is None:
        raise Failure(
            f"{ref}: a posted object is listed until it is deleted; {field} {posted[field]!r} is missing from {where}"
        )
    differences = same_object(posted, listed, exact_times)
    if differences:
        raise Failure(
            f"{ref}: a posted object is returned field for field; {field} {posted[field]!r} in {where} "
            f"differs: {'; '.join(differences)}"
        )
    return listed


def inconclusive(reason: str, cause: str = "precondition") -> NoReturn:
    """End the test INCONCLUSIVE: `cause` is "target", "environment" or "precondition"."""
    raise Inconclusive(reason, cause)
