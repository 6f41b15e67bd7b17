"""Consent records, the one consent check, personal-data export and account deletion."""

from __future__ import annotations

import pytest
from django.conf import settings

from agora.accounts.models import ApiToken, ConsentRecord, User
from agora.accounts.selectors import consent_granted
from agora.testing.personas import as_persona

pytestmark = pytest.mark.django_db
SHOPPER = "13800000001"
VERSION = settings.PRIVACY_POLICY_VERSION


def test_no_record_means_no_consent() -> None:
    user = User.objects.get(phone=SHOPPER)
    assert all(
        consent_granted(user=user, purpose=p) is False
        for p in ["location_tracking", "marketing_messages", "profile_marketing", "data_sharing"]
    )
    body = as_persona(SHOPPER).get("/me/consents").body
    assert body["current_policy_version"] == VERSION
    assert [(c["purpose"], c["granted"]) for c in body["consents"]] == [
        ("location_tracking", False),
        ("marketing_messages", False),
        ("profile_marketing", False),
        ("data_sharing", False),
    ]


def test_grant_then_withdraw_is_recorded_and_checked() -> None:
    client = as_persona(SHOPPER)
    user = User.objects.get(phone=SHOPPER)
    granted = client.put(
        "/me/consents/marketing_messages", {"granted": True, "policy_version": VERSION}
    )
    assert granted.status == 200
    assert consent_granted(user=user, purpose="marketing_messages") is True
    assert consent_granted(user=user, purpose="location_tracking") is False
    withdrawn = client.put(
        "/me/consents/marketing_messages", {"granted": False, "policy_version": VERSION}
    )
    assert withdrawn.body["granted"] is False
    assert consent_granted(user=user, purpose="marketing_messages") is False
    history = list(
        ConsentRecord.objects.filter(user=user)
        .order_by("id")
        .values_list("purpose", "granted", "policy_version")
    )
    assert history == [
        ("marketing_messages", True, VERSION),
        ("marketing_messages", False, VERSION),
    ]


def test_grant_to_an_old_policy_or_unknown_purpose_is_refused() -> None:
    client = as_persona(SHOPPER)
    stale = client.put("/me/consents/data_sharing", {"granted": True, "policy_version": "2020-01"})
    assert stale.status == 422
    assert stale.field_names() == ["policy_version"]
    unknown = client.put("/me/consents/selling_data", {"granted": True, "policy_version": VERSION})
    assert unknown.status == 422
    assert unknown.field_names() == ["purpose"]
    assert ConsentRecord.objects.count() == 0


def test_export_holds_the_persons_data() -> None:
    client = as_persona(SHOPPER)
    client.put("/me/consents/location_tracking", {"granted": True, "policy_version": VERSION})
    body = client.get("/me/personal-data").body
    assert body["format"] == "agora.personal-data.v1"
    assert body["account"]["phone"] == SHOPPER
    assert [c["purpose"] for c in body["consents"]] == ["location_tracking"]
    assert len(body["credentials"]["app_tokens"]) == 1
    assert "token_hash" not in str(body)


def test_delete_account_anonymises_and_cuts_access() -> None:
    client = as_persona(SHOPPER)
    client.put("/me/consents/location_tracking", {"granted": True, "policy_version": VERSION})
    user = User.objects.get(phone=SHOPPER)
    refused = client.delete("/me")
    assert refused.status == 422
    assert refused.field_names() == ["confirm"]
    assert User.objects.get(pk=user.pk).phone == SHOPPER
    assert client.delete("/me?confirm=DELETE").status == 204
    user.refresh_from_db()
    assert (user.phone, user.username, user.is_active, user.display_name) == (
        None,
        f"deleted-{user.pk}",
        False,
        "",
    )
    assert user.anonymised_at is not None
    assert consent_granted(user=user, purpose="location_tracking") is False
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    assert client.get("/me").status == 401
    # the same phone can sign up again as a new person
    assert not User.objects.filter(phone=SHOPPER).exists()
