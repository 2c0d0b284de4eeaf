"""What the protocol monitor takes and gives: exchanges in, findings out (contract C5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SERVER = "server"
CLIENT = "client"


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """One HTTP request and its response, as a capture or a live proxy saw it.

    `url` is absolute or a path; the monitor finds `/interflex/api/<version>` in it. Header names
    are lower case. `status` is None when no response came (`error` says why). `started` and
    `finished` are seconds (any epoch, the same for one capture); two exchanges overlap when their
    intervals do. `caller` is the username that sent the request when the source knows it
    (the suite's own evidence does); otherwise the monitor learns it from A1/A2 in the capture.
    `truncated` marks a body that was cut: rules that need that body are not judged.
    """

    index: int
    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    started: float = 0.0
    finished: float = 0.0
    error: str | None = None
    caller: str | None = None
    truncated: bool = False


class _Building:
    """The slots of `HttpExchange` without its frozen `__setattr__`: filled, then turned into one."""

    __slots__ = HttpExchange.__slots__

    def __init__(
        self,
        index: int,
        method: str,
        url: str,
        request_headers: Mapping[str, str],
        request_body: bytes,
        status: int | None,
        response_headers: Mapping[str, str],
        response_body: bytes,
        started: float,
        finished: float,
        error: str | None,
        caller: str | None,
        truncated: bool,
    ) -> None:
        self.index = index
        self.method = method
        self.url = url
        self.request_headers = request_headers
        self.request_body = request_body
        self.status = status
        self.response_headers = response_headers
        self.response_body = response_body
        self.started = started
        self.finished = finished
        self.error = error
        self.caller = caller
        self.truncated = truncated
        self.__class__ = HttpExchange  # type: ignore[assignment]  # same slots, so the layout is the same


def new_exchange(*fields: Any) -> HttpExchange:
    """`HttpExchange(*fields)` (every field, positionally, in the order of `_Building`) in a seventh of the
    time: the frozen dataclass's `__init__` calls `object.__setattr__` per field, this stores plain slots
    and then sets the class (capture readers make one exchange per entry)."""
    return _Building(*fields)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class MonitorFinding:
    """One rule broken in the traffic: who broke it (`side`), where (`exchange` index) and why."""

    severity: str  # ERROR or WARNING
    rule: str  # a PROFILE.md id: "ST-2", "AU-5", "CL-3", "R2", "PL-5", ...
    side: str  # SERVER or CLIENT
    exchange: int
    message: str
    operation: str | None = None  # "R2", "O3", ... when the exchange is one of section 2

    def __str__(self) -> str:
        where = f"#{self.exchange}" + (f" {self.operation}" if self.operation else "")
        return f"{self.severity}: {where}: {self.side}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Participant:
    """A user of the platform: its role (`dso` or `aggregator`) and the entity it acts for."""

    username: str
    role: str
    entity_id: str


@dataclass(frozen=True)
class Platform:
    """What the monitor is told about the platform and its users (from an IXIT, or nothing).

    Without participants the monitor learns users from the capture where it can and judges
    access rules (AU-5, CL-3) only for users whose role and entity it knows.
    """

    participants: tuple[Participant, ...] = ()
    plausibility: bool = False  # the platform declares the optional class `plausibility`
    date_filter: bool = False  # ... and `date-filter`
    client_id: str | None = None
