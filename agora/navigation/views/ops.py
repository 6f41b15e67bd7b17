"""The operators' navigation page (/ops/navigation/): closures in force with a button to reopen,
a form to close an area (mall → floor → zone) or a link (lift, escalator, stairs, walk), and the
guide kiosks with their online status. Mall operators see their malls; district operators and
admins all of them. Shoppers, merchants and government officers get 403; anonymous visitors the
staff sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from agora.accounts.actor import Actor
from agora.core.errors import DomainError
from agora.district.choices import ZoneKind
from agora.district.selectors import floors_of_mall, malls_public, zones_of_floor
from agora.navigation.choices import LinkKind
from agora.navigation.selectors import (
    closures_list,
    default_district,
    kiosk_online,
    kiosks_list,
    links_list,
)
from agora.navigation.services.closures import closure_create, closure_lift
from agora.portal.errors import add_to_form, translate_detail
from agora.portal.views.common import operator_page

OpsView = Callable[..., HttpResponse]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def district_wide(actor: Actor, district_id: int) -> bool:
    return actor.is_admin or district_id in actor.district_operator_ids


def _malls(actor: Actor) -> list[Any]:
    qs = malls_public()
    if not actor.is_admin:
        qs = qs.filter(id__in=actor.operated_mall_ids)
    return list(qs)


def _pick(raw: Any, rows: list[Any], default: Any | None = None) -> Any | None:
    chosen = next((r for r in rows if str(r.pk) == str(raw)), None)
    return chosen or default or (rows[0] if rows else None)


class ClosureForm(forms.Form):
    mall = forms.ChoiceField(label=gettext_lazy("Mall"))
    floor = forms.ChoiceField(label=gettext_lazy("Floor"))
    target = forms.ChoiceField(label=gettext_lazy("Area or link to close"))
    reason = forms.CharField(
        label=gettext_lazy("Reason (shoppers see it)"),
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. floor cleaning")}),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until (optional)"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=gettext_lazy("Empty: closed until someone reopens it."),
    )

    def __init__(
        self,
        *args: Any,
        malls: list[Any],
        floors: list[Any],
        zones: list[Any],
        links: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._field("mall").choices = [(str(m.pk), m.name) for m in malls]
        self._field("floor").choices = [(str(f.pk), f.name) for f in floors]
        kinds = dict(ZoneKind.choices)
        link_kinds = dict(LinkKind.choices)
        zone_choices = [
            (f"zone:{z.pk}", f"{z.code} {z.name} · {kinds.get(z.kind, z.kind)}") for z in zones
        ]
        link_choices = [
            (f"link:{lk.pk}", f"{lk.name} ({lk.code}) · {link_kinds.get(lk.kind, lk.kind)}")
            for lk in links
        ]
        self.labels = dict(zone_choices + link_choices)
        choices: list[Any] = [("", "---------")]
        if zone_choices:
            choices.append((str(_("Areas of this floor")), zone_choices))
        if link_choices:
            choices.append((str(_("Lifts, escalators, stairs and walks")), link_choices))
        self._field("target").choices = choices

    def _field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def target_label(self) -> str:
        value = self.cleaned_data["target"]
        return self.labels.get(value, value)

    def target_ids(self) -> tuple[int | None, int | None]:
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        return (int(pk), None) if kind == "zone" else (None, int(pk))


def _target_label(closure: Any) -> str:
    if closure.zone is not None:
        z = closure.zone
        return f"{z.floor.mall.name} {z.floor.name} · {z.code} {z.name}"
    if closure.link is not None:
        return f"{closure.link.name} ({closure.link.code})"
    return "—"


def _closure_form(
    request: HttpRequest, actor: Actor, district_id: int, data: Any | None
) -> ClosureForm:
    """The form with its choices for the mall and floor picked (in ``data`` or the query)."""
    source = data if data is not None else request.GET
    malls = _malls(actor)
    mall = _pick(source.get("mall", ""), malls)
    floors = list(floors_of_mall(mall=mall)) if mall is not None else []
    ground = next((f for f in floors if f.level == 1), None)  # where most closures happen
    floor = _pick(source.get("floor", ""), floors, ground)
    zones = list(zones_of_floor(floor=floor)) if floor is not None else []
    everywhere = district_wide(actor, district_id)
    links = [
        lk
        for lk in links_list(district_id=district_id)
        if (mall is not None and lk.mall_id == mall.pk) or (lk.mall_id is None and everywhere)
    ]
    initial = {
        "mall": str(mall.pk) if mall else "",
        "floor": str(floor.pk) if floor else "",
        "reason": request.GET.get("reason", "")[:120],
    }
    if data is not None:
        # a changed mall or floor moves the choices: bind them to what is shown
        data = data.copy()
        data["mall"] = initial["mall"]
        data["floor"] = initial["floor"]
    return ClosureForm(data, initial=initial, malls=malls, floors=floors, zones=zones, links=links)


@require_http_methods(["GET", "POST"])
@operator_page
def ops_navigation(request: HttpRequest, actor: Actor) -> HttpResponse:
    district = default_district()
    if request.method == "POST":
        form = _closure_form(request, actor, district.pk, request.POST)
        if form.is_valid():
            zone_id, link_id = form.target_ids()
            try:
                closure_create(
                    actor=actor,
                    zone_id=zone_id,
                    link_id=link_id,
                    reason=form.cleaned_data["reason"],
                    ends_at=form.cleaned_data["ends_at"],
                )
            except DomainError as exc:
                add_to_form(form, exc, aliases={"zone_id": "target", "link_id": "target"})
            else:
                messages.success(
                    request,
                    _("Closed: %(target)s. Routes avoid it from now on.")
                    % {"target": form.target_label()},
                )
                query = urlencode({"mall": form.data["mall"], "floor": form.data["floor"]})
                return redirect(f"{reverse('nav-ops')}?{query}")
    else:  # a page, or the form again for another mall or floor
        form = _closure_form(request, actor, district.pk, None)
    qs = closures_list(district_id=district.pk)
    if not district_wide(actor, district.pk):
        qs = qs.filter(mall_id__in=actor.operated_mall_ids)
    closures = [{"closure": c, "target": _target_label(c)} for c in qs]
    mall_ids = None if district_wide(actor, district.pk) else list(actor.operated_mall_ids)
    kiosks = [{"kiosk": k, "online": kiosk_online(k)} for k in kiosks_list(mall_ids=mall_ids)]
    return render(
        request,
        "navigation/ops_navigation.html",
        {"form": form, "closures": closures, "kiosks": kiosks},
    )


@require_POST
@operator_page
def ops_reopen(request: HttpRequest, actor: Actor, closure_id: int) -> HttpResponse:
    try:
        closure = closure_lift(actor=actor, closure_id=closure_id)
    except DomainError as exc:
        messages.error(request, translate_detail(exc))
    else:
        messages.success(request, _("Reopened: %(reason)s") % {"reason": closure.reason})
    return redirect("nav-ops")
