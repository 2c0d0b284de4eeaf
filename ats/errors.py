"""Tool errors of the conformance suite (as opposed to findings about the target).

    AtsError
    └── ConfigError      bad options, unreadable/invalid IXIT, unknown class, unreachable target

Findings about the target are `ats.verdicts.Failure` (FAIL) and `ats.verdicts.Inconclusive`.
"""

from __future__ import annotations

__all__ = ["AtsError", "ConfigError"]


class AtsError(Exception):
    """Base class of the suite's own errors: one clear line, never a traceback for the user."""


class ConfigError(AtsError):
    """The suite cannot start: options, IXIT or target are unusable (one line saying what is wrong)."""
