"""Reads of accounts: building the Actor, consent checks, tokens and keys."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.choices import MERCHANT_ROLES, ConsentPurpose, Role
from agora.accounts.models import ApiKey, ApiToken, ConsentRecord, RoleGrant, User
from agora.core.errors import NotFound

LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_for_user(user: User) -> Actor:
    """Expand the user's grants into the sets the access selectors check."""
    from agora.district.selectors import mall_ids_in_districts

    if not user.is_active:
        return Actor(user=None)
    shop_roles: dict[int, set[str]] = {}
    malls: set[int] = set()
    district_ops: set[int] = set()
    gov: set[int] = set()
    is_admin = user.is_superuser
    for grant in RoleGrant.objects.filter(user=user).only(
        "role", "shop_id", "mall_id", "district_id"
    ):
        if grant.role in MERCHANT_ROLES and grant.shop_id:
            shop_roles.setdefault(grant.shop_id, set()).add(grant.role)
        elif grant.role == Role.MALL_OPERATOR and grant.mall_id:
            malls.add(grant.mall_id)
        elif grant.role == Role.DISTRICT_OPERATOR and grant.district_id:
            district_ops.add(grant.district_id)
        elif grant.role == Role.GOVERNMENT_OFFICER and grant.district_id:
            gov.add(grant.district_id)
        elif grant.role == Role.PLATFORM_ADMIN:
            is_admin = True
    if district_ops:
        malls |= mall_ids_in_districts(district_ids=district_ops)
    return Actor(
        user=user,
        is_admin=is_admin,
        shop_roles={k: frozenset(v) for k, v in shop_roles.items()},
        operated_mall_ids=frozenset(malls),
        district_operator_ids=frozenset(district_ops),
        gov_district_ids=frozenset(gov),
    )


def actor_for_api_key(key: ApiKey) -> Actor:
    """The key's creator, narrowed to the key's shop or mall and its scopes."""
    base = actor_for_user(key.created_by)
    if base.user is None:
        return base
    shop_roles = {k: v for k, v in base.shop_roles.items() if key.shop_id == k}
    if key.shop_id and not shop_roles and key.shop and base.operates_mall(key.shop.mall_id):
        # an operator's key for one shop of their mall acts as that shop's manager
        shop_roles = {key.shop_id: frozenset({Role.MERCHANT_MANAGER.value})}
    malls: frozenset[int] = frozenset()
    if key.mall_id and base.operates_mall(key.mall_id):
        malls = frozenset({key.mall_id})
    return Actor(
        user=base.user,
        is_admin=False,
        shop_roles=shop_roles,
        operated_mall_ids=frozenset(malls),
        scopes=frozenset(key.scopes),
        api_key=key,
    )


def _touch(row: ApiKey | ApiToken) -> None:
    """Record the last use at most once a minute: no write at all when the stored time is
    fresh, else one conditional UPDATE (concurrent requests don't pile up writes)."""
    now = timezone.now()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    type(row).objects.filter(pk=row.pk).filter(stale).update(last_used_at=now)


def user_for_bearer(token: str) -> User | None:
    row = (
        ApiToken.objects.select_related("user")
        .filter(
            token_hash=secret_hash(token), revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    _touch(row)
    return row.user


def api_key_for_secret(secret: str) -> ApiKey | None:
    row = (
        ApiKey.objects.select_related("created_by", "shop")
        .filter(key_hash=secret_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.created_by.is_active:
        return None
    _touch(row)
    return row


def active_user_with_phone(*, phone: str) -> User | None:
    return User.objects.filter(phone=phone, is_active=True).first()


SESSION_CONSENT_PREFIX = "consent:"


def consent_granted(
    *, user: User | None, purpose: ConsentPurpose | str, session: Any = None
) -> bool:
    """THE consent check. Every module asks this before tracking or marketing to a person.

    True only if the newest record for the purpose is a grant; no record means no consent.
    A visitor who is not signed in can grant a purpose for their browser session only
    (``consent_set_session``); pass their ``session`` to honour it.
    """
    if user is None or user.pk is None:
        return bool(session is not None and session.get(SESSION_CONSENT_PREFIX + str(purpose)))
    if user.anonymised_at is not None:
        return False
    latest = (
        ConsentRecord.objects.filter(user_id=user.pk, purpose=str(purpose))
        .order_by("-id")
        .values_list("granted", flat=True)
        .first()
    )
    return bool(latest)


def consent_current(*, user: User) -> dict[str, ConsentRecord | None]:
    """The newest record of each purpose (None when never asked)."""
    out: dict[str, ConsentRecord | None] = dict.fromkeys(ConsentPurpose.values)
    for record in ConsentRecord.objects.filter(user=user).order_by("id"):
        out[record.purpose] = record
    return out


def api_keys_visible(*, actor: Actor) -> QuerySet[ApiKey]:
    user = actor.require_person()
    qs = ApiKey.objects.select_related("shop", "mall")
    return qs if actor.is_admin else qs.filter(created_by=user)


def access_api_key(*, actor: Actor, api_key_id: int) -> ApiKey:
    try:
        return api_keys_visible(actor=actor).get(pk=api_key_id)
    except ApiKey.DoesNotExist:
        raise NotFound(detail="API key not found") from None


def user_grants(*, user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user).select_related("shop", "mall", "district")
