"""The protocol monitor: judge real InterFlex traffic against PROFILE.md (contract C5).

    >>> from interflex.monitor import Monitor, Platform
    >>> monitor = Monitor(Platform(), complete=False)
    >>> for exchange in exchanges:          # HttpExchange, in the order they started
    ...     for finding in monitor.feed(exchange):
    ...         print(finding)
    >>> for finding in monitor.finish():   # rules that need the end of the capture
    ...     print(finding)

`read_capture(path)` turns HAR files, JSON Lines of exchanges and the suite's evidence bundle
into `HttpExchange` values; `judge(exchanges, platform, complete)` runs both steps at once.
"""

from interflex.monitor._capture import CaptureError, exchange_from_record, read_capture
from interflex.monitor._model import (
    CLIENT,
    ERROR,
    SERVER,
    WARNING,
    HttpExchange,
    MonitorFinding,
    Participant,
    Platform,
)
from interflex.monitor._monitor import Monitor, judge
from interflex.monitor._platform import platform_from_ixit

__all__ = [
    "CLIENT",
    "ERROR",
    "SERVER",
    "WARNING",
    "CaptureError",
    "HttpExchange",
    "Monitor",
    "MonitorFinding",
    "Participant",
    "Platform",
    "exchange_from_record",
    "judge",
    "platform_from_ixit",
    "read_capture",
]
