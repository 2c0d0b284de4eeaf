"""Read the CLI's inputs: JSON files (a message or an array), JSON Lines, HAR 1.2 captures, standard input.

Every problem becomes an `InputError` with one line naming the file (and line or entry);
nothing here raises anything else for bad input.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

STDIN = "<stdin>"


class InputError(Exception):
    """An input that cannot be read: one line naming the file and, where known, the line."""


@dataclass(frozen=True)
class Message:
    """One message to validate and where it came from."""

    source: str
    value: Any


@dataclass(frozen=True)
class HarEntry:
    """One `log.entries[i]` of a HAR capture."""

    source: str
    entry: dict[str, Any]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """`json.loads` without NaN/Infinity; every failure is a ValueError with a short reason."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _os_error(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a directory")
    return InputError(f"{path}: cannot read: {exc.strerror or exc}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise _os_error(path, exc) from None


def _load_json(path: Path) -> Any:
    text = _read_text(path)
    try:
        return parse_json(text)
    except ValueError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None


def _messages(value: Any, source: str) -> Iterator[Message]:
    """One message, or the elements of an array (`source#/i`)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield Message(f"{source}#/{index}", item)
    else:
        yield Message(source, value)


def json_file(path: Path) -> Iterator[Message]:
    """A JSON file: one message, or an array whose elements are messages (`file#/i`)."""
    return _messages(_load_json(path), str(path))


def _json_lines(handle: Iterable[bytes], source: str) -> Iterator[Message | InputError]:
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield InputError(f"{source}:{number}: not UTF-8 text")
            continue
        if not line.strip():
            continue
        try:
            yield Message(f"{source}:{number}", parse_json(line))
        except ValueError as exc:
            yield InputError(f"{source}:{number}: not JSON: {exc}")


def jsonl_file(path: Path) -> Iterator[Message | InputError]:
    """A JSON Lines file, read line by line (`file:line`); blank lines are ignored.

    A line that is not JSON is yielded as an `InputError` so that the rest is still checked.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _os_error(path, exc) from None
    with handle:
        yield from _json_lines(handle, str(path))


def _har_entries(value: Any, source: str) -> Iterator[HarEntry | InputError]:
    log = value.get("log") if isinstance(value, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{source}: not a HAR 1.2 capture: no log.entries array")
    for index, entry in enumerate(entries):
        where = f"{source}#/log/entries/{index}"
        if isinstance(entry, dict) and all(isinstance(entry.get(part), dict) for part in ("request", "response")):
            yield HarEntry(where, entry)
        else:
            yield InputError(f"{where}: not a HAR entry (needs request and response objects)")


def har_file(path: Path) -> Iterator[HarEntry | InputError]:
    """The entries of a HAR 1.2 capture (`file#/log/entries/i`)."""
    return _har_entries(_load_json(path), str(path))


def read(path: Path) -> Iterator[Message | HarEntry | InputError]:
    """Dispatch on the file name: `.jsonl`/`.ndjson`, `.har`, anything else is JSON."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return jsonl_file(path)
    if suffix == ".har":
        return har_file(path)
    return json_file(path)


def read_stdin(stream: BinaryIO | None) -> Iterator[Message | HarEntry | InputError]:
    """Standard input (`-`, source `<stdin>`), told by its content: a HAR capture (an object with `log`), one
    JSON message or array, or else JSON Lines (when its first line is JSON on its own). Read as a whole."""
    if stream is None:
        raise InputError(f"{STDIN}: no standard input")
    data = stream.read()
    if not data.strip():
        raise InputError(f"{STDIN}: empty; expected JSON, JSON Lines or a HAR capture")
    try:
        value = parse_json(data.decode("utf-8-sig"))
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        first = next(line for line in io.BytesIO(data) if line.strip())
        if not isinstance(next(_json_lines([first], STDIN)), Message):  # not JSON Lines either
            reason = f"not UTF-8 text (byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else f"not JSON: {exc}"
            raise InputError(f"{STDIN}: {reason}") from None
        return _json_lines(io.BytesIO(data), STDIN)
    if isinstance(value, dict) and "log" in value:
        return _har_entries(value, STDIN)
    return _messages(value, STDIN)
