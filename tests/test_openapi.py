"""`schemas/openapi.yaml`: a valid OpenAPI 3.1 document of exactly the profile's 22 operations.

Also its bundled (self-contained) form, which the reference server serves: valid on its
own and judging messages exactly like the schema files it inlines.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from openapi_spec_validator import validate as validate_spec

from interflex._data import fixtures_dir, schemas_dir
from interflex.profile import ID_FIELDS, OPERATIONS, OPERATIONS_BY_ID, SCHEMA_FILES
from interflex.validation import allowed_statuses, bundled_openapi, openapi_document, validate
from interflex.validation._statuses import openapi_statuses

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DOC = openapi_document()
BUNDLE = bundled_openapi()


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation object)."""
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `#/...` references from the document's root."""
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


def test_document_is_valid_openapi_31_with_relative_refs_resolved() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate_spec(DOC, base_uri=(schemas_dir() / "openapi.yaml").resolve().as_uri())


def test_external_refs_name_the_schema_files() -> None:
    external = {r for r in refs(DOC) if not r.startswith("#")}
    assert external, "the document must reference the object schemas, not repeat them"
    for ref in external:
        file, _, fragment = ref.partition("#")
        assert (schemas_dir() / file).is_file(), ref
        target = json.loads((schemas_dir() / file).read_text(encoding="utf-8"))
        for part in filter(None, fragment.split("/")):
            target = target[part]
    assert {SCHEMA_FILES[kind] for kind in SCHEMA_FILES} <= {r.partition("#")[0] for r in external}


def test_operations_are_exactly_the_profiles_22() -> None:
    assert {op_id: (method, path) for op_id, (method, path, _) in operations(DOC).items()} == {
        op.id: (op.method, op.path) for op in OPERATIONS
    }


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.id)
def test_responses_are_the_allowed_statuses(op: Any) -> None:
    """Every success and section-5 error, and nothing else (the HAR check uses `allowed_statuses`).

    Plus ST-5's answers to path parameters that break the id rule: 404, or 405 where a
    reserved word makes the path another operation's (`openapi_statuses`).
    """
    _, _, operation = operations(DOC)[op.id]
    codes = {int(code) for code in operation["responses"]}
    assert codes == openapi_statuses(op)
    assert allowed_statuses(op) <= codes
    assert (404 in codes) == bool(op.path_params)
    for code, response in operation["responses"].items():
        if int(code) >= 400:
            schema = resolve(DOC, response)["content"]["application/json"]["schema"]
            assert "error.json" in json.dumps(schema) or schema == {"$ref": "#/components/schemas/OAuthError"}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.id)
def test_bodies_reference_the_profile_schemas(op: Any) -> None:
    _, _, operation = operations(DOC)[op.id]
    success = {code: resolve(DOC, r) for code, r in operation["responses"].items() if int(code) in op.success}
    if op.action in ("token", "refresh"):
        form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        fields = resolve(DOC, form)["required"]
        assert {"grant_type", "client_id", "client_secret"} <= set(fields)
        assert ("username" in fields) == (op.id == "A1") and ("refresh_token" in fields) == (op.id == "A2")
        assert operation["security"] == []
        assert success["200"]["content"]["application/json"]["schema"] == {"$ref": "token-response.json"}
        return
    assert "security" not in operation  # the global bearer requirement applies
    if op.action == "post":
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": SCHEMA_FILES[op.kind]}
        assert set(success) == {"200", "201"}
        for response in success.values():
            assert {"$ref": SCHEMA_FILES[op.kind]} in response["content"]["application/json"]["schema"]["anyOf"]
    elif op.action == "list":
        assert success["200"]["content"]["application/json"]["schema"] == {
            "type": "array",
            "items": {"$ref": SCHEMA_FILES[op.kind]},
        }
    elif op.action == "new_id":
        assert success["200"]["content"]["application/json"]["schema"] == {
            "allOf": [{"$ref": "id-response.json"}, {"required": [ID_FIELDS[op.kind]]}]
        }
    else:
        assert set(success) == {"200", "204"} and "content" not in success["204"]


