"""Template context: the actor's role-aware menu and role names on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    from agora.portal.menus import menu_for, request_actor, role_names

    actor = request_actor(request)
    return {"menu": menu_for(request), "actor": actor, "actor_roles": role_names(actor)}
