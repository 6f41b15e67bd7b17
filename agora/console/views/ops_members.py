"""The operator's loyalty console, continued: member search and detail (manual points, manual
tags), the clearing reports with CSV downloads, and the service desk with promotions."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.accounts.actor import Actor
from agora.console.errors import add_to_form, messages_for
from agora.console.forms import AdjustForm, PromotionForm, RangeForm, ReplyForm, TagForm, new_op
from agora.console.views.common import current_mall, mask_name, may_see_district, tier_name
from agora.console.views.ops import back_to, ops_context
from agora.core.errors import DomainError
from agora.coupons.selectors import clearing_report
from agora.members.selectors import (
    access_member,
    desk_messages,
    mask_phone,
    members_search,
    tags_of,
    tier_progress,
)
from agora.members.services.inbox import message_reply, promotion_send
from agora.members.services.tags import COMPUTED_PREFIXES, tag_add, tag_remove
from agora.points.choices import AccountKind, Movement
from agora.points.selectors import points_balance, points_history, settlement
from agora.points.services.ledger import points_adjust
from agora.portal.views.common import console, is_operator, visible

SEARCH_LIMIT = 50
HISTORY_LIMIT = 20
DESK_LIMIT = 200


# --- members ----------------------------------------------------------------------------------
def _member_row(member: Any) -> dict[str, Any]:
    return {
        "member": member,
        "name": mask_name(member.user.display_name or ""),
        "phone": mask_phone(member.user.phone),
        "tier": tier_name(member.tier),
    }


@require_GET
@console(is_operator)
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = ops_context(request, actor, "members")
    q = request.GET.get("q", "").strip()[:40]
    tag = request.GET.get("tag", "").strip()[:40]
    rows: list[dict[str, Any]] = []
    total = 0
    if q or tag:
        found = members_search(actor=actor, q=q, tag=tag)
        total = found.count()
        rows = [_member_row(m) for m in found[:SEARCH_LIMIT]]
    context.update({"q": q, "tag": tag, "rows": rows, "total": total, "searched": bool(q or tag)})
    return render(request, "console/ops_members.html", context)


def _member_page(
    request: HttpRequest,
    actor: Actor,
    member_id: int,
    *,
    adjust_form: AdjustForm | None = None,
    tag_form: TagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = ops_context(request, actor, "members")
    member = visible(access_member, actor=actor, member_id=member_id)
    malls = [m for m in context["malls"] if m.district_id == member.district_id]
    if adjust_form is None:
        adjust_form = AdjustForm(
            auto_id="adjust_%s", initial={"op": new_op(), "mall": context["mall"].pk}
        )
    adjust_form.fields["mall"].choices = [(m.pk, m.name) for m in malls]  # type: ignore[attr-defined]
    tags = tags_of(member=member)
    history = []
    for txn in points_history(member=member)[:HISTORY_LIMIT]:
        history.append({"txn": txn, "kind": _movement(txn.kind)})
    context.update(
        {
            "row": _member_row(member),
            "member": member,
            "progress": tier_progress(member=member),
            "next_tier": None,
            "balance": points_balance(member=member),
            "tags": [{"tag": t, "manual": not t.startswith(COMPUTED_PREFIXES)} for t in tags],
            "history": history,
            "adjust_form": adjust_form,
            "tag_form": tag_form or TagForm(auto_id="tag_%s"),
        }
    )
    progress = context["progress"]
    if progress.next_tier is not None:
        context["next_tier"] = tier_name(progress.next_tier)
    context["tier"] = tier_name(progress.tier)
    return render(request, "console/ops_member.html", context, status=status)


def _movement(kind: str) -> str:
    labels: dict[str, str] = {
        Movement.EARN: _("Earned"),
        Movement.REDEEM: _("Spent"),
        Movement.EXPIRE: _("Expired"),
        Movement.ADJUST: _("Adjusted"),
        Movement.REVERSE: _("Reversed"),
    }
    return labels.get(kind, kind)


@require_GET
@console(is_operator)
def member_detail(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    return _member_page(request, actor, member_id)


@require_POST
@console(is_operator)
def member_adjust(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = visible(access_member, actor=actor, member_id=member_id)
    context = ops_context(request, actor, "members")
    form = AdjustForm(request.POST, auto_id="adjust_%s")
    form.fields["mall"].choices = [  # type: ignore[attr-defined]
        (m.pk, m.name) for m in context["malls"] if m.district_id == member.district_id
    ]
    if form.is_valid():
        data = form.cleaned_data
        try:
            txn = points_adjust(
                actor=actor,
                member=member,
                points=data["points"],
                reason=data["reason"],
                mall_id=data["mall"],
                key=f"ops-adjust:{member.pk}:{data['op']}",
            )
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request,
                _("%(points)s points adjusted; the balance is now %(balance)s.")
                % {"points": f"{txn.points:+d}", "balance": points_balance(member=member)},
            )
            return back_to("console:ops-member", request, actor, member.pk)
    return _member_page(request, actor, member.pk, adjust_form=form, status=400)


@require_POST
@console(is_operator)
def member_tag_add(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = visible(access_member, actor=actor, member_id=member_id)
    form = TagForm(request.POST, auto_id="tag_%s")
    if form.is_valid():
        try:
            tag_add(actor=actor, member=member, tag=form.cleaned_data["tag"])
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Tag “%(tag)s” added.") % {"tag": form.cleaned_data["tag"]})
            return back_to("console:ops-member", request, actor, member.pk)
    return _member_page(request, actor, member.pk, tag_form=form, status=400)


@require_POST
@console(is_operator)
def member_tag_remove(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = visible(access_member, actor=actor, member_id=member_id)
    tag = request.POST.get("tag", "")
    try:
        tag_remove(actor=actor, member=member, tag=tag)
    except DomainError as exc:
        for message in messages_for(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Tag “%(tag)s” removed.") % {"tag": tag})
    return back_to("console:ops-member", request, actor, member.pk)


# --- clearing --------------------------------------------------------------------------------
def _range(request: HttpRequest) -> tuple[RangeForm, date, date]:
    today = timezone.localdate()
    first = today.replace(day=1)
    data = request.GET if ("start" in request.GET or "end" in request.GET) else None
    form = RangeForm(data, auto_id="range_%s", initial={"start": first, "end": today})
    if data is not None and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, first, today


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _pool_kind(kind: str) -> str:
    labels: dict[str, str] = {
        AccountKind.MALL_POOL: _("Mall-funded pool"),
        AccountKind.MERCHANT_POOL: _("Merchant-funded pool"),
        AccountKind.DISTRICT_POOL: _("District pool"),
        AccountKind.EXPIRY_SINK: _("Expired points"),
    }
    return labels.get(kind, kind)


def _reports(request: HttpRequest, actor: Actor) -> dict[str, Any]:
    mall, _malls = current_mall(request, actor)
    form, start, end = _range(request)
    whole = request.GET.get("scope") == "district" and may_see_district(actor, mall)
    mall_ids = None if whole else {mall.pk}
    lo, hi = _bounds(start, end)
    coupons = clearing_report(district_id=mall.district_id, start=lo, end=hi, mall_ids=mall_ids)
    pools = settlement(district_id=mall.district_id, start=lo, end=hi, mall_ids=mall_ids)
    return {
        "range_form": form,
        "start": start,
        "end": end,
        "whole": whole,
        "can_whole": may_see_district(actor, mall),
        "coupon_rows": coupons,
        "coupon_total": sum(r.amount_fen for r in coupons),
        "coupon_count": sum(r.coupons for r in coupons),
        "pool_rows": [{"row": r, "kind": _pool_kind(r.kind)} for r in pools],
        "invalid_range": bool(form.is_bound and not form.is_valid()),
    }


@require_GET
@console(is_operator)
def clearing(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = ops_context(request, actor, "clearing")
    context.update(_reports(request, actor))
    query = request.GET.copy()
    if len(context["malls"]) > 1:
        query["mall"] = str(context["mall"].pk)
    query["start"], query["end"] = context["start"].isoformat(), context["end"].isoformat()
    context["csv_query"] = query.urlencode()
    return render(request, "console/ops_clearing.html", context)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> HttpResponse:
    """UTF-8 with a byte-order mark, so that Excel shows the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(
        ("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@console(is_operator)
def clearing_coupons_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    data = _reports(request, actor)
    if data["invalid_range"]:
        raise Http404("bad range")
    rows = [
        [r.payer_name, r.payee_name, r.coupons, _yuan(r.amount_fen)] for r in data["coupon_rows"]
    ]
    name = f"coupon-clearing-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.csv"
    header = [_("Payer"), _("Redeeming shop"), _("Number of coupons"), _("Amount (yuan)")]
    return _csv(name, header, rows)


@require_GET
@console(is_operator)
def clearing_points_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    data = _reports(request, actor)
    if data["invalid_range"]:
        raise Http404("bad range")
    rows = [
        [
            p["row"].name,
            str(p["kind"]),
            p["row"].funded,
            p["row"].received,
            p["row"].net_points,
            _yuan(p["row"].net_fen),
        ]
        for p in data["pool_rows"]
    ]
    name = f"points-settlement-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.csv"
    header = [
        _("Pool"),
        _("Kind"),
        _("Points funded"),
        _("Points received"),
        _("Net points"),
        _("Net (yuan)"),
    ]
    return _csv(name, header, rows)


# --- service desk --------------------------------------------------------------------------
def _conversations(mall_id: int) -> list[dict[str, Any]]:
    by_member: dict[int, dict[str, Any]] = {}
    for message in desk_messages(mall_id=mall_id)[:DESK_LIMIT]:
        conv = by_member.get(message.member_id)
        if conv is None:
            conv = by_member[message.member_id] = {
                "member": message.member,
                "name": mask_name(message.member.user.display_name or ""),
                "phone": mask_phone(message.member.user.phone),
                "messages": [],
                "unread": 0,
                "last": message.created_at,
            }
        conv["messages"].append(message)
        if message.direction == "from_member" and message.read_at is None:
            conv["unread"] += 1
    out = list(by_member.values())
    for conv in out:
        conv["messages"].reverse()
    return out


def _desk_page(
    request: HttpRequest,
    actor: Actor,
    *,
    reply_forms: dict[int, ReplyForm] | None = None,
    promotion_form: PromotionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = ops_context(request, actor, "desk")
    conversations = _conversations(context["mall"].pk)
    for conv in conversations:
        conv["form"] = (reply_forms or {}).get(conv["member"].pk) or ReplyForm(
            auto_id=f"reply{conv['member'].pk}_%s"
        )
    context.update(
        {
            "conversations": conversations,
            "unread": sum(c["unread"] for c in conversations),
            "promotion_form": promotion_form or PromotionForm(auto_id="promo_%s"),
        }
    )
    return render(request, "console/ops_desk.html", context, status=status)


@require_GET
@console(is_operator)
def desk(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _desk_page(request, actor)


@require_POST
@console(is_operator)
def desk_reply(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    mall, _malls = current_mall(request, actor)
    member = visible(access_member, actor=actor, member_id=member_id)
    form = ReplyForm(request.POST, auto_id=f"reply{member.pk}_%s")
    if form.is_valid():
        try:
            message_reply(
                actor=actor, member=member, mall_id=mall.pk, body=form.cleaned_data["body"]
            )
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Reply sent."))
            return back_to("console:ops-desk", request, actor)
    return _desk_page(request, actor, reply_forms={member.pk: form}, status=400)


@require_POST
@console(is_operator)
def desk_promotion(request: HttpRequest, actor: Actor) -> HttpResponse:
    mall, _malls = current_mall(request, actor)
    form = PromotionForm(request.POST, auto_id="promo_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = promotion_send(
                actor=actor,
                mall_id=mall.pk,
                title=data["title"],
                body=data["body"],
                tag=data["tag"].strip(),
            )
        except DomainError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Promotion sent to %(sent)s members; %(skipped)s skipped "
                    "(no consent to marketing messages)."
                )
                % {"sent": result.sent, "skipped": result.skipped_no_consent},
            )
            return back_to("console:ops-desk", request, actor)
    return _desk_page(request, actor, promotion_form=form, status=400)
