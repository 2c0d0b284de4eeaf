"""The bundled InterFlex reference server (Starlette on uvicorn, SQLite).

>>> from reference_server import ReferenceServer
>>> with ReferenceServer() as server:  # doctest: +SKIP
...     print(server.base_url)
"""

from reference_server.alternatives import ALTERNATIVES, Alternative
from reference_server.faults import FAULTS, Fault
from reference_server.server import ReferenceServer

__all__ = ["ALTERNATIVES", "FAULTS", "Alternative", "Fault", "ReferenceServer"]
