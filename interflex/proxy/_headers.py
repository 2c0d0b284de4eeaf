"""Hop-by-hop headers (RFC 9110 section 7.6.1): the only headers the proxy rewrites."""

from __future__ import annotations

from collections.abc import Iterable

RawHeaders = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade", b"proxy-connection"}
)


def end_to_end(headers: Iterable[tuple[bytes, bytes]], *, drop_host: bool = False) -> RawHeaders:
    """`headers` without the hop-by-hop ones: the fixed list, every `Proxy-*` header and every
    header named in `Connection`; with `drop_host` also without `Host` (set for the upstream).

    Names keep their case; order and repeated headers are kept.
    """
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == b"connection"
        for token in value.split(b",")
        if token.strip()
    }
    kept = []
    for name, value in pairs:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named or lower.startswith(b"proxy-") or (drop_host and lower == b"host"):
            continue
        kept.append((name, value))
    return kept
