"""Helpers shared by the page views: the actor, role gates, NotFound → 404, safe redirects,
QR codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as PageDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache

from agora.accounts.actor import Actor
from agora.core.errors import NotFound
from agora.portal.menus import request_actor


def actor_of(request: HttpRequest) -> Actor:
    return request_actor(request)


def visible[**P, T](fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call an ``access_*`` selector; what the actor may not see is a plain 404."""
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise Http404(exc.detail) from None


ConsoleView = Callable[..., HttpResponse]


def console(check: Callable[[Actor], bool]) -> Callable[[ConsoleView], ConsoleView]:
    """A page for one kind of staff: anonymous visitors go to the staff sign-in, signed-in
    people without the role get a 404 (the page does not exist for them)."""

    def decorate(view: ConsoleView) -> ConsoleView:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("portal:staff-login"))
            actor = actor_of(request)
            if not check(actor):
                raise Http404("no such page")
            return view(request, actor, *args, **kwargs)

        return wrapper

    return decorate


def is_operator(actor: Actor) -> bool:
    return actor.is_operator or actor.is_admin


def operator_page(view: ConsoleView) -> ConsoleView:
    """Mall and district operators (and admins); anonymous visitors go to the staff sign-in,
    other signed-in people get 403. Never cached."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:staff-login"))
        actor = actor_of(request)
        if not is_operator(actor):
            raise PageDenied("operators only")
        return view(request, actor, *args, **kwargs)

    return wrapper


def qr_svg(text: str, *, label: str, scale: int = 4, css: str = "qr") -> SafeString:
    """An inline SVG QR code (segno) that scales with its box; segno escapes the text."""
    svg = segno.make(text, error="m").svg_inline(
        scale=scale, border=2, omitsize=True, svgclass=css, title=label
    )
    return mark_safe(svg)  # noqa: S308 (drawn and escaped by segno)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
