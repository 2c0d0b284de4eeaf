"""The client suite's command-line options (listed by `interflex-ats --help` too)."""

from __future__ import annotations

from typing import Any

OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--client-ixit",
        {
            "metavar": "FILE",
            "help": "client conformance: run the client described by this client IXIT (role, entity_id, command, "
            "timeout_s; PROFILE.md section 11) against the harness platform instead of testing a server "
            "(docs/client-conformance.md)",
        },
    ),
    (
        "--client-manual",
        {
            "action": "store_true",
            "default": False,
            "help": "client conformance without starting the command: print the base URL and credentials of each "
            "scenario, wait for the client to be run by hand, judge when the scenario ends",
        },
    ),
    (
        "--client-jobs",
        {
            "type": int,
            "default": 8,
            "metavar": "N",
            "help": "client conformance: scenarios run at the same time (default 8; each has its own platform)",
        },
    ),
]
