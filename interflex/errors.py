"""Tool errors shared by every command line (as opposed to findings about a target or a message).

    ToolError
    └── ConfigError      bad options, an unreadable or invalid IXIT, an unknown class, an unreachable target

Findings are never exceptions of this tree: the suite's are `ats.verdicts.Failure` and
`Inconclusive`, the validator's and the monitor's are `Finding` values.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ToolError"]


class ToolError(Exception):
    """Base class of the project's own errors: one clear line, never a traceback for the user."""


class ConfigError(ToolError):
    """A tool cannot start: options, IXIT or target are unusable (one line saying what is wrong)."""
