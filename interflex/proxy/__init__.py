"""The validating proxy: forward InterFlex traffic unchanged and judge it live (issue 10).

    >>> from interflex.proxy import ValidatingProxy
    >>> with ValidatingProxy("http://127.0.0.1:8080/interflex/api/v1") as proxy:
    ...     ...                      # clients use proxy.base_url instead of the platform
    >>> proxy.findings               # MonitorFinding values, in the order found
    >>> proxy.summary                # exchanges, errors, warnings per rule and side

`interflex-proxy` (`interflex.proxy.cli`) is the command line. uvicorn and aiohttp (the upstream
client) are used here only: `interflex.monitor` judges without knowing where exchanges come from.
"""

from interflex.proxy._judge import Summary
from interflex.proxy.server import DEFAULT_MAX_BODY, ValidatingProxy

__all__ = ["DEFAULT_MAX_BODY", "Summary", "ValidatingProxy"]
