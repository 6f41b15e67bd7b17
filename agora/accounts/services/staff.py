"""Creating staff accounts and granting roles (used by onboarding, the demo and admins)."""

from __future__ import annotations

from typing import Any

from agora.accounts.choices import MERCHANT_ROLES, Role
from agora.accounts.models import RoleGrant, User
from agora.core.errors import field_error


def staff_user_create(
    *, username: str, password: str | None, display_name: str = "", phone: str | None = None
) -> User:
    if User.objects.filter(username=username).exists():
        raise field_error("username", "is already taken", "taken")
    user = User(username=username, display_name=display_name, phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def role_grant(
    *,
    user: User,
    role: Role | str,
    shop_id: int | None = None,
    mall_id: int | None = None,
    district_id: int | None = None,
) -> RoleGrant:
    """Grant a role over the object its kind needs (see RoleGrant's docstring)."""
    needs = {
        **dict.fromkeys(MERCHANT_ROLES, "shop"),
        Role.MALL_OPERATOR: "mall",
        Role.DISTRICT_OPERATOR: "district",
        Role.GOVERNMENT_OFFICER: "district",
        Role.PLATFORM_ADMIN: None,
    }
    if role not in needs:
        raise field_error("role", "unknown role", "enum")
    given = {"shop": shop_id, "mall": mall_id, "district": district_id}
    want = needs[Role(role)]
    for name, value in given.items():
        if (name == want) != (value is not None):
            raise field_error(f"{name}_id", f"role {role} needs exactly a {want or 'no'} scope")
    scope: dict[str, Any] = {"shop_id": shop_id, "mall_id": mall_id, "district_id": district_id}
    grant, _ = RoleGrant.objects.get_or_create(user=user, role=role, **scope)
    if role == Role.PLATFORM_ADMIN and not user.is_superuser:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return grant
