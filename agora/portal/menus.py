"""Role-aware menus; pages look up the actor once per request."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agora.accounts.actor import ANONYMOUS, Actor
from agora.accounts.choices import Role
from agora.accounts.selectors import actor_for_user


@dataclass
class MenuItem:
    label: str
    url: str
    active: bool = False


def request_actor(request: HttpRequest) -> Actor:
    """The actor of the signed-in user, built once per request (and again after a sign-in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    key = user.pk if user is not None else None
    cached = getattr(request, "_agora_actor", None)
    if cached is not None and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]
    actor = actor_for_user(user) if user is not None else ANONYMOUS
    request._agora_actor = (key, actor)  # type: ignore[attr-defined]
    return actor


def role_names(actor: Actor) -> list[str]:
    """The actor's roles in words, strongest first ("shopper" for a signed-in shopper)."""
    labels = dict(Role.choices)
    order = list(Role.values)
    names = []
    for role in sorted(actor.roles(), key=lambda r: order.index(r) if r in order else -1):
        names.append(str(labels[role]) if role in labels else str(_("Shopper")))
    return names


def menu_for(request: HttpRequest) -> list[MenuItem]:
    actor = request_actor(request)
    items = [
        MenuItem(str(_("Home")), reverse("portal:home")),
        MenuItem(str(_("Indoor navigation")), reverse("nav-route")),
        MenuItem(str(_("Parking")), reverse("parking-home")),
    ]
    if actor.is_merchant:
        items.append(MenuItem(str(_("Merchant console")), reverse("portal:merchant-home")))
        items.append(MenuItem(str(_("Till")), reverse("pos-home")))
        items.append(MenuItem(str(_("Members & coupons")), reverse("console:till")))
    if actor.is_operator or actor.is_admin:
        items += [
            MenuItem(str(_("District overview")), reverse("portal:ops-home")),
            MenuItem(str(_("Shop directory")), reverse("portal:ops-directory")),
            MenuItem(str(_("Merchant onboarding")), reverse("portal:ops-applications")),
            MenuItem(str(_("Loyalty")), reverse("console:ops-loyalty")),
            MenuItem(str(_("Payments")), reverse("ops-pay-payments")),
            MenuItem(str(_("Navigation")), reverse("nav-ops")),
            MenuItem(str(_("Car parks")), reverse("parking-ops")),
        ]
    if actor.is_government:
        items.append(MenuItem(str(_("Government")), reverse("portal:gov-home")))
        items.append(MenuItem(str(_("Parking overview")), reverse("parking-gov")))
    if actor.is_admin:
        items.append(MenuItem(str(_("Admin")), reverse("admin:index")))
    if actor.user is not None and not actor.is_staff_role:
        items.append(MenuItem(str(_("Member card")), reverse("members:card")))
        items.append(MenuItem(str(_("My orders")), reverse("pay-my-orders")))
        items.append(MenuItem(str(_("My vehicles")), reverse("parking-me")))
        items.append(MenuItem(str(_("My data & consents")), reverse("portal:my-data")))
    if actor.user is None:
        items.append(MenuItem(str(_("Open a shop")), reverse("portal:apply")))
    # the one item whose address is the longest prefix of the current path is the active one
    path = request.path
    matches = [i for i in items if path == i.url or (i.url != "/" and path.startswith(i.url))]
    if matches:
        max(matches, key=lambda i: len(i.url)).active = True
    return items
