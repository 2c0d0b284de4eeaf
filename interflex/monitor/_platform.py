"""`platform_from_ixit`: what an IXIT tells the monitor about the platform and its users."""

from __future__ import annotations

from interflex.ixit import Ixit
from interflex.monitor._model import Participant, Platform


def platform_from_ixit(ixit: Ixit) -> Platform:
    """The IXIT's DSO and aggregators as participants, and its declared optional classes."""
    participants = [Participant(ixit.dso.username, "dso", ixit.dso.entity_id)]
    participants += [Participant(a.username, "aggregator", a.entity_id) for a in ixit.aggregators]
    return Platform(
        participants=tuple(participants),
        plausibility=bool(ixit.ics.get("plausibility")),
        date_filter=bool(ixit.ics.get("date-filter")),
        client_id=ixit.client_id,
    )
