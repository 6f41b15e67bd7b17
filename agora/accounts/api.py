"""Accounts API: sign-in, me, consents, personal data, API keys."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from agora.accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyCreateIn,
    ApiKeyOut,
    ConsentOut,
    ConsentsOut,
    ConsentUpdateIn,
    MeOut,
    PersonalDataOut,
    SmsCodeRequestIn,
    SmsCodeRequestOut,
    SmsCodeVerifyIn,
    StaffLoginIn,
    TokenOut,
)
from agora.accounts.selectors import (
    access_api_key,
    actor_for_user,
    api_keys_visible,
    consent_current,
    user_grants,
)
from agora.accounts.services.credentials import (
    api_key_create,
    api_key_revoke,
    api_token_create,
    api_token_revoke,
    staff_password_login,
)
from agora.accounts.services.privacy import account_delete, consent_set, personal_data_export
from agora.accounts.services.sms_login import sms_code_request, sms_code_verify
from agora.core.auth import BearerActor, actor_of
from agora.core.errors import field_error

router = Router(tags=["accounts"])


def _token_out(user, secret, row) -> dict:  # type: ignore[no-untyped-def]
    return {
        "token": secret,
        "expires_at": row.expires_at,
        "user_id": user.pk,
        "roles": actor_for_user(user).roles(),
    }


@router.post(
    "/auth/sms-codes", auth=None, response={202: SmsCodeRequestOut}, operation_id="sms_code_request"
)
def post_sms_code(request: HttpRequest, payload: SmsCodeRequestIn):  # type: ignore[no-untyped-def]
    """Send a 6-digit sign-in code to a phone (valid 10 minutes; 1 per minute, 5 per hour)."""
    row = sms_code_request(phone=payload.phone)
    return Status(202, {"phone": row.phone, "expires_at": row.expires_at})


@router.post(
    "/auth/sms-codes/verify", auth=None, response={201: TokenOut}, operation_id="sms_code_verify"
)
def post_sms_verify(request: HttpRequest, payload: SmsCodeVerifyIn):  # type: ignore[no-untyped-def]
    """Exchange phone + code for a bearer token; first sign-in creates the shopper."""
    user = sms_code_verify(phone=payload.phone, code=payload.code)
    row, secret = api_token_create(user=user, name="app")
    return Status(201, _token_out(user, secret, row))


@router.post("/auth/tokens", auth=None, response={201: TokenOut}, operation_id="staff_token_create")
def post_staff_token(request: HttpRequest, payload: StaffLoginIn):  # type: ignore[no-untyped-def]
    """Staff sign-in by username and password for scripts and apps."""
    user = staff_password_login(username=payload.username, password=payload.password)
    row, secret = api_token_create(user=user, name="staff")
    return Status(201, _token_out(user, secret, row))


@router.delete(
    "/auth/tokens/current", auth=[BearerActor()], response={204: None}, operation_id="token_revoke"
)
def delete_token(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Sign out: revoke the bearer token used for this call."""
    header = request.headers.get("Authorization", "")
    api_token_revoke(token_secret=header.split(" ", 1)[1].strip())
    return Status(204, None)


@router.get("/me", response=MeOut, operation_id="me_get")
def get_me(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    user = actor.require_person()
    return {
        "id": user.pk,
        "username": user.username,
        "phone": user.phone,
        "display_name": user.display_name,
        "roles": actor.roles(),
        "grants": list(user_grants(user=user)),
    }


def _consents(user) -> dict:  # type: ignore[no-untyped-def]
    return {
        "current_policy_version": settings.PRIVACY_POLICY_VERSION,
        "consents": [
            {
                "purpose": purpose,
                "granted": bool(record and record.granted),
                "policy_version": record.policy_version if record else None,
                "updated_at": record.created_at if record else None,
            }
            for purpose, record in consent_current(user=user).items()
        ],
    }


@router.get("/me/consents", response=ConsentsOut, operation_id="consents_get")
def get_consents(request: HttpRequest):  # type: ignore[no-untyped-def]
    return _consents(actor_of(request).require_person())


@router.put("/me/consents/{purpose}", response={200: ConsentOut}, operation_id="consent_set")
def put_consent(request: HttpRequest, purpose: str, payload: ConsentUpdateIn):  # type: ignore[no-untyped-def]
    """Grant or withdraw one purpose; a grant names the policy version the user read."""
    user = actor_of(request).require_person()
    record = consent_set(
        user=user, purpose=purpose, granted=payload.granted, policy_version=payload.policy_version
    )
    out = {
        "purpose": record.purpose,
        "granted": record.granted,
        "policy_version": record.policy_version,
        "updated_at": record.created_at,
    }
    return Status(200, out)


@router.get("/me/personal-data", response=PersonalDataOut, operation_id="personal_data_export")
def get_personal_data(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Everything Agora holds about you, as JSON (PIPL right of access)."""
    return personal_data_export(user=actor_of(request).require_person())


@router.delete("/me", response={204: None}, operation_id="account_delete")
def delete_me(request: HttpRequest, confirm: str = ""):  # type: ignore[no-untyped-def]
    """Delete your account: personal fields anonymised, sign-ins cut, ledgers kept.
    Pass ``?confirm=DELETE``."""
    actor = actor_of(request)
    user = actor.require_person()
    if confirm != "DELETE":
        raise field_error("confirm", "pass confirm=DELETE to delete the account", "confirm")
    account_delete(user=user)
    return Status(204, None)


@router.get("/api-keys", response=list[ApiKeyOut], operation_id="api_keys_list")
def list_api_keys(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(api_keys_visible(actor=actor_of(request)).order_by("id"))


@router.post("/api-keys", response={201: ApiKeyCreatedOut}, operation_id="api_key_create")
def post_api_key(request: HttpRequest, payload: ApiKeyCreateIn):  # type: ignore[no-untyped-def]
    """Create a partner key for one shop or one mall; the secret is shown only here."""
    key, secret = api_key_create(
        actor=actor_of(request),
        name=payload.name,
        scopes=list(payload.scopes),
        shop_id=payload.shop_id,
        mall_id=payload.mall_id,
    )
    return Status(201, {**ApiKeyOut.from_orm(key).model_dump(), "secret": secret})


@router.delete("/api-keys/{api_key_id}", response={200: ApiKeyOut}, operation_id="api_key_revoke")
def delete_api_key(request: HttpRequest, api_key_id: int):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    key = access_api_key(actor=actor, api_key_id=api_key_id)
    return Status(200, api_key_revoke(actor=actor, key=key))
