"""What every request handler needs: the store, accounts, tokens and the active fault."""

from __future__ import annotations

from dataclasses import dataclass

from reference_server.accounts import Accounts
from reference_server.store import Store
from reference_server.tokens import Tokens


@dataclass
class Context:
    """Shared state of one server instance."""

    store: Store
    accounts: Accounts
    tokens: Tokens
    fault: str | None = None

    def faulty(self, name: str) -> bool:
        """True when the fault mode `name` is active."""
        return self.fault == name
