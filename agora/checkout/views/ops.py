"""The operators' payments console (/ops/payments/), for mall and district operators:

* Payments — the recent payments of the operator's malls, filtered by status and method,
  searched by payment or order number;
* Notifications — every provider notification with its verdict, forged, stale and duplicate
  ones highlighted (district operators and admins only);
* Reconciliation — run a provider's day against its bill; the runs with their mismatches;
* Settlement — per shop and day: sales by method, refunds, coupons, points and what the
  district owes the merchant, with a CSV download (UTF-8 with a BOM, for Excel).

Merchants, government officers and shoppers get 403; anonymous visitors the staff sign-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied as PageDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.checkout import selectors as sel
from agora.checkout.choices import Method, MismatchKind, NoticeVerdict, PaymentStatus
from agora.checkout.forms_shopper import ReconcileForm, SettlementForm, settlement_initial
from agora.checkout.providers import providers_configured
from agora.checkout.selectors_settlement import SettlementRow, settlement, settlement_csv
from agora.checkout.services import reconcile
from agora.core.errors import DomainError
from agora.core.selectors import page_of
from agora.district.selectors import malls_public, shops_managed
from agora.portal.views.common import operator_page

PAGE_SIZE = 50
RUNS_SHOWN = 20
ALERT_VERDICTS = frozenset({NoticeVerdict.FORGED, NoticeVerdict.STALE, NoticeVerdict.DUPLICATE})
TABS = [
    ("payments", "ops-pay-payments", gettext_lazy("Payments")),
    ("notices", "ops-pay-notices", gettext_lazy("Notifications")),
    ("reconcile", "ops-pay-reconcile", gettext_lazy("Reconciliation")),
    ("settlement", "ops-pay-settlement", gettext_lazy("Settlement")),
]

OpsView = Callable[..., HttpResponse]


def sees_notices(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.district_operator_ids)


def _malls(actor: Actor) -> list[Any]:
    qs = malls_public()
    if not actor.is_admin:
        qs = qs.filter(id__in=actor.operated_mall_ids)
    return list(qs)


def _picked_mall(request: HttpRequest, malls: list[Any]) -> Any | None:
    raw = request.GET.get("mall", "") or request.POST.get("mall", "")
    return next((m for m in malls if str(m.pk) == raw), None)


def _context(actor: Actor, tab: str) -> dict[str, Any]:
    return {
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": reverse(name), "active": key == tab}
            for key, name, label in TABS
            if key != "notices" or sees_notices(actor)
        ],
    }


def _labels(choices: list[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


# --- payments ----------------------------------------------------------------------------------
@require_GET
@operator_page
def payments_tab(request: HttpRequest, actor: Actor) -> HttpResponse:
    malls = _malls(actor)
    mall = _picked_mall(request, malls)
    if mall is not None:
        mall_ids: set[int] | None = {mall.pk}
    else:
        mall_ids = None if actor.is_admin else set(actor.operated_mall_ids)
    status = request.GET.get("status", "")
    status = status if status in PaymentStatus.values else ""
    method = request.GET.get("method", "")
    method = method if method in Method.values else ""
    q = request.GET.get("q", "").strip()[:40]
    qs = sel.payments_of_malls(mall_ids=mall_ids)
    if status:
        qs = qs.filter(status=status)
    if method:
        qs = qs.filter(method=method)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(order__number__icontains=q))
    try:
        page = page_of(
            qs, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE, newest_first=True
        )
    except DomainError:
        raise Http404("bad cursor") from None
    methods = _labels(Method.choices)
    statuses = _labels(PaymentStatus.choices)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        **_context(actor, "payments"),
        "malls": malls,
        "mall": mall,
        "status": status,
        "method": method,
        "q": q,
        "status_choices": list(statuses.items()),
        "method_choices": list(methods.items()),
        "rows": [
            {
                "p": p,
                "method_label": methods.get(p.method, p.method),
                "status_label": statuses.get(p.status, p.status),
            }
            for p in page.items
        ],
        "next_cursor": page.next_cursor,
        "query": query.urlencode(),
    }
    return render(request, "checkout/ops/payments.html", context)


# --- notifications -----------------------------------------------------------------------------
@require_GET
@operator_page
def notices_tab(request: HttpRequest, actor: Actor) -> HttpResponse:
    if not sees_notices(actor):
        raise PageDenied("district operators only")
    verdict = request.GET.get("verdict", "")
    verdict = verdict if verdict in NoticeVerdict.values else ""
    qs = sel.notices_recent()
    if verdict:
        qs = qs.filter(verdict=verdict)
    try:
        page = page_of(
            qs, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE, newest_first=True
        )
    except DomainError:
        raise Http404("bad cursor") from None
    verdicts = _labels(NoticeVerdict.choices)
    verdicts[NoticeVerdict.APPLIED] = pgettext("notice verdict", "Applied")
    context = {
        **_context(actor, "notices"),
        "verdict": verdict,
        "verdict_choices": list(verdicts.items()),
        "rows": [
            {
                "n": n,
                "verdict_label": verdicts.get(n.verdict, n.verdict),
                "alert": n.verdict in ALERT_VERDICTS,
            }
            for n in page.items
        ],
        "next_cursor": page.next_cursor,
        "verdict_query": f"verdict={verdict}&" if verdict else "",
    }
    return render(request, "checkout/ops/notices.html", context)


# --- reconciliation ----------------------------------------------------------------------------
def _runs() -> list[dict[str, Any]]:
    kinds = _labels(MismatchKind.choices)
    return [
        {
            "run": run,
            "mismatches": [
                {"m": m, "kind_label": kinds.get(m.kind, m.kind)} for m in run.mismatches.all()
            ],
        }
        for run in sel.runs_recent().order_by("-ran_at", "-id")[:RUNS_SHOWN]
    ]


def _reconcile_form(data: Any = None) -> ReconcileForm:
    providers = providers_configured()
    initial = {
        "provider": "sandbox" if "sandbox" in providers else (providers[0] if providers else ""),
        "day": timezone.localdate(),
    }
    return ReconcileForm(data, providers=providers, initial=initial, auto_id="reconcile_%s")


def _reconcile_page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: ReconcileForm | None = None,
    latest: Any = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        **_context(actor, "reconcile"),
        "form": form or _reconcile_form(),
        "runs": _runs(),
        "latest": latest,
    }
    if getattr(request, "htmx", False):
        response = render(request, "checkout/ops/partials/runs.html", context)
    else:
        response = render(request, "checkout/ops/reconcile.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@operator_page
def reconcile_tab(request: HttpRequest, actor: Actor) -> HttpResponse:
    latest = None
    raw = request.GET.get("run", "")
    if raw.isdigit():
        latest = sel.runs_recent().filter(pk=int(raw)).first()
    return _reconcile_page(request, actor, latest=latest)


@require_POST
@operator_page
def reconcile_run(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = _reconcile_form(request.POST)
    if not form.is_valid():
        return _reconcile_page(request, actor, form=form, status=400)
    data = form.cleaned_data
    run = reconcile.reconcile_day(provider=data["provider"], day=data["day"])
    if getattr(request, "htmx", False):
        return _reconcile_page(request, actor, form=form, latest=run)
    if run.error:
        messages.error(
            request, _("The bill could not be fetched: %(error)s") % {"error": run.error}
        )
    else:
        messages.success(
            request,
            _("%(provider)s on %(day)s: %(matched)s matched, %(mismatched)s mismatches.")
            % {
                "provider": run.provider,
                "day": run.day.isoformat(),
                "matched": run.matched,
                "mismatched": run.mismatched,
            },
        )
    return redirect(f"{reverse('ops-pay-reconcile')}?run={run.pk}")


# --- settlement --------------------------------------------------------------------------------
def _settlement_form(request: HttpRequest, actor: Actor) -> tuple[SettlementForm, Any, list[Any]]:
    malls = _malls(actor)
    if not malls:
        raise Http404("no mall")
    mall = _picked_mall(request, malls) or malls[0]
    shops = list(shops_managed(actor=actor).filter(mall_id=mall.pk).order_by("name_pinyin", "id"))
    bound = any(k in request.GET for k in ("mall", "shop", "day_from", "day_to"))
    form = SettlementForm(
        request.GET if bound else None,
        malls=malls,
        shops=shops,
        initial=settlement_initial(mall.pk),
        auto_id="settlement_%s",
    )
    return form, mall, shops


def _settlement_rows(
    form: SettlementForm, mall: Any, shops: list[Any]
) -> tuple[list[SettlementRow], date, date, Any] | None:
    if form.is_bound:
        if not form.is_valid():
            return None
        data = form.cleaned_data
        start, end, shop_id = data["day_from"], data["day_to"], data.get("shop")
    else:
        initial = settlement_initial(mall.pk)
        start, end, shop_id = initial["day_from"], initial["day_to"], None
    shop = next((s for s in shops if s.pk == shop_id), None)
    shop_ids = [shop.pk] if shop is not None else [s.pk for s in shops]
    rows = settlement(shop_ids=shop_ids, district_id=mall.district_id, day_from=start, day_to=end)
    return rows, start, end, shop


def _by_method(amounts: dict[str, int], labels: dict[str, str]) -> list[tuple[str, int]]:
    return [(labels.get(m, m), fen) for m, fen in amounts.items()]


TOTALS = (
    "online_sales_fen",
    "online_refunds_fen",
    "mall_coupon_fen",
    "merchant_coupon_fen",
    "points_redeemed",
    "points_redeemed_fen",
    "points_earned_merchant_funded",
    "points_earned_merchant_funded_fen",
    "net_payable_fen",
)


@require_GET
@operator_page
def settlement_tab(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, mall, shops = _settlement_form(request, actor)
    found = _settlement_rows(form, mall, shops)
    methods = _labels(Method.choices)
    context: dict[str, Any] = {**_context(actor, "settlement"), "form": form, "mall": mall}
    if found is not None:
        rows, start, end, shop = found
        context.update(
            {
                "rows": [
                    {
                        "r": r,
                        "sales": _by_method(r.sales_by_method, methods),
                        "refunds": _by_method(r.refunds_by_method, methods),
                    }
                    for r in rows
                ],
                "totals": {name: sum(getattr(r, name) for r in rows) for name in TOTALS},
                "day_from": start,
                "day_to": end,
                "shop": shop,
                "csv_query": urlencode(
                    {
                        "mall": mall.pk,
                        "shop": shop.pk if shop else "",
                        "day_from": start.isoformat(),
                        "day_to": end.isoformat(),
                    }
                ),
            }
        )
    return render(
        request,
        "checkout/ops/settlement.html",
        context,
        status=200 if found is not None else 400,
    )


@require_GET
@operator_page
def settlement_csv_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, mall, shops = _settlement_form(request, actor)
    found = _settlement_rows(form, mall, shops)
    if found is None:
        return HttpResponseBadRequest(
            "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    rows, start, end, shop = found
    who = f"shop{shop.pk}" if shop is not None else f"mall{mall.pk}"
    name = f"settlement-{who}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    response = HttpResponse(
        ("\ufeff" + settlement_csv(rows)).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
