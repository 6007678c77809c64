"""A person (or a machine holding an API token) acting in UEC Resilience."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["User"]


@dataclass(frozen=True)
class User:
    """Who is acting: a username, the organisation they belong to and the roles they hold.

    ``org_code`` is an organisation of the contract's ``organisations`` table (ODS code). Roles are
    names from ``permissions.yaml``. ``via`` says how they signed in: ``local``, ``oidc`` or ``token``.

    >>> u = User("ana", "Ana Analyst", "RAA", frozenset({"analyst"}))
    >>> u.label
    'ana (RAA)'
    """

    username: str
    display_name: str
    org_code: str
    roles: frozenset[str] = field(default_factory=frozenset)
    via: str = "local"

    @property
    def label(self) -> str:
        """How an audit entry or a page names the user."""
        return f"{self.username} ({self.org_code})"
