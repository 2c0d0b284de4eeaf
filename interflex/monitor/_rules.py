"""The rules the monitor judges, for reports and `--help` (PROFILE.md ids; docs/monitor.md explains each)."""

from __future__ import annotations

from interflex.profile import OPERATIONS

# rule -> what the monitor checks. Operation ids (R2, V1, ...) stand for the status table of
# section 5 for that operation; `whole history` marks rules that are errors only with --complete.
RULES: dict[str, str] = {
    "AU-3": "A1/A2 failures carry an OAuth error code",
    "AU-4": "no 2xx to a request without a bearer token, with a malformed one, or with an expired one",
    "AU-5": "no 2xx to a caller who may not call the operation (section 2)",
    "AU-6": "a used refresh token is rejected (SHOULD, warning)",
    "ID-1": "an id getter never returns an id twice, nor the id of a stored object",
    "ST-1": "no 2xx to a POST whose body breaks section 4",
    "ST-2": "no 2xx to a POST of a stored id",
    "ST-3": "no 2xx to a POST with a content type other than JSON",
    "ST-4": "no 2xx to a DELETE of an id not stored under its path (whole history)",
    "ST-5": "no 2xx to a path or method outside section 2",
    "ST-7": "no 5xx",
    "ST-8": "error bodies are Error objects (SHOULD, warning)",
    "ST-9": "lists hold posted objects field for field, until deleted (missing objects: whole history)",
    "ST-10": "success bodies match section 4",
    "ST-12": "lists under an entity's path hold only that path's objects",
    "PL-1": "an accepted object has deadline >= timestamp (declared plausibility)",
    "PL-2": "an accepted object has activation_time >= timestamp (declared plausibility)",
    "PL-3": "an accepted object has granularity <= flexible_power (declared plausibility)",
    "PL-4": "an accepted offer's entity_id is its {agg} (declared plausibility)",
    "PL-5": "an accepted activation matches a stored offer of {agg} (declared plausibility)",
    "PL-6": "an accepted deadline is not in the past (declared plausibility)",
    "PL-7": "an accepted ACK/NACK names an activation to {agg} (declared plausibility)",
    "DF-1": "valid_at filters lists, malformed values get 400 (declared date-filter)",
    "CL-1": "A1/A2 forms, and a bearer token on every resource request",
    "CL-2": "no repeat after 401 without a new token, no used refresh token; an expired token is a warning",
    "CL-3": "only operations of section 2 the caller may call, under its own path; valid_at encoded",
    "CL-4": "POST bodies valid JSON objects of section 4 satisfying PL-1...PL-7",
    "CL-5": "an id is posted once; ids the getter handed only to other users are not posted",
    "CL-6": "repetitions after 5xx/429/no answer keep id and body and wait 1 s; no 4xx repeated unchanged",
    "CL-7": "lists read at most once a second; valid_at used where declared (SHOULD, warning)",
    "CL-8": "activations of feasible offers answering a request, one per offer; one offer per request; "
    "one ACK or NACK per activation",
}
RULES.update({op.id: f"{op.method} {op.path} answers a status section 5 allows" for op in OPERATIONS})
