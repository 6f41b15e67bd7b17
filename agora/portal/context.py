"""Template context: the actor's role-aware menu on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    from agora.portal.menus import menu_for

    return {"menu": menu_for(request)}
