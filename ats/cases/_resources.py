"""Shared steps of the per-resource life-cycle test cases (core-requests ... core-nacks).

One table says, for each resource kind, which operations post, list and delete it, who calls
them and which path parameters they need (PROFILE.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ats.checks import expect_no_5xx, expect_round_trip, expect_schema, expect_status, find, same_object
from ats.recorder import Exchange
from ats.session import KINDS, Api
from ats.verdicts import Failure
from interflex.profile import ID_FIELDS, OPERATIONS_BY_ID


@dataclass(frozen=True)
class Resource:
    """How one resource kind is posted, listed and deleted."""

    kind: str
    post: str
    list: str
    delete: str
    owner: str  # the role that posts and deletes it
    id_param: str
    d35: str  # the D3.5 client section

    @property
    def id_field(self) -> str:
        """The field carrying the object's id."""
        return ID_FIELDS[KINDS[self.kind]]

    @property
    def schema(self) -> str:
        """The object's schema name."""
        return KINDS[self.kind]

    def path(self, api: Api, agg: str = "agg1", obj_id: str | None = None) -> dict[str, str]:
        """Path parameters for `agg`'s (or the DSO's) collection, and the object id when given."""
        params = {"dso": api.entity("dso"), "agg": api.entity(agg)}
        if obj_id is not None:
            params[self.id_param] = obj_id
        return params


RESOURCES: dict[str, Resource] = {
    "request": Resource("request", "R2", "R3", "R4", "dso", "requestId", "D3.5 3.2.2"),
    "offer": Resource("offer", "O2", "O3", "O4", "agg1", "offerId", "D3.5 3.2.3"),
    "activation": Resource("activation", "V2", "V3", "V4", "dso", "activationId", "D3.5 3.2.4"),
    "ack": Resource("ack", "K2", "K3", "K4", "agg1", "ackId", "D3.5 3.2.5"),
    "nack": Resource("nack", "N2", "N3", "N4", "agg1", "nackId", "D3.5 3.2.6"),
}


def post(api: Api, res: Resource, obj: dict[str, Any], track: bool = True) -> Exchange:
    """POST `obj` as its owner; registered for cleanup when the target stored it."""
    ex = api.call(res.post, as_=res.owner, path=res.path(api), json=obj)
    if track and ex.status in OPERATIONS_BY_ID[res.post].success:
        api.track(res.kind, obj, agg=api.entity("agg1"))
    return ex


def expect_posted(ex: Exchange, res: Resource, obj: dict[str, Any]) -> None:
    """201 (200 conforms) with an empty body, {} or the stored object (PROFILE 2, ST-10)."""
    expect_status(
        ex,
        OPERATIONS_BY_ID[res.post].success,
        f"{res.post}, PROFILE 2",
        f"a valid {res.schema} is stored with 201 (200 conforms)",
    )
    if not ex.body.strip():
        return
    body = ex.json()
    if body == {}:
        return
    if not isinstance(body, dict):
        raise Failure(
            f"PROFILE 2: a POST answers an empty body, {{}} or the stored object; {ex.describe()} "
            f"sent {ex.text[:200]!r}"
        )
    expect_schema(ex, res.schema, ref="ST-10")
    differences = same_object(obj, body)
    if differences:
        raise Failure(
            f"PROFILE 2, ST-9: a POST that returns the stored object returns it field for field; "
            f"{ex.describe()} differs: {'; '.join(differences)}"
        )


def listed(api: Api, res: Resource, as_: str | None = None, agg: str = "agg1") -> list[dict[str, Any]]:
    """The list read by `as_` (default: the owner; the DSO for offers)."""
    role = as_ or ("dso" if res.kind == "offer" else res.owner)
    return api.list(res.kind, as_=role, agg=agg)


def post_and_round_trip(api: Api, res: Resource, obj: dict[str, Any], readers: tuple[str, ...] = ()) -> None:
    """Post `obj`, then every reader finds it field for field in its list (ST-9)."""
    expect_posted(post(api, res, obj), res, obj)
    for reader in readers or (None,):
        items = listed(api, res, as_=reader)
        expect_round_trip(
            obj, items, res.id_field, ref=f"ST-9, {res.list}", where=f"{res.list} read by {reader or 'the owner'}"
        )


def duplicate_rejected(api: Api, res: Resource, obj: dict[str, Any]) -> None:
    """A second POST with a stored id answers 409 and leaves the stored object unchanged (ST-2)."""
    expect_posted(post(api, res, obj), res, obj)
    changed = dict(obj, duration=obj["duration"] + 60)
    ex = post(api, res, changed, track=False)
    expect_no_5xx(ex)
    expect_status(ex, 409, "ST-2", f"a {res.post} whose {res.id_field} is already stored answers 409")
    expect_round_trip(
        obj, listed(api, res), res.id_field, ref="ST-2, ST-9", where=f"{res.list} after the rejected duplicate"
    )


