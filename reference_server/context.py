"""What every request handler needs: the store, accounts, tokens, the active fault and alternatives."""

from __future__ import annotations

from dataclasses import dataclass, field

from reference_server.accounts import Accounts
from reference_server.load_faults import LoadFaultState
from reference_server.store import Store
from reference_server.tokens import Tokens


@dataclass
class Context:
    """Shared state of one server instance."""

    store: Store
    accounts: Accounts
    tokens: Tokens
    fault: str | None = None
    alternatives: frozenset[str] = field(default_factory=frozenset)
    load: LoadFaultState = field(default_factory=LoadFaultState)  # state of the load-only fault modes

    def faulty(self, name: str) -> bool:
        """True when the fault mode `name` is active."""
        return self.fault == name

    def alternative(self, name: str) -> bool:
        """True when the alternative mode `name` is active (reference_server.alternatives)."""
        return name in self.alternatives
