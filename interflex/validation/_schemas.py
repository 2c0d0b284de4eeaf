"""The JSON Schemas of `schemas/`, loaded and compiled once (jsonschema-rs, formats asserted)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs

from interflex._data import schemas_dir
from interflex.profile import KINDS, SCHEMA_FILES

DEFS_FILE = "defs.json"


@cache
def schema(kind: str) -> dict[str, Any]:
    """The parsed JSON Schema of `kind` (one of `interflex.profile.KINDS`)."""
    return load_file(SCHEMA_FILES[kind])


@cache
def load_file(name: str) -> dict[str, Any]:
    """A JSON file of `schemas/`, parsed once (do not modify the result)."""
    return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))


@cache
def _registry() -> jsonschema_rs.Registry:
    resources = [load_file(DEFS_FILE), *(schema(kind) for kind in KINDS)]
    return jsonschema_rs.Registry([(resource["$id"], resource) for resource in resources])


@cache
def compiled(kind: str) -> jsonschema_rs.Validator:
    """The compiled validator of `kind`: `format: date-time` asserted, all errors iterable."""
    return jsonschema_rs.Draft202012Validator(schema(kind), validate_formats=True, registry=_registry())


@cache
def fields(kind: str) -> frozenset[str]:
    """The field names the schema of `kind` declares (anything else is an unknown field)."""
    return frozenset(schema(kind)["properties"])
