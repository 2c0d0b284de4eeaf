"""The OpenAPI document `schemas/openapi.yaml`, and a self-contained (bundled) copy of it to serve.

The file references the object schemas by relative `$ref` (`flexibility-offer.json`), and
those reference `defs.json` relative to their `$id` (`https://interflex.example/...`), which
no HTTP client can fetch. `bundled_openapi()` inlines every external schema under
`components/schemas` (without `$id`) and rewrites the references to point there, so that
tools reading the served document (schemathesis) need nothing else.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml

from interflex._data import schemas_dir
from interflex.profile import SCHEMA_FILES
from interflex.validation._schemas import DEFS_FILE, load_file

OPENAPI_FILE = "openapi.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 0.01 s instead of 0.1 s
_KIND_OF_FILE = {file: kind for kind, file in SCHEMA_FILES.items()}
_DEFS_PREFIX = "#/$defs/"


def openapi_document() -> dict[str, Any]:
    """`schemas/openapi.yaml` as it is (external `$ref`s relative to the file)."""
    return yaml.load((schemas_dir() / OPENAPI_FILE).read_text(encoding="utf-8"), Loader=_LOADER)


def _def_component(name: str) -> str:
    return name[:1].upper() + name[1:]


def _component_ref(ref: str, current_file: str | None) -> str:
    """Where `ref`, found in `current_file` (None: the OpenAPI document), points in the bundle."""
    file, _, fragment = ref.partition("#")
    file = file or current_file
    if file is None:  # a reference inside the OpenAPI document itself
        return ref
    if file == DEFS_FILE and fragment.startswith(_DEFS_PREFIX[1:]):
        return "#/components/schemas/" + _def_component(fragment[len(_DEFS_PREFIX) - 1 :])
    if file in _KIND_OF_FILE and not fragment:
        return "#/components/schemas/" + _KIND_OF_FILE[file]
    raise ValueError(f"cannot bundle $ref {ref!r} (in {current_file or OPENAPI_FILE})")


def _rewrite(node: Any, current_file: str | None) -> Any:
    if isinstance(node, dict):
        return {
            key: _component_ref(value, current_file)
            if key == "$ref" and isinstance(value, str)
            else _rewrite(value, current_file)
            for key, value in node.items()
            if not (current_file and key in ("$id", "$schema"))
        }
    if isinstance(node, list):
        return [_rewrite(item, current_file) for item in node]
    return node


@cache
def _bundled() -> dict[str, Any]:
    document = _rewrite(openapi_document(), None)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in load_file(DEFS_FILE)["$defs"].items():
        components[_def_component(name)] = _rewrite(definition, DEFS_FILE)
    for kind, file in SCHEMA_FILES.items():
        components[kind] = _rewrite(load_file(file), file)
    return document


def bundled_openapi() -> dict[str, Any]:
    """A self-contained copy of the OpenAPI document: every schema under `components/schemas`.

    This is what the reference server serves at `/interflex/api/v1/openapi.yaml`.
    """
    return copy.deepcopy(_bundled())
