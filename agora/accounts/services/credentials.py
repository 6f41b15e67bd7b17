"""Bearer tokens for the app, API keys for partner systems (hashed at rest), staff passwords."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.choices import ApiScope, Role
from agora.accounts.models import ApiKey, ApiToken, User
from agora.accounts.selectors import secret_hash
from agora.core.errors import (
    FieldError,
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
    field_error,
)
from agora.core.services import audit_record, snapshot

TOKEN_PREFIX = "agt_"  # noqa: S105 (a prefix, not a secret)
KEY_PREFIX = "agk_"


def api_token_create(*, user: User, name: str = "app") -> tuple[ApiToken, str]:
    """Return the row and the secret; the secret is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name[:80] or "app",
        prefix=secret[:12],
        token_hash=secret_hash(secret),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return row, secret


def api_token_revoke(*, token_secret: str) -> None:
    ApiToken.objects.filter(token_hash=secret_hash(token_secret), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def staff_password_login(*, username: str, password: str) -> User:
    user = authenticate(username=username, password=password)
    if user is None or not isinstance(user, User):
        raise NotAuthenticated(detail="wrong username or password", extra={"code_hint": "login"})
    return user


def api_key_create(
    *, actor: Actor, name: str, scopes: list[str], shop_id: int | None, mall_id: int | None
) -> tuple[ApiKey, str]:
    """A merchant owner or manager makes keys for their shop; an operator for their mall."""
    user = actor.require_user()
    if actor.api_key is not None:
        raise PermissionDenied(detail="an API key cannot create API keys")
    errors = []
    if not name.strip():
        errors.append(("name", "must not be empty"))
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        errors.append(("scopes", f"unknown scopes: {', '.join(unknown)}"))
    if not scopes:
        errors.append(("scopes", "name at least one scope"))
    if (shop_id is None) == (mall_id is None):
        errors.append(("shop_id", "give exactly one of shop_id or mall_id"))
    if errors:
        raise ValidationFailed(
            detail="the API key is not valid", errors=[FieldError(f, r) for f, r in errors]
        )
    from agora.district.selectors import access_mall, access_shop

    if shop_id is not None:
        shop = access_shop(actor=actor, shop_id=shop_id)
        allowed = actor.has_shop_role(
            shop.pk, frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER})
        )
        if not (allowed or actor.operates_mall(shop.mall_id)):
            raise PermissionDenied(detail="only the shop's owner or manager may create its keys")
        mall_for_audit, shop_for_audit = shop.mall_id, shop.pk
    else:
        assert mall_id is not None
        mall = access_mall(actor=actor, mall_id=mall_id, manage=True)
        mall_for_audit, shop_for_audit = mall.pk, None
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip()[:80],
        created_by=user,
        shop_id=shop_id,
        mall_id=mall_id,
        scopes=sorted(set(scopes)),
        prefix=secret[:12],
        key_hash=secret_hash(secret),
    )
    audit_record(
        actor=actor,
        action="api_key.create",
        target=key,
        mall_id=mall_for_audit,
        shop_id=shop_for_audit,
        after=snapshot(key, ["name", "scopes", "shop_id", "mall_id", "prefix"]),
    )
    return key, secret


def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    if key.revoked_at is not None:
        raise field_error("api_key", "already revoked", "revoked")
    before = snapshot(key, ["revoked_at"])
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="api_key.revoke",
        target=key,
        mall_id=key.mall_id,
        shop_id=key.shop_id,
        before=before,
        after=snapshot(key, ["revoked_at"]),
    )
    return key
