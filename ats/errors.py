"""Tool errors of the conformance suite (as opposed to findings about the target).

    AtsError (= interflex.errors.ToolError)
    └── ConfigError      bad options, unreadable/invalid IXIT, unknown class, unreachable target

Findings about the target are `ats.verdicts.Failure` (FAIL) and `ats.verdicts.Inconclusive`.
The classes live in `interflex.errors` so that the IXIT loader (`interflex.ixit`) and every
command line share them.
"""

from __future__ import annotations

from interflex.errors import ConfigError, ToolError

__all__ = ["AtsError", "ConfigError"]

AtsError = ToolError
