from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from agora.accounts.choices import ApiScope, ConsentPurpose
from agora.core.schemas import InputSchema


class SmsCodeRequestIn(InputSchema):
    phone: str = Field(max_length=20, examples=["13800000001"])


class SmsCodeRequestOut(Schema):
    phone: str
    expires_at: datetime


class SmsCodeVerifyIn(InputSchema):
    phone: str = Field(max_length=20)
    code: str = Field(max_length=6, examples=["123456"])


class StaffLoginIn(InputSchema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=128)


class TokenOut(Schema):
    token: str
    expires_at: datetime
    user_id: int
    roles: list[str]


class GrantOut(Schema):
    role: str
    shop_id: int | None
    mall_id: int | None
    district_id: int | None


class MeOut(Schema):
    id: int
    username: str
    phone: str | None
    display_name: str
    roles: list[str]
    grants: list[GrantOut]


class ConsentOut(Schema):
    purpose: ConsentPurpose
    granted: bool
    policy_version: str | None
    updated_at: datetime | None


class ConsentsOut(Schema):
    current_policy_version: str
    consents: list[ConsentOut]


class ConsentUpdateIn(InputSchema):
    granted: bool
    policy_version: str = Field(max_length=32)


class ApiKeyCreateIn(InputSchema):
    name: str = Field(max_length=80)
    scopes: list[ApiScope]
    shop_id: int | None = None
    mall_id: int | None = None


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    shop_id: int | None
    mall_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    secret: str


class PersonalDataOut(Schema):
    """One section per module that holds personal data (see accounts/personal_data.py)."""

    model_config = {"extra": "allow"}
    format: str
    exported_at: datetime
    account: dict[str, Any]
    consents: list[dict[str, Any]]
    credentials: dict[str, Any]
    membership: dict[str, Any] | None = None
    points: dict[str, Any] | None = None
    coupons: list[dict[str, Any]] | None = None
