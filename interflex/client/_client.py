"""`InterflexClient`: one keep-alive session, automatic token handling, one method per operation."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from interflex.client._exceptions import AuthenticationError, ClientError
from interflex.client._transport import DEFAULT_TIMEOUT, send

_MAX_MARGIN = 30.0  # refresh at most this many seconds before the token expires


@dataclass
class _Tokens:
    access: str = field(repr=False)
    refresh: str | None = field(repr=False)
    renew_at: float | None  # time.monotonic() after which the access token counts as expiring


def _tokens_from(response: dict[str, Any]) -> _Tokens:
    lifetime = response.get("expires_in")
    renew_at = None
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        renew_at = time.monotonic() + lifetime - min(_MAX_MARGIN, lifetime / 2)
    refresh = response.get("refresh_token")
    return _Tokens(response["access_token"], refresh if isinstance(refresh, str) else None, renew_at)


def _instant(value: str | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("valid_at needs a timezone-aware datetime (P-01)")
        return value.isoformat()
    return value


class InterflexClient:
    """A client of one InterFlex server for one user.

    `base_url` includes the version prefix (`https://host/interflex/api/v1`). The client logs
    in (A1) on first use, refreshes the access token (A2, falling back to A1) shortly before
    it expires and once when a call answers 401, then repeats that call. `timeout` (seconds)
    applies to connecting and to each read. `verify` is requests' TLS setting (False, or a CA
    bundle path). `session` lets you bring a configured `requests.Session` (certificates,
    proxies, adapters); its own `verify` then applies unless you pass one, and `close()`
    leaves it open. Failures raise `interflex.client.InterflexError` subclasses. Thread-safe.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.timeout = timeout
        self._verify = verify if session is None or verify is not True else None
        self._client = {"client_id": client_id, "client_secret": client_secret}
        self._password = password
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._tokens: _Tokens | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InterflexClient({self.base_url!r}, username={self.username!r})"

    def close(self) -> None:
        """Close the session (when the client created it)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> InterflexClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- authentication ---------------------------------------------------------------------

    def authenticate(self) -> dict[str, Any]:
        """A1: log in with the password grant; returns the TokenResponse and keeps its tokens (AU-1)."""
        with self._lock:
            return self._login()

    def refresh(self) -> dict[str, Any]:
        """A2: exchange the kept refresh token for new tokens; returns the TokenResponse (AU-2).

        Logs in first when the client holds no refresh token yet.
        """
        with self._lock:
            if self._tokens is None or self._tokens.refresh is None:
                self._login()
            return self._refresh()

    def _login(self) -> dict[str, Any]:
        form = {"grant_type": "password", "username": self.username, "password": self._password, **self._client}
        response = self._send("A1", form=form)
        self._tokens = _tokens_from(response)
        return response

    def _refresh(self) -> dict[str, Any]:
        assert self._tokens is not None and self._tokens.refresh is not None
        form = {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh, **self._client}
        response = self._send("A2", form=form)
        self._tokens = _tokens_from(response)
        return response

    def _access_token(self) -> str:
        with self._lock:
            tokens = self._tokens
            if tokens is None:
                self._login()
            elif tokens.renew_at is not None and time.monotonic() >= tokens.renew_at:
                self._renew()
            assert self._tokens is not None
            return self._tokens.access

    def _renew(self) -> None:
        """Refresh (A2); when the refresh token is missing or rejected, log in again (A1)."""
        if self._tokens is not None and self._tokens.refresh is not None:
            try:
                self._refresh()
                return
            except ClientError:
                pass
        self._login()

    def _renew_after_401(self, rejected: str) -> str:
        with self._lock:
            assert self._tokens is not None
            if self._tokens.access == rejected:  # not yet renewed by another thread
                self._renew()
            return self._tokens.access

    def _send(self, op_id: str, **kwargs: Any) -> Any:
        return send(self._session, self.base_url, op_id, timeout=self.timeout, verify=self._verify, **kwargs)

    def _call(self, op_id: str, **kwargs: Any) -> Any:
        token = self._access_token()
        try:
            return self._send(op_id, token=token, **kwargs)
        except AuthenticationError:
            token = self._renew_after_401(token)
            return self._send(op_id, token=token, **kwargs)

    # -- flexibility requests (R1-R4) -------------------------------------------------------

    def get_request_id(self, dso: str) -> str:
        """R1: a new request id for DSO `dso` (ID-1)."""
        return self._call("R1", path={"dso": dso})

    def post_request(self, dso: str, request: dict[str, Any]) -> dict[str, Any]:
        """R2: post a FlexibilityRequest of DSO `dso`; returns the server's JSON body or `{}`."""
        return self._call("R2", path={"dso": dso}, body=request)

    def get_all_requests(self, dso: str, *, valid_at: str | datetime | None = None) -> list[dict[str, Any]]:
        """R3: the FlexibilityRequests of DSO `dso`; `valid_at` applies the date filter (DF-1)."""
        query = None if valid_at is None else {"valid_at": _instant(valid_at)}
        return self._call("R3", path={"dso": dso}, query=query)

    def delete_request(self, dso: str, request_id: str) -> dict[str, Any]:
        """R4: delete request `request_id` of DSO `dso`; returns the JSON body or `{}`."""
        return self._call("R4", path={"dso": dso, "requestId": request_id})

    # -- flexibility offers (O1-O4) ---------------------------------------------------------

    def get_offer_id(self, agg: str) -> str:
        """O1: a new offer id for aggregator `agg` (ID-1)."""
        return self._call("O1", path={"agg": agg})

    def post_offer(self, agg: str, offer: dict[str, Any]) -> dict[str, Any]:
        """O2: post a FlexibilityOffer of aggregator `agg`; returns the JSON body or `{}`."""
        return self._call("O2", path={"agg": agg}, body=offer)

    def get_all_offers(self, *, valid_at: str | datetime | None = None) -> list[dict[str, Any]]:
        """O3: the FlexibilityOffers this user may see; `valid_at` applies the date filter (DF-1)."""
        query = None if valid_at is None else {"valid_at": _instant(valid_at)}
        return self._call("O3", query=query)

    def delete_offer(self, agg: str, offer_id: str) -> dict[str, Any]:
        """O4: delete offer `offer_id` of aggregator `agg`; returns the JSON body or `{}`."""
        return self._call("O4", path={"agg": agg, "offerId": offer_id})

    # -- flexibility activations (V1-V4) ----------------------------------------------------

    def get_activation_id(self, dso: str) -> str:
        """V1: a new activation id for DSO `dso` (ID-1)."""
        return self._call("V1", path={"dso": dso})

    def post_activation(self, dso: str, agg: str, activation: dict[str, Any]) -> dict[str, Any]:
        """V2: DSO `dso` sends a FlexibilityActivation to aggregator `agg`; returns the JSON body or `{}`."""
        return self._call("V2", path={"dso": dso, "agg": agg}, body=activation)

    def get_all_activations(self, dso: str, agg: str) -> list[dict[str, Any]]:
        """V3: the activations DSO `dso` sent to aggregator `agg`."""
        return self._call("V3", path={"dso": dso, "agg": agg})

    def delete_activation(self, dso: str, agg: str, activation_id: str) -> dict[str, Any]:
        """V4: delete activation `activation_id`; returns the JSON body or `{}`."""
        return self._call("V4", path={"dso": dso, "agg": agg, "activationId": activation_id})

    # -- activation ACKs (K1-K4) ------------------------------------------------------------

    def get_activation_ack_id(self, agg: str) -> str:
        """K1: a new ACK id for aggregator `agg` (ID-1)."""
        return self._call("K1", path={"agg": agg})

    def post_activation_ack(self, agg: str, ack: dict[str, Any]) -> dict[str, Any]:
        """K2: aggregator `agg` posts a FlexibilityActivationAck; returns the JSON body or `{}`."""
        return self._call("K2", path={"agg": agg}, body=ack)

    def get_all_activation_acks(self, agg: str) -> list[dict[str, Any]]:
        """K3: the ACKs of aggregator `agg`."""
        return self._call("K3", path={"agg": agg})

    def delete_activation_ack(self, agg: str, ack_id: str) -> dict[str, Any]:
        """K4: delete ACK `ack_id` of aggregator `agg`; returns the JSON body or `{}`."""
        return self._call("K4", path={"agg": agg, "ackId": ack_id})

    # -- activation NACKs (N1-N4) -----------------------------------------------------------

    def get_activation_nack_id(self, agg: str) -> str:
        """N1: a new NACK id for aggregator `agg` (ID-1)."""
        return self._call("N1", path={"agg": agg})

    def post_activation_nack(self, agg: str, nack: dict[str, Any]) -> dict[str, Any]:
        """N2: aggregator `agg` posts a FlexibilityActivationNack; returns the JSON body or `{}`."""
        return self._call("N2", path={"agg": agg}, body=nack)

    def get_all_activation_nacks(self, agg: str) -> list[dict[str, Any]]:
        """N3: the NACKs of aggregator `agg`."""
        return self._call("N3", path={"agg": agg})

    def delete_activation_nack(self, agg: str, nack_id: str) -> dict[str, Any]:
        """N4: delete NACK `nack_id` of aggregator `agg`; returns the JSON body or `{}`."""
        return self._call("N4", path={"agg": agg, "nackId": nack_id})
