"""The Actor: who is calling, and over which shops, malls and districts they hold a role.

Built once per request from the user's role grants (two queries), then used by every
``access_<entity>`` selector. API keys narrow the actor to one shop or mall and a set of scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agora.accounts.choices import MERCHANT_ROLES, Role
from agora.core.errors import PermissionDenied

if TYPE_CHECKING:
    from agora.accounts.models import ApiKey, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    is_admin: bool = False
    shop_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    operated_mall_ids: frozenset[int] = frozenset()
    district_operator_ids: frozenset[int] = frozenset()
    gov_district_ids: frozenset[int] = frozenset()
    scopes: frozenset[str] | None = None  # None: every scope (session or bearer token)
    api_key: ApiKey | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def is_merchant(self) -> bool:
        return bool(self.shop_roles)

    @property
    def is_operator(self) -> bool:
        return bool(self.operated_mall_ids)

    @property
    def is_government(self) -> bool:
        return bool(self.gov_district_ids)

    @property
    def is_staff_role(self) -> bool:
        return self.is_admin or self.is_merchant or self.is_operator or self.is_government

    @property
    def shop_ids(self) -> frozenset[int]:
        return frozenset(self.shop_roles)

    def roles(self) -> list[str]:
        out: set[str] = set()
        if self.is_admin:
            out.add(Role.PLATFORM_ADMIN)
        for roles in self.shop_roles.values():
            out |= roles
        if self.district_operator_ids:
            out.add(Role.DISTRICT_OPERATOR)
        if self.operated_mall_ids and not self.district_operator_ids:
            out.add(Role.MALL_OPERATOR)
        if self.gov_district_ids:
            out.add(Role.GOVERNMENT_OFFICER)
        if not out and self.user is not None:
            out.add("shopper")
        return sorted(out)

    def operates_mall(self, mall_id: int) -> bool:
        return self.is_admin or mall_id in self.operated_mall_ids

    def has_shop_role(self, shop_id: int, roles: frozenset[str] = MERCHANT_ROLES) -> bool:
        return bool(self.shop_roles.get(shop_id, frozenset()) & roles)

    def require_scope(self, scope: str) -> None:
        if self.scopes is not None and scope not in self.scopes:
            raise PermissionDenied(detail=f"this API key lacks the scope '{scope!s}'")

    def require_person(self) -> User:
        """The signed-in person themself: API keys act for systems, not for the account."""
        user = self.require_user()
        if self.api_key is not None:
            raise PermissionDenied(detail="this operation is not open to API keys")
        return user

    def require_user(self) -> User:
        from agora.core.errors import NotAuthenticated

        if self.user is None:
            raise NotAuthenticated(detail="sign in first")
        return self.user

    def idempotency_owner(self) -> str:
        """Whose idempotency keys these are: the API key's system, or the signed-in user."""
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        return f"user:{self.require_user().pk}"


ANONYMOUS = Actor(user=None)
