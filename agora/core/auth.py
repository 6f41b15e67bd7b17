"""API authentication: session + CSRF (pages), bearer tokens (the app), API keys (partners).

Each returns an Actor; ``OPTIONAL`` adds an anonymous fallback for public operations.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from agora.accounts.actor import ANONYMOUS, Actor
from agora.accounts.selectors import (
    actor_for_api_key,
    actor_for_user,
    api_key_for_secret,
    user_for_bearer,
)


class SessionActor(SessionAuth):
    """Django session cookie; ninja checks the CSRF token on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if not user:
            return None
        actor = actor_for_user(user)
        return actor if actor.user is not None else None


class BearerActor(HttpBearer):
    """``Authorization: Bearer agt_...`` issued by SMS sign-in or staff password sign-in."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_bearer(token)
        if user is None:
            return None
        actor = actor_for_user(user)
        return actor if actor.user is not None else None


class ApiKeyActor(APIKeyHeader):
    """``X-API-Key: agk_...`` for partner systems, narrowed to the key's shop/mall and scopes."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        row = api_key_for_secret(key)
        if row is None:
            return None
        actor = actor_for_api_key(row)
        return actor if actor.user is not None else None


def anonymous(request: HttpRequest) -> Actor:
    return ANONYMOUS


REQUIRED = [BearerActor(), ApiKeyActor(), SessionActor()]
OPTIONAL = [*REQUIRED, anonymous]


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    return actor if isinstance(actor, Actor) else ANONYMOUS