def delete_removes(api: Api, res: Resource, obj: dict[str, Any]) -> None:
    """DELETE answers 204 (200 conforms) and the object is gone from the list (ST-9)."""
    expect_posted(post(api, res, obj), res, obj)
    ex = api.call(res.delete, as_=res.owner, path=res.path(api, obj_id=obj[res.id_field]))
    expect_status(
        ex,
        OPERATIONS_BY_ID[res.delete].success,
        f"{res.delete}, PROFILE 2",
        "a stored object is deleted with 204 (200 conforms)",
    )
    if ex.status == 200 and ex.body.strip() and ex.json() != {}:
        raise Failure(f"PROFILE 2: a 200 DELETE may carry {{}} only; {ex.describe()} sent {ex.text[:200]!r}")
    if find(listed(api, res), res.id_field, obj[res.id_field]) is not None:
        raise Failure(
            f"ST-9: after DELETE the object is gone from the list; {res.id_field} "
            f"{obj[res.id_field]!r} is still listed by {res.list}"
        )


def delete_unknown(api: Api, res: Resource) -> None:
    """DELETE of an id that is not stored under the path answers 404 (ST-4)."""
    ex = api.call(res.delete, as_=res.owner, path=res.path(api, obj_id=api.new_id(f"unknown-{res.kind}")))
    expect_no_5xx(ex)
    expect_status(ex, 404, "ST-4", f"{res.delete} of an id that is not stored answers 404")


def empty_list(api: Api, res: Resource, path: dict[str, str], as_: str) -> None:
    """A list of an entity without objects answers 200 [] (ST-6)."""
    ex = api.call(res.list, as_=as_, path=path)
    expect_status(ex, 200, "ST-6", f"{res.list} for an entity with no objects answers 200 []")
    body = ex.json()
    if body != []:
        raise Failure(
            f"ST-6: {res.list} for an entity with no objects answers []; {ex.describe()} sent {ex.text[:200]!r}"
        )


def delete_under_other_path(api: Api, res: Resource, stored: dict[str, Any]) -> None:
    """ST-4: agg2 (or the DSO on agg2's path) deleting an id stored under agg1 answers 404; it stays listed.

    The request has that one fault (ST-11): the caller may call the path (agg2 on its own path, the DSO
    on its own activations path) and its token is valid.
    """
    ex = api.call(
        res.delete, as_="dso" if res.owner == "dso" else "agg2", path=res.path(api, "agg2", stored[res.id_field])
    )
    expect_no_5xx(ex)
    expect_status(
        ex,
        404,
        "ST-4",
        f"{res.delete} of an id stored under another aggregator's path, not under this one, answers 404",
    )
    expect_round_trip(
        stored,
        listed(api, res),
        res.id_field,
        ref="ST-4, ST-9",
        where=f"{res.list} for agg1 after {res.delete} under agg2",
    )


def duplicate_under_other_path(api: Api, res: Resource, stored: dict[str, Any], body: dict[str, Any]) -> None:
    """ST-2: a plausible `body` posted under agg2's path reusing the id of `stored` (agg1's) answers 409.

    Ids are unique per kind across all paths (PROFILE 2); agg1's object stays listed unchanged.
    """
    role = "dso" if res.owner == "dso" else "agg2"
    ex = api.call(res.post, as_=role, path=res.path(api, "agg2"), json=body)
    if ex.status in OPERATIONS_BY_ID[res.post].success:
        api.track(res.kind, body, agg=api.entity("agg2"))
    expect_no_5xx(ex)
    expect_status(
        ex,
        409,
        "ST-2, PROFILE 2",
        f"a {res.post} under agg2's path whose {res.id_field} is stored under agg1's answers 409 "
        "(ids are unique per kind across all paths)",
    )
    expect_round_trip(
        stored, listed(api, res), res.id_field, ref="ST-2, ST-9", where=f"{res.list} for agg1 after the rejected post"
    )


def listed_only_under_own_path(
    api: Api,
    res: Resource,
    stored: dict[str, Any],
    own: tuple[str, dict[str, str]],
    others: tuple[tuple[str, dict[str, str]], ...],
) -> None:
    """ST-12, P-10: `stored` is listed under its own path and under none of the `others`, whoever reads.

    `own` and each of `others` is (reader role, path parameters of the list `res.list`); every reader is
    one that section 2 allows on that path, so each read must answer 200 with an array (ST-6).
    """
    op = OPERATIONS_BY_ID[res.list]

    def at(path: dict[str, str]) -> str:
        return op.url_path(**{p: path[p] for p in op.path_params})

    def read(reader: str, path: dict[str, str]) -> list[dict[str, Any]]:
        return api.list(res.kind, as_=reader, agg=path.get("agg", api.entity("agg1")), dso=path.get("dso"))

    reader, path = own
    where = f"{res.list} {at(path)} read by {reader}"
    expect_round_trip(stored, read(reader, path), res.id_field, ref=f"ST-9, {res.list}", where=where)
    leaks = [
        f"{res.list} {at(other)} read by {who}"
        for who, other in others
        if find(read(who, other), res.id_field, stored[res.id_field]) is not None
    ]
    if leaks:
        raise Failure(
            f"ST-12, P-10: a list under an entity's path holds only objects posted under that path; "
            f"{res.id_field} {stored[res.id_field]!r}, posted under {at(path)}, is listed by {'; '.join(leaks)}"
        )
