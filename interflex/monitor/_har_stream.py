"""Stream the entries of a HAR 1.2 file without loading the whole document.

Only the two levels that matter are walked by hand (the top object and `log`); every other
value, and each entry, is parsed by the standard library's JSON scanner (what
`JSONDecoder.raw_decode` calls) from a buffer that holds little more than one entry at a time.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from json.scanner import make_scanner
from typing import Any, BinaryIO

_CHUNK = 1 << 20
_AHEAD = 1 << 16  # bytes kept ahead of the next value where the file has them
_WHITESPACE = " \t\n\r"
_BLANKS = re.compile(r"[ \t\n\r]*")


class HarStreamError(ValueError):
    """The file is not a HAR document: malformed JSON or no `log.entries` array."""


class _Reader:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._scan = make_scanner(json.JSONDecoder())  # raw_decode without its Python frame
        self.buf = ""
        self.pos = 0
        self.eof = False

    def _more(self, size: int = _CHUNK) -> bool:
        if self.eof:
            return False
        raw = self._handle.read(size)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise HarStreamError("not UTF-8 text") from None
        if not raw:
            self.eof = True
        if self.pos > _CHUNK:
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += text
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file)."""
        while True:
            buf, pos = self.buf, self.pos
            if pos < len(buf) and buf[pos] not in _WHITESPACE:
                return buf[pos]
            self.pos = pos = _BLANKS.match(buf, pos).end()
            if pos < len(buf):
                return buf[pos]
            if not self._more():
                return ""

    def expect(self, chars: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            raise HarStreamError(f"expected {' or '.join(map(repr, chars))}, found {found}")
        self.pos += 1
        return char

    def value(self) -> Any:
        """The next JSON value; reads on while the buffer holds only part of it."""
        self.peek()
        if len(self.buf) - self.pos < _AHEAD:
            self._more()  # most values then lie wholly in the buffer: a failed parse is rare
        size = _CHUNK
        while True:
            try:
                value, end = self._scan(self.buf, self.pos)
            except (json.JSONDecodeError, StopIteration) as exc:
                if self._more(size):
                    size *= 2
                    continue
                if isinstance(exc, StopIteration):  # no value starts here
                    raise HarStreamError(f"not JSON: Expecting value (character {exc.value})") from None
                raise HarStreamError(f"not JSON: {exc.msg} (character {exc.pos})") from None
            except RecursionError:
                raise HarStreamError("not JSON: nested too deeply") from None
            if end == len(self.buf) and self._more(size):  # a number may go on in the next chunk
                continue
            self.pos = end
            return value


def _members(reader: _Reader) -> Iterator[str]:
    """The keys of the object that starts here; the caller consumes each value."""
    reader.expect("{")
    if reader.peek() == "}":
        reader.pos += 1
        return
    while True:
        key = reader.value()
        if not isinstance(key, str):
            raise HarStreamError("expected an object key")
        reader.expect(":")
        yield key
        if reader.expect(",}") == "}":
            return


def har_entries(handle: BinaryIO) -> Iterator[Any]:
    """Each element of `log.entries`, in order; raises `HarStreamError`."""
    found = False
    reader = _Reader(handle)
    for key in _members(reader):
        if key != "log" or reader.peek() != "{":
            reader.value()
            continue
        for log_key in _members(reader):
            if log_key != "entries" or reader.peek() != "[":
                reader.value()
                continue
            found = True
            reader.expect("[")
            if reader.peek() == "]":
                reader.pos += 1
                continue
            while True:
                yield reader.value()
                if reader.expect(",]") == "]":
                    break
    if reader.peek():
        raise HarStreamError("data after the end of the document")
    if not found:
        raise HarStreamError("no log.entries array")
