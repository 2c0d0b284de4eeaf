"""InterFlex flexibility API: the shared library core (profile, schemas, validation, client)."""

__version__ = "0.1.0"
