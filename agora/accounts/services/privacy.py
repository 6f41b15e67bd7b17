"""Consent records, personal-data export and account deletion (PIPL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agora.accounts import personal_data
from agora.accounts.choices import ConsentPurpose
from agora.accounts.models import ApiKey, ApiToken, ConsentRecord, RoleGrant, SmsCode, User
from agora.accounts.selectors import consent_current
from agora.core.errors import field_error


def consent_set(
    *, user: User, purpose: str, granted: bool, policy_version: str, source: str = "api"
) -> ConsentRecord:
    """Append a grant or withdrawal. A grant must name the policy version in force."""
    if purpose not in ConsentPurpose.values:
        raise field_error("purpose", f"must be one of {', '.join(ConsentPurpose.values)}", "enum")
    if granted and policy_version != settings.PRIVACY_POLICY_VERSION:
        raise field_error(
            "policy_version",
            f"consent must be given to the current policy {settings.PRIVACY_POLICY_VERSION}",
            "stale_policy",
        )
    return ConsentRecord.objects.create(
        user=user,
        purpose=purpose,
        granted=granted,
        policy_version=policy_version or settings.PRIVACY_POLICY_VERSION,
        source=source[:16],
    )


def consent_set_session(*, session: Any, purpose: str, granted: bool) -> None:
    """A visitor who is not signed in grants or withdraws a purpose for this browser session
    (nothing is stored about them; the session ends with the browser)."""
    if purpose not in ConsentPurpose.values:
        raise field_error("purpose", f"must be one of {', '.join(ConsentPurpose.values)}", "enum")
    session[f"consent:{purpose}"] = bool(granted)


def _account_section(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "phone": user.phone,
        "email": user.email,
        "display_name": user.display_name,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "roles": [
            {
                "role": g.role,
                "shop_id": g.shop_id,
                "mall_id": g.mall_id,
                "district_id": g.district_id,
            }
            for g in RoleGrant.objects.filter(user=user).order_by("id")
        ],
    }


def _consent_section(user: User) -> list[dict[str, Any]]:
    return [
        {
            "purpose": r.purpose,
            "granted": r.granted,
            "policy_version": r.policy_version,
            "source": r.source,
            "at": r.created_at.isoformat(),
        }
        for r in ConsentRecord.objects.filter(user=user).order_by("id")
    ]


def _credentials_section(user: User) -> dict[str, Any]:
    return {
        "app_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t in ApiToken.objects.filter(user=user).order_by("id")
        ],
        "api_keys": [
            {
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes,
                "revoked": k.revoked_at is not None,
            }
            for k in ApiKey.objects.filter(created_by=user).order_by("id")
        ],
    }


def register_personal_data() -> None:
    """Called from AccountsConfig.ready(), like every module's registration."""
    personal_data.register("account", exporter=_account_section)
    personal_data.register("consents", exporter=_consent_section)
    personal_data.register("credentials", exporter=_credentials_section)


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything Agora holds about the user, one section per module."""
    return {
        "format": "agora.personal-data.v1",
        "exported_at": timezone.now().isoformat(),
        **{name: fn(user) for name, fn in sorted(personal_data.exporters().items())},
    }


@transaction.atomic
def account_delete(*, user: User) -> User:
    """Anonymise the personal fields and cut every way in; ledgers keep the row as owner."""
    now = timezone.now()
    phone = user.phone
    for eraser in personal_data.erasers().values():
        eraser(user)
    for purpose, record in consent_current(user=user).items():
        if record is not None and record.granted:
            ConsentRecord.objects.create(
                user=user,
                purpose=purpose,
                granted=False,
                policy_version=record.policy_version,
                source="deletion",
            )
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    ApiKey.objects.filter(created_by=user, revoked_at__isnull=True).update(revoked_at=now)
    RoleGrant.objects.filter(user=user).delete()
    if phone:
        SmsCode.objects.filter(phone=phone).delete()
    user.username = f"deleted-{user.pk}"
    user.phone = None
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.display_name = ""
    user.is_active = False
    user.anonymised_at = now
    user.set_unusable_password()
    user.save()
    return user
