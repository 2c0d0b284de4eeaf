"""The InterFlex wire profile (PROFILE.md) as data: object kinds, the 22 operations, classes.

Everything that needs to know an operation's path, method, access rule or schema reads it
from here: the reference server's routes, the client, the validator's HAR checks and the
conformance suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

API_PREFIX = "/interflex/api"
DEFAULT_VERSION = "v1"

# Object kinds of PROFILE.md section 4 -> schema file in schemas/.
SCHEMA_FILES: dict[str, str] = {
    "FlexibilityRequest": "flexibility-request.json",
    "FlexibilityOffer": "flexibility-offer.json",
    "FlexibilityActivation": "flexibility-activation.json",
    "FlexibilityActivationAck": "flexibility-activation-ack.json",
    "FlexibilityActivationNack": "flexibility-activation-nack.json",
    "IdResponse": "id-response.json",
    "TokenResponse": "token-response.json",
    "Error": "error.json",
}
KINDS: tuple[str, ...] = tuple(SCHEMA_FILES)

# Resource kinds and the field that carries their id.
ID_FIELDS: dict[str, str] = {
    "FlexibilityRequest": "request_id",
    "FlexibilityOffer": "offer_id",
    "FlexibilityActivation": "activation_id",
    "FlexibilityActivationAck": "ack_id",
    "FlexibilityActivationNack": "nack_id",
}
RESOURCE_KINDS: tuple[str, ...] = tuple(ID_FIELDS)

# P-07: literal path words that are never ids or entity ids.
RESERVED_WORDS: frozenset[str] = frozenset({"requestId", "offerId", "activationId", "ackId", "nackId"})
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def is_valid_id(value: object) -> bool:
    """True when `value` is a string matching the profile's id rule (section 4, P-07)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None and value not in RESERVED_WORDS


