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

__all__ = [
    "CLIENT",
    "ERROR",
    "SERVER",
    "WARNING",
    "HttpExchange",
    "MonitorFinding",
    "Participant",
    "Platform",
]
