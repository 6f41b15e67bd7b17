"""The operators' parking pages (PARK-4, PARK-5), for mall and district operators:

* ``/ops/parking/`` — goes to the first car park the operator runs (a picker on every page);
* ``/ops/parking/<id>/`` — now: free spaces (live, server-sent events), the cars parked with
  their fee so far, the review queue (match a read to a stay, or dismiss it with a note), and
  voiding a wrong stay;
* ``/ops/parking/<id>/tariffs/`` — every tariff version (never edited) and a form to publish
  the next one;
* ``/ops/parking/<id>/paging/`` — page a car's owner (app and SMS), and the log of pages with
  each delivery;
* ``/ops/parking/<id>/analytics/`` (and ``analytics.csv``) — occupancy, turnover, stays,
  revenue, discounts, review and ingest figures for a date range, drawn with ECharts and in
  tables (the page works without JavaScript).

Anonymous visitors go to the staff sign-in. A car park the signed-in person does not operate
(another mall's, or any for a shopper, merchant or officer) is a 404, exactly like a missing
one (ADR 0006); ``/ops/parking/`` itself is 403 for people who operate nothing, like the other
operators' consoles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as PageDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agora.accounts.actor import Actor
from agora.core.errors import DomainError, FieldError, NotFound
from agora.lib.money import format_fen
from agora.lib.timeutil import to_local
from agora.parking.choices import (
    DeliveryChannel,
    DeliveryStatus,
    DiscountKind,
    EventOutcome,
    PageReason,
    PayChannel,
    ReviewKind,
    ReviewStatus,
    SessionStatus,
)
from agora.parking.selectors import (
    access_car_park,
    access_review,
    availability_of,
    car_parks_managed,
    reviews_open,
    session_by_plate,
)
from agora.parking.selectors_analytics import (
    ParkingAnalytics,
    analytics_csv,
    analytics_range,
    car_park_analytics,
    pages_of,
    session_of_car_park,
    sessions_by_id,
    stays_open,
    tariffs_of,
)
from agora.parking.services.charging import session_quote
from agora.parking.services.ops import (
    page_send,
    review_dismiss,
    review_match,
    session_void,
    tariff_publish,
)
from agora.portal.errors import translate_detail, translate_field_error
from agora.portal.views.common import actor_of, is_operator, visible

STAYS_SHOWN = 100
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
TABS = [
    ("live", "parking-ops-live", gettext_lazy("Now")),
    ("tariffs", "parking-ops-tariffs", gettext_lazy("Tariffs")),
    ("paging", "parking-ops-paging", gettext_lazy("Emergency paging")),
    ("analytics", "parking-ops-analytics", gettext_lazy("Analytics")),
]

OpsView = Callable[..., HttpResponse]


def signed_in(view: OpsView) -> OpsView:
    """Staff pages: anonymous visitors go to the staff sign-in; never cached."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:staff-login"))
        return view(request, actor_of(request), *args, **kwargs)

    return wrapper


def _car_park(actor: Actor, car_park_id: int) -> Any:
    return visible(access_car_park, actor=actor, car_park_id=car_park_id)


def _context(actor: Actor, car_park: Any, tab: str) -> dict[str, Any]:
    return {
        "car_park": car_park,
        "car_parks": list(car_parks_managed(actor=actor)),
        "tab": tab,
        "tabs": [
            {
                "key": key,
                "label": label,
                "url": reverse(name, args=[car_park.pk]),
                "active": key == tab,
            }
            for key, name, label in TABS
        ],
    }