# AU-3: the OAuth error codes (RFC 6749 section 5.2) that A1/A2 failures may carry.
OAUTH_ERRORS: frozenset[str] = frozenset(
    {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type"}
)

# Access rules of the "who may call" column of section 2.
ANYONE = "anyone"
DSO_SELF = "dso-self"  # the DSO named by {dso}
AUTHENTICATED = "authenticated"  # any authenticated user
OFFERS_LIST = "offers-list"  # any DSO: all offers; an aggregator: at least its own
DSO_SELF_OR_AGG_SELF = "dso-self-or-agg-self"  # DSO {dso} or aggregator {agg}
AGG_SELF = "agg-self"  # the aggregator named by {agg}
AGG_SELF_OR_ANY_DSO = "agg-self-or-any-dso"


@dataclass(frozen=True)
class Operation:
    """One row of PROFILE.md section 2."""

    id: str
    method: str
    path: str  # template relative to the base URL, e.g. "/dsos/{dso}/flexibilityRequests"
    access: str
    action: str  # token, refresh, new_id, post, list, delete
    kind: str | None  # the resource kind the operation handles (None for A1/A2)
    success: frozenset[int]

    @property
    def request_schema(self) -> str | None:
        """Kind of the JSON request body, if the operation takes one."""
        return self.kind if self.action == "post" else None

    @property
    def response_schema(self) -> str | None:
        """Kind of the success body (an array of it for list operations)."""
        return {
            "token": "TokenResponse",
            "refresh": "TokenResponse",
            "new_id": "IdResponse",
            "list": self.kind,
        }.get(self.action)

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the `{...}` segments of the path, in order."""
        return tuple(re.findall(r"{(\w+)}", self.path))

    def url_path(self, **params: str) -> str:
        """The path with its parameters filled in."""
        return self.path.format(**params)


_R, _O, _V = "FlexibilityRequest", "FlexibilityOffer", "FlexibilityActivation"
_K, _N = "FlexibilityActivationAck", "FlexibilityActivationNack"
_OK = frozenset({200})
_POSTED = frozenset({201, 200})
_DELETED = frozenset({204, 200})

OPERATIONS: tuple[Operation, ...] = (
    Operation("A1", "POST", "/authentication/token", ANYONE, "token", None, _OK),
    Operation("A2", "POST", "/authentication/refresh", ANYONE, "refresh", None, _OK),
    Operation("R1", "GET", "/dsos/{dso}/flexibilityRequests/requestId", DSO_SELF, "new_id", _R, _OK),
    Operation("R2", "POST", "/dsos/{dso}/flexibilityRequests", DSO_SELF, "post", _R, _POSTED),
    Operation("R3", "GET", "/dsos/{dso}/flexibilityRequests", AUTHENTICATED, "list", _R, _OK),
    Operation("R4", "DELETE", "/dsos/{dso}/flexibilityRequests/{requestId}", DSO_SELF, "delete", _R, _DELETED),
    Operation("O1", "GET", "/aggregators/{agg}/flexibilityOffers/offerId", AGG_SELF, "new_id", _O, _OK),
    Operation("O2", "POST", "/aggregators/{agg}/flexibilityOffers", AGG_SELF, "post", _O, _POSTED),
    Operation("O3", "GET", "/aggregators/flexibilityOffers", OFFERS_LIST, "list", _O, _OK),
    Operation("O4", "DELETE", "/aggregators/{agg}/flexibilityOffers/{offerId}", AGG_SELF, "delete", _O, _DELETED),
    Operation("V1", "GET", "/dsos/{dso}/flexibilityActivations/activationId", DSO_SELF, "new_id", _V, _OK),
    Operation("V2", "POST", "/dsos/{dso}/flexibilityActivations/{agg}", DSO_SELF, "post", _V, _POSTED),
    Operation("V3", "GET", "/dsos/{dso}/flexibilityActivations/{agg}", DSO_SELF_OR_AGG_SELF, "list", _V, _OK),
    Operation(
        "V4", "DELETE", "/dsos/{dso}/flexibilityActivations/{agg}/{activationId}", DSO_SELF, "delete", _V, _DELETED
    ),
    Operation("K1", "GET", "/aggregators/{agg}/flexibilityActivations/acks/ackId", AGG_SELF, "new_id", _K, _OK),
    Operation("K2", "POST", "/aggregators/{agg}/flexibilityActivations/acks", AGG_SELF, "post", _K, _POSTED),
    Operation("K3", "GET", "/aggregators/{agg}/flexibilityActivations/acks", AGG_SELF_OR_ANY_DSO, "list", _K, _OK),
    Operation(
        "K4", "DELETE", "/aggregators/{agg}/flexibilityActivations/acks/{ackId}", AGG_SELF, "delete", _K, _DELETED
    ),
    Operation("N1", "GET", "/aggregators/{agg}/flexibilityActivations/nacks/nackId", AGG_SELF, "new_id", _N, _OK),
    Operation("N2", "POST", "/aggregators/{agg}/flexibilityActivations/nacks", AGG_SELF, "post", _N, _POSTED),
    Operation("N3", "GET", "/aggregators/{agg}/flexibilityActivations/nacks", AGG_SELF_OR_ANY_DSO, "list", _N, _OK),
    Operation(
        "N4", "DELETE", "/aggregators/{agg}/flexibilityActivations/nacks/{nackId}", AGG_SELF, "delete", _N, _DELETED
    ),
)
OPERATIONS_BY_ID: dict[str, Operation] = {op.id: op for op in OPERATIONS}


def decode_path(path: str) -> str | None:
    """Percent-decode each segment of a path relative to the base URL.

    None when a segment is not valid UTF-8 or decodes to something containing "/": an encoded
    slash never splits a segment, so such a path is not one of section 2 (ST-5).
    """
    try:
        segments = [unquote(segment, errors="strict") for segment in path.split("/")]
    except UnicodeDecodeError:
        return None
    return None if any("/" in segment for segment in segments) else "/".join(segments)


def _path_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", template))


_MATCHERS = [(op, _path_regex(op.path)) for op in OPERATIONS]


def match_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """Find the operation for `method` and a path relative to the base URL.

    Literal segments win over parameters (P-07), and every parameter must be a valid id;
    returns None for paths or methods that are not in section 2 (HEAD matches GET).
    """
    method = "GET" if method == "HEAD" else method  # method names are case-sensitive (RFC 9110 9.1)
    for op, regex in _MATCHERS:
        found = regex.fullmatch(path)
        if found and op.method == method and all(is_valid_id(v) for v in found.groupdict().values()):
            return op, found.groupdict()
    return None


# Conformance classes of PROFILE.md section 9: name -> gating.
MANDATORY = "mandatory"
OPTIONAL = "optional"
NEVER_GATING = "never-gating"
CONFORMANCE_CLASSES: dict[str, str] = {
    "core-auth": MANDATORY,
    "core-ids": MANDATORY,
    "core-requests": MANDATORY,
    "core-offers": MANDATORY,
    "core-activations": MANDATORY,
    "core-acks": MANDATORY,
    "core-nacks": MANDATORY,
    "authorization": MANDATORY,
    "robustness": MANDATORY,
    "negotiation": MANDATORY,
    "plausibility": OPTIONAL,
    "date-filter": OPTIONAL,
    "recommended": NEVER_GATING,
}

# Client conformance classes of PROFILE.md section 9 (clients of section 11, judged per role): name -> gating.
# A separate table: the server suite's classes and verdict logic above stay as they are.
CLIENT_CLASSES: dict[str, str] = {
    "client-auth": MANDATORY,
    "client-messages": MANDATORY,
    "client-resilience": MANDATORY,
    "client-negotiation": MANDATORY,
    "client-recommended": NEVER_GATING,
}
CLIENT_ROLES: tuple[str, ...] = ("dso", "aggregator")


def allowed_methods(path: str) -> frozenset[str]:
    """Methods section 2 lists for a path relative to the base URL (plus HEAD where GET is).

    Empty when the path is not one of section 2 (ST-5: 404 rather than 405).
    """
    methods = {
        op.method
        for op, regex in _MATCHERS
        if (found := regex.fullmatch(path)) and all(is_valid_id(v) for v in found.groupdict().values())
    }
    if "GET" in methods:
        methods.add("HEAD")
    return frozenset(methods)
