"""The one redaction function: secrets never reach evidence, reports or terminal output.

`redact` replaces every known secret (IXIT passwords, client secret, header values, every token
the suite has seen) and the values of secret-carrying fields (form and JSON `password`,
`client_secret`, `access_token`, `refresh_token`; `Authorization` header lines) by `***`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "***"
SECRET_FIELDS = ("password", "client_secret", "access_token", "refresh_token")
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_JSON_FIELD = re.compile(r'("(?:{})"\s*:\s*")((?:[^"\\]|\\.)*)(")'.format("|".join(SECRET_FIELDS)))
_FORM_FIELD = re.compile(r"((?:^|[&?\s])(?:{})=)([^&\s]*)".format("|".join(SECRET_FIELDS)))
_AUTH_LINE = re.compile(r"((?:proxy-)?authorization\s*[:=]\s*['\"]?)(\w+\s+)?[^\s'\",}]+", re.IGNORECASE)


def _variants(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret and every secret-carrying field value replaced by `***`."""
    if not text:
        return text
    text = _JSON_FIELD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _FORM_FIELD.sub(lambda m: m.group(1) + MASK, text)
    text = _AUTH_LINE.sub(lambda m: m.group(1) + (m.group(2) or "") + MASK, text)
    pattern = _secrets_pattern(tuple(secrets))
    return pattern.sub(MASK, text) if pattern is not None else text


@lru_cache(maxsize=64)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    variants = sorted({v for s in secrets if s for v in _variants(str(s))}, key=len, reverse=True)
    if not variants:
        return None
    return re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, variants)) + r")(?![A-Za-z0-9_])")


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = (), secret_names: Iterable[str] = ()) -> dict:
    """A copy of `headers` with credential headers and the named (IXIT) headers masked.

    An `Authorization` value keeps its scheme word (`Bearer ***`) so evidence still shows the shape.
    """
    hidden = SECRET_HEADERS | {n.lower() for n in secret_names}
    secrets = list(secrets)
    result = {}
    for name, value in headers.items():
        value = str(value)
        if name.lower() in hidden:
            scheme, space, _ = value.partition(" ")
            result[name] = f"{scheme} {MASK}" if space and name.lower().endswith("authorization") else MASK
        else:
            result[name] = redact(value, secrets)
    return result