def _labels(choices: list[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _detail(exc: DomainError) -> str:
    known = {
        "review_closed": _("This item was resolved meanwhile."),
        "session_closed": _("This stay has ended already."),
    }
    return known.get(exc.code) or translate_detail(exc)


def _messages_of(exc: DomainError, own: dict[str, str] | None = None) -> list[str]:
    """Every error of ``exc`` as one line each (our own words for the fields we know)."""
    own = own or {}
    if not exc.errors:
        return [_detail(exc)]
    return [own.get(e.field) or translate_field_error(e) for e in exc.errors]


# --- the car-park picker ----------------------------------------------------------------------
@require_GET
@signed_in
def ops_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    if not is_operator(actor):
        raise PageDenied("operators only")
    raw = request.GET.get("car_park", "")
    if raw.isdigit():
        car_park = _car_park(actor, int(raw))
        return redirect("parking-ops-live", car_park.pk)
    first = car_parks_managed(actor=actor).first()
    if first is None:
        return render(request, "parking/ops_none.html", {})
    return redirect("parking-ops-live", first.pk)


# --- now: live spaces, stays, reviews -----------------------------------------------------------
def _stays(car_park: Any, now: datetime) -> tuple[list[dict[str, Any]], int]:
    statuses = _labels(SessionStatus.choices)
    qs = stays_open(car_park=car_park)
    total = qs.count()
    rows = []
    for s in qs[:STAYS_SHOWN]:
        quote = session_quote(session=s, at=now)
        rows.append(
            {
                "s": s,
                "status_label": statuses.get(s.status, s.status),
                "level": s.floor.name if s.floor is not None else "",
                "space": s.space.code if s.space is not None else "",
                "minutes": quote.stay_minutes,
                "fee_fen": quote.fee.total_fen,
                "due_fen": quote.due_fen,
                "fee": format_fen(quote.fee.total_fen),
                "due": format_fen(quote.due_fen),
            }
        )
    return rows, total


def _reviews(car_park: Any) -> list[dict[str, Any]]:
    kinds = _labels(ReviewKind.choices)
    items = list(reviews_open(car_park=car_park))
    ids = [int(c[0]) for r in items for c in (r.candidates or []) if c]
    sessions = sessions_by_id(car_park=car_park, ids=ids)
    out = []
    for r in items:
        candidates = []
        for pair in r.candidates or []:
            s = sessions.get(int(pair[0]))
            if s is None:
                continue
            candidates.append(
                {
                    "s": s,
                    "score": f"{float(pair[1]):.2f}",
                    "open": s.status in (SessionStatus.PARKED, SessionStatus.AWAITING_PAYMENT),
                }
            )
        out.append({"r": r, "kind_label": kinds.get(r.kind, r.kind), "candidates": candidates})
    return out


def _live_page(
    request: HttpRequest,
    actor: Actor,
    car_park: Any,
    *,
    review_errors: dict[int, list[str]] | None = None,
    void_errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    stays, total = _stays(car_park, now)
    reviews = _reviews(car_park)
    for row in stays:
        row["errors"] = (void_errors or {}).get(row["s"].pk, [])
    for item in reviews:
        item["errors"] = (review_errors or {}).get(item["r"].pk, [])
    shown = {("s", row["s"].pk) for row in stays} | {("r", item["r"].pk) for item in reviews}
    general = [
        text
        for kind, errors in (("s", void_errors or {}), ("r", review_errors or {}))
        for pk, texts in errors.items()
        if (kind, pk) not in shown
        for text in texts
    ]
    context = {
        **_context(actor, car_park, "live"),
        "availability": availability_of(car_park_id=car_park.pk),
        "live_url": reverse("parking-live", args=[car_park.code]),
        "stays": stays,
        "stays_total": total,
        "stays_more": max(0, total - len(stays)),
        "reviews": reviews,
        "general_errors": general,
        "now": now,
    }
    return render(request, "parking/ops_live.html", context, status=status)


@require_GET
@signed_in
def ops_live(request: HttpRequest, actor: Actor, car_park_id: int) -> HttpResponse:
    return _live_page(request, actor, _car_park(actor, car_park_id))


def _review_of(actor: Actor, car_park: Any, review_id: int) -> Any:
    review = visible(access_review, actor=actor, review_id=review_id)
    if review.car_park_id != car_park.pk:
        raise NotFound(detail="no such review item")
    return review


@require_POST
@signed_in
def ops_review_match(
    request: HttpRequest, actor: Actor, car_park_id: int, review_id: int
) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    review = visible(_review_of, actor, car_park, review_id)
    raw = request.POST.get("session_id", "").strip()
    plate = request.POST.get("plate", "").strip()
    try:
        if raw.isdigit():
            session_id = int(raw)
        elif plate:
            try:
                session_id = session_by_plate(car_park=car_park, plate=plate).pk
            except NotFound:
                raise FieldErrorPage(_("No car with this plate is in the car park.")) from None
        else:
            raise FieldErrorPage(_("Pick a stay, or enter the plate of a car in the car park."))
        session = review_match(actor=actor, review=review, session_id=session_id)
    except FieldErrorPage as exc:
        return _live_page(
            request, actor, car_park, review_errors={review.pk: [exc.text]}, status=400
        )
    except DomainError as exc:
        own = {"session_id": _("Pick an open stay of this car park that entered before this read.")}
        return _live_page(
            request, actor, car_park, review_errors={review.pk: _messages_of(exc, own)}, status=400
        )
    label = session.plate or session.ticket or ""
    if session.status == SessionStatus.CLOSED:
        text = _("Matched: %(plate)s has left.") % {"plate": label}
    else:
        text = _("Matched: %(plate)s is at the exit, %(fee)s to pay.") % {
            "plate": label,
            "fee": format_fen(session_quote(session=session).due_fen),
        }
    messages.success(request, text)
    return redirect(reverse("parking-ops-live", args=[car_park.pk]) + "#reviews")


class FieldErrorPage(Exception):
    """A form mistake found by the view itself (shown like a service's field error)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@require_POST
@signed_in
def ops_review_dismiss(
    request: HttpRequest, actor: Actor, car_park_id: int, review_id: int
) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    review = visible(_review_of, actor, car_park, review_id)
    try:
        review_dismiss(actor=actor, review=review, note=request.POST.get("note", ""))
    except DomainError as exc:
        own = {"note": _("Say why it is dismissed (1 to 200 characters).")}
        return _live_page(
            request, actor, car_park, review_errors={review.pk: _messages_of(exc, own)}, status=400
        )
    messages.success(
        request,
        _("Dismissed the read of %(time)s.")
        % {"time": to_local(review.occurred_at).strftime("%H:%M:%S")},
    )
    return redirect(reverse("parking-ops-live", args=[car_park.pk]) + "#reviews")


@require_POST
@signed_in
def ops_session_void(
    request: HttpRequest, actor: Actor, car_park_id: int, session_id: int
) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    session = visible(session_of_car_park, car_park=car_park, session_id=session_id)
    try:
        session_void(actor=actor, session=session, note=request.POST.get("note", ""))
    except DomainError as exc:
        own = {"note": _("Say why the stay is voided (1 to 200 characters).")}
        return _live_page(
            request, actor, car_park, void_errors={session.pk: _messages_of(exc, own)}, status=400
        )
    messages.success(
        request, _("Voided the stay of %(plate)s.") % {"plate": session.plate or session.ticket}
    )
    return redirect(reverse("parking-ops-live", args=[car_park.pk]) + "#stays")


# --- tariffs ----------------------------------------------------------------------------------
def _yuan_field(label: Any, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_value=10000,
        max_digits=7,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class TariffForm(forms.Form):
    valid_from = forms.DateTimeField(
        label=gettext_lazy("Valid from"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=gettext_lazy("Stays that enter from this moment on pay this version."),
    )
    free_minutes = forms.IntegerField(
        label=gettext_lazy("Free minutes"), min_value=0, max_value=1440
    )
    unit_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes per charging unit"), min_value=1, max_value=240
    )
    day_unit = _yuan_field(gettext_lazy("Price per unit by day (yuan)"), required=True)
    day_cap = _yuan_field(gettext_lazy("Daily cap (yuan, 0: none)"))
    night_start = forms.TimeField(
        label=gettext_lazy("Night starts"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    night_end = forms.TimeField(
        label=gettext_lazy("Night ends"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    night_unit = _yuan_field(gettext_lazy("Price per unit at night (yuan)"))
    night_cap = _yuan_field(gettext_lazy("Night cap (yuan, 0: none)"))
    holiday_unit = _yuan_field(gettext_lazy("Price per unit on rest days (yuan, 0: as by day)"))
    holiday_cap = _yuan_field(gettext_lazy("Rest-day cap (yuan, 0: none)"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)


#: the service's argument → the form's field
TARIFF_FIELDS = {
    "valid_from": "valid_from",
    "free_minutes": "free_minutes",
    "unit_minutes": "unit_minutes",
    "day_unit_fen": "day_unit",
    "day_cap_fen": "day_cap",
    "night_start": "night_start",
    "night_end": "night_end",
    "night_unit_fen": "night_unit",
    "night_cap_fen": "night_cap",
    "holiday_unit_fen": "holiday_unit",
    "holiday_cap_fen": "holiday_cap",
    "note": "note",
}


def _tariff_messages() -> dict[str, str]:
    money = _("From 0 to 10000 yuan.")
    return {
        "valid_from": _("Now or later: published versions are never rewritten."),
        "free_minutes": _("From 0 to 1440 minutes."),
        "unit_minutes": _("From 1 to 240 minutes."),
        "day_unit_fen": money,
        "day_cap_fen": money,
        "night_unit_fen": money,
        "night_cap_fen": money,
        "holiday_unit_fen": money,
        "holiday_cap_fen": money,
        "night_end": _(
            "Give both the start and the end of the night (different times), or neither."
        ),
        "note": _("At most 200 characters."),
    }


def _fen(value: Any) -> int:
    return int((value or 0) * 100)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _tariff_initial(current: Any, now: datetime) -> dict[str, Any]:
    start = to_local(now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if current is None:
        return {"valid_from": start, "free_minutes": 15, "unit_minutes": 15}
    return {
        "valid_from": start,
        "free_minutes": current.free_minutes,
        "unit_minutes": current.unit_minutes,
        "day_unit": _yuan(current.day_unit_fen),
        "day_cap": _yuan(current.day_cap_fen),
        "night_start": current.night_start,
        "night_end": current.night_end,
        "night_unit": _yuan(current.night_unit_fen),
        "night_cap": _yuan(current.night_cap_fen),
        "holiday_unit": _yuan(current.holiday_unit_fen),
        "holiday_cap": _yuan(current.holiday_cap_fen),
    }


def _tariffs_page(
    request: HttpRequest, actor: Actor, car_park: Any, form: TariffForm | None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    versions = list(tariffs_of(car_park=car_park))
    in_force = next((t for t in versions if t.valid_from <= now), None)
    if in_force is None and versions:
        in_force = versions[-1]
    if form is None:
        form = TariffForm(initial=_tariff_initial(versions[0] if versions else None, now))
    context = {
        **_context(actor, car_park, "tariffs"),
        "form": form,
        "versions": [
            {
                "t": t,
                "in_force": in_force is not None and t.pk == in_force.pk,
                "upcoming": t.valid_from > now,
                "day_unit": format_fen(t.day_unit_fen),
                "day_cap": format_fen(t.day_cap_fen) if t.day_cap_fen else "",
                "night_unit": format_fen(t.night_unit_fen),
                "night_cap": format_fen(t.night_cap_fen) if t.night_cap_fen else "",
                "holiday_unit": format_fen(t.holiday_unit_fen) if t.holiday_unit_fen else "",
                "holiday_cap": format_fen(t.holiday_cap_fen) if t.holiday_cap_fen else "",
            }
            for t in versions
        ],
    }
    return render(request, "parking/ops_tariffs.html", context, status=status)


@require_http_methods(["GET", "POST"])
@signed_in
def ops_tariffs(request: HttpRequest, actor: Actor, car_park_id: int) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    if request.method != "POST":
        return _tariffs_page(request, actor, car_park, None)
    form = TariffForm(request.POST)
    if not form.is_valid():
        return _tariffs_page(request, actor, car_park, form, status=400)
    data = form.cleaned_data
    try:
        tariff = tariff_publish(
            actor=actor,
            car_park=car_park,
            valid_from=data["valid_from"],
            free_minutes=data["free_minutes"],
            unit_minutes=data["unit_minutes"],
            day_unit_fen=_fen(data["day_unit"]),
            day_cap_fen=_fen(data.get("day_cap")),
            night_start=data.get("night_start"),
            night_end=data.get("night_end"),
            night_unit_fen=_fen(data.get("night_unit")),
            night_cap_fen=_fen(data.get("night_cap")),
            holiday_unit_fen=_fen(data.get("holiday_unit")),
            holiday_cap_fen=_fen(data.get("holiday_cap")),
            note=data.get("note") or "",
        )
    except DomainError as exc:
        own = _tariff_messages()
        for error in exc.errors or [FieldError("", exc.detail)]:
            name = TARIFF_FIELDS.get(error.field)
            text = own.get(error.field) or (
                translate_field_error(error) if exc.errors else _detail(exc)
            )
            form.add_error(name, text)
        return _tariffs_page(request, actor, car_park, form, status=400)
    messages.success(
        request,
        _("Published version %(version)s, valid from %(when)s.")
        % {
            "version": tariff.version,
            "when": to_local(tariff.valid_from).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return redirect("parking-ops-tariffs", car_park.pk)


# --- paging -----------------------------------------------------------------------------------
class PageForm(forms.Form):
    plate = forms.CharField(
        label=gettext_lazy("Plate"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "粤B12345", "autocomplete": "off"}),
    )
    reason = forms.ChoiceField(
        label=pgettext_lazy("parking page", "Reason"), choices=PageReason.choices
    )
    text = forms.CharField(
        label=gettext_lazy("Message (optional; needed for “Other”)"),
        required=False,
        max_length=120,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _paging_page(
    request: HttpRequest, actor: Actor, car_park: Any, form: PageForm | None, status: int = 200
) -> HttpResponse:
    reasons = _labels(PageReason.choices)
    channels = _labels(DeliveryChannel.choices)
    statuses = _labels(DeliveryStatus.choices)
    pages = [
        {
            "p": p,
            "reason_label": reasons.get(p.reason, p.reason),
            "deliveries": [
                {
                    "d": d,
                    "channel_label": channels.get(d.channel, d.channel),
                    "status_label": statuses.get(d.status, d.status),
                }
                for d in p.deliveries.all()
            ],
        }
        for p in pages_of(car_park=car_park)
    ]
    context = {
        **_context(actor, car_park, "paging"),
        "form": form or PageForm(initial={"plate": request.GET.get("plate", "")[:20]}),
        "pages": pages,
    }
    return render(request, "parking/ops_paging.html", context, status=status)


@require_http_methods(["GET", "POST"])
@signed_in
def ops_paging(request: HttpRequest, actor: Actor, car_park_id: int) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    if request.method != "POST":
        return _paging_page(request, actor, car_park, None)
    form = PageForm(request.POST)
    if not form.is_valid():
        return _paging_page(request, actor, car_park, form, status=400)
    data = form.cleaned_data
    try:
        page = page_send(
            actor=actor,
            car_park=car_park,
            plate=data["plate"],
            reason=data["reason"],
            text=data.get("text") or "",
        )
    except DomainError as exc:
        own = {
            "plate": _("Enter a plate such as 粤B12345."),
            "text": _("Say what the owner should do (at most 120 characters)."),
        }
        names = set(form.fields)
        for error in exc.errors:
            form.add_error(
                error.field if error.field in names else None,
                own.get(error.field) or translate_field_error(error),
            )
        if not exc.errors:
            form.add_error(None, _detail(exc))
        return _paging_page(request, actor, car_park, form, status=400)
    sent = page.deliveries.filter(status=DeliveryStatus.SENT).count()
    if sent:
        messages.success(
            request,
            _("Paged the owner of %(plate)s: %(count)s messages sent.")
            % {"plate": page.plate, "count": sent},
        )
    else:
        messages.warning(
            request,
            _("Nobody could be reached for %(plate)s: use the car park's loudspeaker.")
            % {"plate": page.plate},
        )
    return redirect("parking-ops-paging", car_park.pk)


# --- analytics --------------------------------------------------------------------------------
def _range(request: HttpRequest) -> tuple[date, date, list[str]]:
    today = timezone.localdate()
    try:
        start, end = analytics_range(
            raw_from=request.GET.get("from", ""), raw_to=request.GET.get("to", ""), today=today
        )
    except DomainError as exc:
        own = {
            "from": _("Enter a date such as 2026-06-09."),
            "to": _("The last day: on or after the first, at most 92 days in all."),
        }
        return today - timedelta(days=6), today, _messages_of(exc, own)
    return start, end, []


def review_status_labels() -> list[tuple[str, str]]:
    """Our own words (with a context): the bare "Open" and "Applied" mean other things
    elsewhere in the catalog."""
    return [
        (ReviewStatus.OPEN.value, pgettext("parking review", "Waiting for an operator")),
        (ReviewStatus.MATCHED.value, pgettext("parking review", "Matched to a stay")),
        (ReviewStatus.DISMISSED.value, pgettext("parking review", "Dismissed")),
    ]


def event_outcome_labels() -> list[tuple[str, str]]:
    return [
        (EventOutcome.APPLIED.value, pgettext("parking event", "Applied")),
        (EventOutcome.STALE.value, pgettext("parking event", "Older than the state")),
        (EventOutcome.REVIEW.value, pgettext("parking event", "Sent to review")),
        (EventOutcome.REJECTED.value, pgettext("parking event", "Rejected")),
    ]


def _bucket_label(low: int, high: int | None) -> str:
    def span(minutes: int) -> str:
        if minutes < 60:
            return _("%(n)s min") % {"n": minutes}
        return _("%(n)s h") % {"n": minutes // 60}

    if high is None:
        return _("%(from)s or more") % {"from": span(low)}
    if low == 0:
        return _("under %(to)s") % {"to": span(high)}
    return f"{span(low)}–{span(high)}"


def _chart_data(a: ParkingAnalytics) -> dict[str, Any]:
    channels = _labels(PayChannel.choices)
    kinds = _labels(DiscountKind.choices)
    return {
        "hours": [f"{h:02d}" for h in range(24)],
        "occupancy": {
            "avg": [float(f.avg_cars) for f in a.by_hour],
            "peak": [f.peak_cars for f in a.by_hour],
            "capacity": a.capacity,
            "labels": {"avg": _("Average cars"), "peak": _("Peak cars")},
        },
        "days": [d.day.strftime("%m-%d") for d in a.days],
        "revenue": [
            {
                "key": channel,
                "name": label,
                "data": [d.revenue_fen[channel] / 100 for d in a.days],
            }
            for channel, label in channels.items()
        ],
        "stays": {
            "labels": [_bucket_label(b.low, b.high) for b in a.stay_buckets],
            "data": [b.count for b in a.stay_buckets],
            "name": _("Stays"),
        },
        "discounts": [
            {"name": kinds.get(d.kind, d.kind), "value": d.count} for d in a.discounts if d.count
        ],
        "empty": _("No data in this range"),
    }


@require_GET
@signed_in
def ops_analytics(request: HttpRequest, actor: Actor, car_park_id: int) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    start, end, errors = _range(request)
    a = car_park_analytics(car_park=car_park, day_from=start, day_to=end)
    channels = _labels(PayChannel.choices)
    kinds = _labels(DiscountKind.choices)
    context = {
        **_context(actor, car_park, "analytics"),
        "a": a,
        "errors": errors,
        "day_from": start,
        "day_to": end,
        "csv_query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
        "charts": _chart_data(a),
        "channels": [(c, channels[c]) for c in channels],
        "revenue_total": format_fen(a.revenue_total_fen),
        "revenue_by_channel": [
            {
                "key": c,
                "label": label,
                "fen": a.revenue_fen[c],
                "money": format_fen(a.revenue_fen[c]),
            }
            for c, label in channels.items()
        ],
        "revenue_days": [
            {
                "d": d,
                "cells": [format_fen(d.revenue_fen[c]) for c in channels],
                "total": format_fen(d.revenue_total_fen),
            }
            for d in a.days
        ],
        "buckets": [
            {"label": _bucket_label(b.low, b.high), "count": b.count, "low": b.low}
            for b in a.stay_buckets
        ],
        "discounts": [
            {
                "d": d,
                "label": kinds.get(d.kind, d.kind),
                "money": format_fen(d.fen),
            }
            for d in a.discounts
        ],
        "review_statuses": [
            (s, label, a.reviews_by_status.get(s, 0)) for s, label in review_status_labels()
        ],
        "review_kinds": [
            (k, label, a.reviews_by_kind.get(k, 0)) for k, label in ReviewKind.choices
        ],
        "event_outcomes": [
            (o, label, a.events_by_outcome.get(o, 0)) for o, label in event_outcome_labels()
        ],
    }
    return render(request, "parking/ops_analytics.html", context, status=400 if errors else 200)


@require_GET
@signed_in
def ops_analytics_csv(request: HttpRequest, actor: Actor, car_park_id: int) -> HttpResponse:
    car_park = _car_park(actor, car_park_id)
    start, end, errors = _range(request)
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    a = car_park_analytics(car_park=car_park, day_from=start, day_to=end)
    name = f"parking-{car_park.code}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    response = HttpResponse(
        ("\ufeff" + analytics_csv(a)).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
