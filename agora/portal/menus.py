"""Role-aware menus; pages look up the actor once per request."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agora.accounts.actor import ANONYMOUS, Actor
from agora.accounts.selectors import actor_for_user


@dataclass
class MenuItem:
    label: str
    url: str


def request_actor(request: HttpRequest) -> Actor:
    cached = getattr(request, "_agora_actor", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    actor = actor_for_user(user) if user is not None and user.is_authenticated else ANONYMOUS
    request._agora_actor = actor  # type: ignore[attr-defined]
    return actor


def menu_for(request: HttpRequest) -> list[MenuItem]:
    actor = request_actor(request)
    items = [MenuItem(str(_("Home")), reverse("portal:home"))]
    if actor.is_merchant:
        items.append(MenuItem(str(_("Merchant console")), reverse("portal:merchant-home")))
    if actor.is_operator or actor.is_admin:
        items += [
            MenuItem(str(_("District overview")), reverse("portal:ops-home")),
            MenuItem(str(_("Shop directory")), reverse("portal:ops-directory")),
            MenuItem(str(_("Merchant onboarding")), reverse("portal:ops-applications")),
        ]
    if actor.is_government:
        items.append(MenuItem(str(_("Government")), reverse("portal:gov-home")))
    if actor.is_admin:
        items.append(MenuItem(str(_("Admin")), reverse("admin:index")))
    if actor.user is not None and not actor.is_staff_role:
        items.append(MenuItem(str(_("My data & consents")), reverse("portal:my-data")))
    return items