def test_parameters_follow_the_id_rule_and_valid_at_is_on_r3_and_o3() -> None:
    for op_id, (_, _path, operation) in operations(DOC).items():
        params = [resolve(DOC, p) for p in operation.get("parameters", [])]
        path_params = [p for p in params if p["in"] == "path"]
        assert [p["name"] for p in path_params] == list(OPERATIONS_BY_ID[op_id].path_params)
        assert all(p["required"] and p["schema"] == {"$ref": "defs.json#/$defs/id"} for p in path_params)
        query = [p["name"] for p in params if p["in"] == "query"]
        assert query == (["valid_at"] if op_id in ("R3", "O3") else []), op_id


def test_reserved_word_collisions_get_405() -> None:
    """R4 with requestId = "requestId" is R1's path, which lists GET only (P-07, ST-5)."""
    assert {op.id for op in OPERATIONS if 405 in openapi_statuses(op)} == {"R4", "O4", "V2", "K4", "N4"}


def test_bearer_security_scheme() -> None:
    assert DOC["components"]["securitySchemes"]["bearer"] == {
        **DOC["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    assert DOC["security"] == [{"bearer": []}]


def test_bundle_is_self_contained_and_valid() -> None:
    validate_spec(BUNDLE)
    assert all(r.startswith("#/") for r in refs(BUNDLE))
    assert "$id" not in json.dumps(BUNDLE["components"]["schemas"])
    assert operations(BUNDLE).keys() == operations(DOC).keys()


def test_bundle_judges_every_example_like_the_schema_files() -> None:
    """The inlined schemas are faithful: same schema verdict on every fixture message."""
    examples = sorted((fixtures_dir() / "messages").glob("*/*/*.json"))
    kind_of_folder = {file.removesuffix(".json"): kind for kind, file in SCHEMA_FILES.items()}
    compiled = {
        kind: jsonschema_rs.Draft202012Validator(
            {"$ref": f"#/components/schemas/{kind}", "components": BUNDLE["components"]}, validate_formats=True
        )
        for kind in SCHEMA_FILES
    }
    checked = 0
    for path in examples:
        if path.parts[-3] not in kind_of_folder:
            continue
        kind = kind_of_folder[path.parts[-3]]
        message = json.loads(path.read_text(encoding="utf-8"))
        schema_errors = [f for f in validate(message, kind) if f.severity == "error" and not f.rule.startswith("PL-")]
        assert compiled[kind].is_valid(message) == (not schema_errors), path
        checked += 1
    assert checked > 100


def test_bundle_is_a_fresh_copy_each_time() -> None:
    first = bundled_openapi()
    first["paths"].clear()
    assert operations(bundled_openapi()).keys() == operations(DOC).keys()


def test_every_parameter_and_request_body_has_a_valid_example() -> None:
    """Examples use the IXIT demo entities and are valid objects (schema and PL-1…PL-3)."""
    for name, parameter in DOC["components"]["parameters"].items():
        assert "example" in parameter, name
    for op_id, (_, _, operation) in operations(DOC).items():
        if "requestBody" not in operation:
            continue
        (media_type, content), *_ = operation["requestBody"]["content"].items()
        found = [e["value"] for e in content.get("examples", {}).values()] or [content.get("example")]
        assert all(found), op_id
        kind = OPERATIONS_BY_ID[op_id].kind
        for example in found:
            if media_type == "application/json":
                assert not [f for f in validate(example, kind) if f.severity == "error"], (op_id, example)


def test_links_name_operations_and_parameters_that_exist() -> None:
    ops = operations(DOC)
    links = [
        (op_id, link)
        for op_id, (_, _, operation) in ops.items()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert {op_id for op_id, _ in links} >= {"A1", "R1", "R2", "O1", "O2", "V1", "V2", "K1", "K2", "N1", "N2"}
    for source, link in links:
        target = OPERATIONS_BY_ID[link["operationId"]]
        assert set(link.get("parameters", {})) <= set(target.path_params), (source, link)
    for kind in "ROVKN":
        targets = {link["operationId"] for source, link in links if source in (f"{kind}1", f"{kind}2")}
        assert {f"{kind}3", f"{kind}4"} <= targets, kind
