"""Authorization: every "who may call" cell of PROFILE.md section 2 (AU-5, P-08).

One test case per resource operation (R1…N4). Each is parametrized over its cells: a caller role
(`dso`, `agg1`, `agg2`), the aggregator named by the path's `{agg}` and whether the cell allows the
call. An allowed cell must succeed; a denied cell must answer 403 (AU-5). A denied request is
otherwise valid (an existing object, a plausible body for that path), so authorization is its
only fault (ST-11).
"""

from __future__ import annotations

from typing import Any

import pytest

from ats.cases._bodies import activation_body, answer_body
from ats.checks import expect_status, find
from ats.session import Api
from ats.verdicts import Failure
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID

ALLOW, DENY = True, False

# op id -> (caller role, role whose entity is the path's {agg}, allowed)
CELLS: dict[str, list[tuple[str, str, bool]]] = {
    "R1": [("dso", "agg1", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
    "R2": [("dso", "agg1", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
    "R3": [("dso", "agg1", ALLOW), ("agg1", "agg1", ALLOW), ("agg2", "agg1", ALLOW)],
    "R4": [("dso", "agg1", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
    "O1": [
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("dso", "agg1", DENY),
        ("agg2", "agg1", DENY),
        ("agg1", "agg2", DENY),
    ],
    "O2": [
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("dso", "agg1", DENY),
        ("agg2", "agg1", DENY),
        ("agg1", "agg2", DENY),
    ],
    "O3": [("dso", "agg1", ALLOW), ("agg1", "agg1", ALLOW), ("agg2", "agg2", ALLOW)],
    "O4": [("agg1", "agg1", ALLOW), ("agg2", "agg2", ALLOW), ("dso", "agg1", DENY), ("agg2", "agg1", DENY)],
    "V1": [("dso", "agg1", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
    "V2": [("dso", "agg1", ALLOW), ("dso", "agg2", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
    "V3": [
        ("dso", "agg1", ALLOW),
        ("dso", "agg2", ALLOW),
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("agg2", "agg1", DENY),
        ("agg1", "agg2", DENY),
    ],
    "V4": [("dso", "agg1", ALLOW), ("agg1", "agg1", DENY), ("agg2", "agg1", DENY)],
}
for _family in ("K", "N"):
    CELLS[f"{_family}1"] = [
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("dso", "agg1", DENY),
        ("agg2", "agg1", DENY),
    ]
    CELLS[f"{_family}2"] = [
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("dso", "agg1", DENY),
        ("agg2", "agg1", DENY),
    ]
    CELLS[f"{_family}3"] = [
        ("agg1", "agg1", ALLOW),
        ("dso", "agg1", ALLOW),
        ("dso", "agg2", ALLOW),
        ("agg2", "agg1", DENY),
    ]
    CELLS[f"{_family}4"] = [
        ("agg1", "agg1", ALLOW),
        ("agg2", "agg2", ALLOW),
        ("dso", "agg1", DENY),
        ("agg2", "agg1", DENY),
    ]

SHORT = {
    "FlexibilityRequest": "request",
    "FlexibilityOffer": "offer",
    "FlexibilityActivation": "activation",
    "FlexibilityActivationAck": "ack",
    "FlexibilityActivationNack": "nack",
}
ID_PARAMS = {"request": "requestId", "offer": "offerId", "activation": "activationId", "ack": "ackId", "nack": "nackId"}


def cells(op_id: str) -> pytest.MarkDecorator:
    """Parametrize a test over the cells of one operation, with readable ids."""
    ids = [
        f"{role}-on-{agg if 'agg' in OPERATIONS_BY_ID[op_id].path_params else 'dso'}-{'allowed' if ok else 'denied'}"
        for role, agg, ok in CELLS[op_id]
    ]
    return pytest.mark.parametrize(("role", "agg", "allowed"), CELLS[op_id], ids=ids)


def create(api: Api, kind: str, agg: str) -> dict[str, Any]:
    """A stored object of `kind` under the path of aggregator role `agg` (its owner's creation)."""
    if kind == "request":
        return api.create_request()
    if kind == "offer":
        return api.create_offer(agg)
    if kind == "activation":
        return api.create_activation(agg)
    return api.create_ack(agg) if kind == "ack" else api.create_nack(agg)


def body_for(api: Api, kind: str, agg: str) -> dict[str, Any]:
    """A valid, plausible body for a POST of `kind` to the path of aggregator role `agg` (PL-4, PL-5, PL-7)."""
    if kind == "request":
        return api.build("request")
    if kind == "offer":
        return api.build("offer", entity_id=api.entity(agg))
    if kind == "activation":
        return activation_body(api, api.create_offer(agg))
    return answer_body(api, kind, api.create_activation(agg))


def listed_ids(api: Api, kind: str, agg: str) -> set[str]:
    """Ids of `kind` visible to the owner of the path (the DSO for requests/activations, `agg` otherwise)."""
    owner = "dso" if kind in ("request", "activation", "offer") else agg
    field = ID_FIELDS[next(k for k, v in SHORT.items() if v == kind)]
    return {item.get(field) for item in api.list(kind, as_=owner, agg=agg)}


def check_cell(api: Api, op_id: str, role: str, agg: str, allowed: bool) -> None:
    """Perform one cell of section 2 and check its outcome (success, or 403 and no effect)."""
    op = OPERATIONS_BY_ID[op_id]
    kind = SHORT[op.kind]
    path = {"dso": api.entity("dso"), "agg": api.entity(agg)}
    shown = op.url_path(**{p: path.get(p, "{" + p + "}") for p in op.path_params})
    who = f"{role} ({api.entity(role)}) calling {op_id} {op.method} {shown}"
    obj_id, body = "", {}
    if op.action == "new_id":
        ex = api.call(op_id, as_=role, path=path)
    elif op.action == "post":
        body = body_for(api, kind, agg)
        ex = api.call(op_id, as_=role, path=path, json=body)
        if 200 <= ex.status < 300:
            api.track(kind, body, agg=api.entity(agg))
    elif op.action == "list":
        expected = visible_objects(api, op_id, role, agg)
        ex = api.call(op_id, as_=role, path=path)
    else:
        obj = create(api, kind, agg)
        obj_id = obj[ID_FIELDS[op.kind]]
        ex = api.call(op_id, as_=role, path={**path, ID_PARAMS[kind]: obj_id})
    if not allowed:
        expect_status(ex, 403, "AU-5", f"{who} is not allowed by section 2 and must answer 403")
        if op.action == "delete" and obj_id not in listed_ids(api, kind, agg):
            raise Failure(
                f"AU-5: a denied DELETE must not delete; {who} answered 403 but {obj_id!r} is no longer listed"
            )
        if op.action == "post" and body[ID_FIELDS[op.kind]] in listed_ids(api, kind, agg):
            raise Failure(
                f"AU-5: a denied POST must not store; {who} answered 403 but {body[ID_FIELDS[op.kind]]!r} is listed"
            )
        return
    expect_status(
        ex,
        op.success,
        f"{op_id}, P-08",
        f"{who} is allowed by section 2 and must succeed ({' or '.join(map(str, sorted(op.success)))})",
    )
    if op.action == "list":
        items = ex.json()
        id_field = ID_FIELDS[op.kind]
        missing = [obj_id for obj_id in expected if find(items, id_field, obj_id) is None]
        if missing:
            raise Failure(
                f"{op_id}, P-08: {who} must see {', '.join(missing)} (section 2: "
                f"{op.access}); they are missing from the {len(items)} listed objects"
            )
    elif op.action == "delete" and obj_id in listed_ids(api, kind, agg):
        raise Failure(f"ST-9: after {who} answered {ex.status}, {obj_id!r} is still listed")


def visible_objects(api: Api, op_id: str, role: str, agg: str) -> list[str]:
    """Create what the caller of an allowed list cell must see; return the ids (O3: a DSO sees all offers)."""
    kind = SHORT[OPERATIONS_BY_ID[op_id].kind]
    if op_id == "O3":
        owners = ["agg1", "agg2"] if role == "dso" else [role]
        return [api.create_offer(owner)["offer_id"] for owner in owners]
    return [create(api, kind, agg)[ID_FIELDS[OPERATIONS_BY_ID[op_id].kind]]]


@pytest.mark.case("IFX-AUTHZ-001")
@cells("R1")
def test_authz_r1_request_id(api: Api, role: str, agg: str, allowed: bool) -> None:
    """R1: only DSO {dso} gets request ids."""
    check_cell(api, "R1", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-002")
@cells("R2")
def test_authz_r2_post_request(api: Api, role: str, agg: str, allowed: bool) -> None:
    """R2: only DSO {dso} posts requests."""
    check_cell(api, "R2", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-003")
@cells("R3")
def test_authz_r3_list_requests(api: Api, role: str, agg: str, allowed: bool) -> None:
    """R3: any authenticated user reads the DSO's requests."""
    check_cell(api, "R3", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-004")
@cells("R4")
def test_authz_r4_delete_request(api: Api, role: str, agg: str, allowed: bool) -> None:
    """R4: only DSO {dso} deletes its requests."""
    check_cell(api, "R4", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-005")
@cells("O1")
def test_authz_o1_offer_id(api: Api, role: str, agg: str, allowed: bool) -> None:
    """O1: only aggregator {agg} gets offer ids under its path."""
    check_cell(api, "O1", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-006")
@cells("O2")
def test_authz_o2_post_offer(api: Api, role: str, agg: str, allowed: bool) -> None:
    """O2: only aggregator {agg} posts offers under its path."""
    check_cell(api, "O2", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-007")
@cells("O3")
def test_authz_o3_list_offers(api: Api, role: str, agg: str, allowed: bool) -> None:
    """O3: a DSO sees every aggregator's offers, an aggregator at least its own."""
    check_cell(api, "O3", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-008")
@cells("O4")
def test_authz_o4_delete_offer(api: Api, role: str, agg: str, allowed: bool) -> None:
    """O4: only aggregator {agg} deletes its offers."""
    check_cell(api, "O4", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-009")
@cells("V1")
def test_authz_v1_activation_id(api: Api, role: str, agg: str, allowed: bool) -> None:
    """V1: only DSO {dso} gets activation ids."""
    check_cell(api, "V1", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-010")
@cells("V2")
def test_authz_v2_post_activation(api: Api, role: str, agg: str, allowed: bool) -> None:
    """V2: only DSO {dso} posts activations, also not the aggregator {agg} they go to."""
    check_cell(api, "V2", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-011")
@cells("V3")
def test_authz_v3_list_activations(api: Api, role: str, agg: str, allowed: bool) -> None:
    """V3: DSO {dso} or aggregator {agg} read activations; another aggregator may not."""
    check_cell(api, "V3", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-012")
@cells("V4")
def test_authz_v4_delete_activation(api: Api, role: str, agg: str, allowed: bool) -> None:
    """V4: only DSO {dso} deletes activations, also not the aggregator {agg}."""
    check_cell(api, "V4", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-013")
@cells("K1")
def test_authz_k1_ack_id(api: Api, role: str, agg: str, allowed: bool) -> None:
    """K1: only aggregator {agg} gets ACK ids under its path."""
    check_cell(api, "K1", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-014")
@cells("K2")
def test_authz_k2_post_ack(api: Api, role: str, agg: str, allowed: bool) -> None:
    """K2: only aggregator {agg} posts ACKs under its path."""
    check_cell(api, "K2", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-015")
@cells("K3")
def test_authz_k3_list_acks(api: Api, role: str, agg: str, allowed: bool) -> None:
    """K3: aggregator {agg} or any DSO read ACKs; another aggregator may not."""
    check_cell(api, "K3", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-016")
@cells("K4")
def test_authz_k4_delete_ack(api: Api, role: str, agg: str, allowed: bool) -> None:
    """K4: only aggregator {agg} deletes its ACKs."""
    check_cell(api, "K4", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-017")
@cells("N1")
def test_authz_n1_nack_id(api: Api, role: str, agg: str, allowed: bool) -> None:
    """N1: only aggregator {agg} gets NACK ids under its path."""
    check_cell(api, "N1", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-018")
@cells("N2")
def test_authz_n2_post_nack(api: Api, role: str, agg: str, allowed: bool) -> None:
    """N2: only aggregator {agg} posts NACKs under its path."""
    check_cell(api, "N2", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-019")
@cells("N3")
def test_authz_n3_list_nacks(api: Api, role: str, agg: str, allowed: bool) -> None:
    """N3: aggregator {agg} or any DSO read NACKs; another aggregator may not."""
    check_cell(api, "N3", role, agg, allowed)


@pytest.mark.case("IFX-AUTHZ-020")
@cells("N4")
def test_authz_n4_delete_nack(api: Api, role: str, agg: str, allowed: bool) -> None:
    """N4: only aggregator {agg} deletes its NACKs."""
    check_cell(api, "N4", role, agg, allowed)
