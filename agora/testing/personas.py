"""Personas from the demo district, and an API client that speaks as one of them.

Usernames are those built by agora.district.demo (see docs/modules/district.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from agora.accounts.models import User
from agora.accounts.services.credentials import api_token_create

API = "/api/v1"


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def problem_code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    def field_names(self) -> list[str]:
        return [e["field"] for e in (self.body or {}).get("errors", [])]


class ApiClient:
    """JSON client: bearer token for a persona, an API key, or nobody."""

    def __init__(self, *, token: str | None = None, api_key: str | None = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if api_key:
            self.headers["X-API-Key"] = api_key

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> ApiResponse:
        fn = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        response = fn(API + path, **kwargs)
        content = response.content
        parsed = json.loads(content) if content else None
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json", (
                response.status_code,
                content,
            )
        return ApiResponse(response.status_code, parsed, dict(response.headers))

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> ApiResponse:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("DELETE", path, **kw)


def user(login: str) -> User:
    if login.isdigit():
        return User.objects.get(phone=login)
    return User.objects.get(username=login)


def as_persona(login: str) -> ApiClient:
    """An ApiClient holding a fresh bearer token of the demo user ``login``."""
    _, secret = api_token_create(user=user(login))
    return ApiClient(token=secret)


def anonymous() -> ApiClient:
    return ApiClient()


def shop_id_of(login: str) -> int:
    """The shop on which the merchant persona holds its role."""
    grant = user(login).grants.exclude(shop=None).order_by("id").first()
    assert grant is not None and grant.shop_id is not None, login
    return grant.shop_id


def mall_id_of(login: str) -> int:
    """The mall a mall-operator persona runs, or the mall of a merchant persona's shop."""
    u = user(login)
    grant = u.grants.exclude(mall=None).order_by("id").first()
    if grant is not None and grant.mall_id is not None:
        return grant.mall_id
    shop_grant = u.grants.exclude(shop=None).select_related("shop").order_by("id").first()
    assert shop_grant is not None and shop_grant.shop is not None, login
    return shop_grant.shop.mall_id
