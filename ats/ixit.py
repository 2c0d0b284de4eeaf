"""The IXIT as the suite uses it; the loader itself lives in `interflex.ixit` (shared by every tool)."""

from interflex.ixit import OPTIONAL_CLASSES, UNITS, Account, Ixit, Tls, default_ixit, load_ixit, parse_ixit

__all__ = ["OPTIONAL_CLASSES", "UNITS", "Account", "Ixit", "Tls", "default_ixit", "load_ixit", "parse_ixit"]
