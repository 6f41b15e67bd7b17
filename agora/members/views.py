"""The shopper's member pages (mobile first, zh-Hans by default, English second):

会员卡 (card, tier, points, the live member QR, physical cards), 积分明细 (points history),
领券中心 (coupon centre), 我的券包 (wallet), 积分兑换 (points exchange) and 消息 (inbox).

Views only parse, call the members/coupons/points services and selectors, and shape output.
A signed-in visitor without a member account is enrolled on the first visit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agora.core.errors import DomainError, NotFound, RateLimited
from agora.coupons.choices import CouponKind, CouponStatus
from agora.coupons.selectors import (
    access_template_public,
    claimable,
    coupon_centre,
    held_count,
    wallet_of,
    wallet_usable,
)
from agora.coupons.services.wallet import coupon_claim
from agora.district.selectors import districts_all, malls_public
from agora.members.choices import CardStatus, MessageDirection, MessageKind
from agora.members.selectors import access_card, cards_of, inbox_of, tier_progress, unread_count
from agora.members.services.codes import member_code_issue
from agora.members.services.inbox import message_mark_read, message_to_desk
from agora.members.services.membership import card_link, card_report_lost, member_ensure
from agora.points.choices import ExchangeKind, Movement
from agora.points.selectors import (
    access_exchange_item,
    exchange_catalogue,
    exchanges_of,
    points_balance,
    points_expiring,
    points_history,
)
from agora.points.services.exchange import exchange_buy
from agora.portal.errors import translate_detail, translate_field_error
from agora.portal.views.common import qr_svg

if TYPE_CHECKING:
    from agora.accounts.models import User

HISTORY_LIMIT = 100
INBOX_LIMIT = 100

# --- labels (translated here so every string of these pages is in this app's catalogue) ---
MOVEMENT_LABELS: dict[str, Any] = {
    Movement.EARN: gettext_lazy("Earned"),
    Movement.REDEEM: gettext_lazy("Spent"),
    Movement.EXPIRE: gettext_lazy("Expired"),
    Movement.ADJUST: gettext_lazy("Adjusted"),
    Movement.REVERSE: gettext_lazy("Reversed"),
}
COUPON_STATUS_LABELS: dict[str, Any] = {
    CouponStatus.ACTIVE: gettext_lazy("Usable"),
    CouponStatus.REDEEMED: gettext_lazy("Used"),
    CouponStatus.VOID: gettext_lazy("Voided"),
    CouponStatus.EXPIRED: gettext_lazy("Expired"),
}
CARD_STATUS_LABELS: dict[str, Any] = {
    CardStatus.UNLINKED: gettext_lazy("Not linked"),
    CardStatus.ACTIVE: gettext_lazy("Linked"),
    CardStatus.LOST: gettext_lazy("Reported lost"),
}
MESSAGE_KIND_LABELS: dict[str, Any] = {
    MessageKind.SERVICE: gettext_lazy("Service desk"),
    MessageKind.PROMOTION: gettext_lazy("Promotion"),
    MessageKind.CARE: gettext_lazy("Care"),
    MessageKind.SYSTEM: gettext_lazy("Notice"),
}
EXCHANGE_KIND_LABELS: dict[str, Any] = {
    ExchangeKind.GIFT: gettext_lazy("Gift"),
    ExchangeKind.COUPON: gettext_lazy("Coupon"),
    ExchangeKind.PARKING_HOURS: gettext_lazy("Parking hours"),
}


def _refusals() -> dict[str, str]:
    """Friendly words for the stable codes of refused claims, exchanges and card links."""
    return {
        "sold_out": _("Sorry, they are all gone."),
        "member_limit": _("You already hold as many of these as one member may."),
        "daily_limit": _("You have claimed today's limit of this coupon: come back tomorrow."),
        "claim_ended": _("Claiming this coupon has ended."),
        "not_started": _("This coupon cannot be claimed yet."),
        "not_active": _("This coupon is not being given out now."),
        "channel_closed": _("This coupon is not given out in the app."),
        "expired": _("This coupon has expired."),
        "insufficient_points": _("Not enough points."),
        "card_taken": _("This card is already linked or blocked."),
        "card_not_active": _("This card is not active."),
        "not_found": _("Not found."),
        "idempotency_key_reused": _("This form was already used: please try again."),
        "checksum": _("This is not a valid card number: please check the digits."),
        "mismatch": _("The PIN is wrong."),
        "no_tiers": _("Membership is not open yet."),
    }


def _message(exc: DomainError) -> str:
    """One friendly line for a domain error, by its code (field errors by their own code)."""
    known = _refusals()
    if exc.code == "insufficient_points":
        balance, needed = exc.extra.get("balance"), exc.extra.get("needed")
        if balance is not None and needed is not None:
            return _("Not enough points: you have %(balance)s, this needs %(needed)s.") % {
                "balance": balance,
                "needed": needed,
            }
    if isinstance(exc, RateLimited):
        return _("Too many wrong PINs: please ask a service desk to help.")
    if exc.errors:
        return " ".join(known.get(e.code) or translate_field_error(e) for e in exc.errors)
    return known.get(exc.code) or translate_detail(exc)


# --- formatting ------------------------------------------------------------------------------
def yuan(fen: int) -> str:
    """Integer fen as yuan: 3000 → "30", 2550 → "25.50"."""
    if fen % 100 == 0:
        return str(fen // 100)
    return f"{fen / 100:.2f}"


def _chinese() -> bool:
    return (translation.get_language() or "zh-hans").startswith("zh")


def coupon_value_text(template: Any) -> str:
    """What a coupon is worth, in the reader's language: 满200减30, 9折 最高减50元, 免费停车2小时
    (Chinese), "Spend ¥200, save ¥30" (English)."""
    kind = template.kind
    if kind == CouponKind.THRESHOLD:
        return _("Spend ¥%(threshold)s, save ¥%(value)s") % {
            "threshold": yuan(template.threshold_fen),
            "value": yuan(template.value_fen),
        }
    if kind == CouponKind.CASH_OFF:
        return _("¥%(value)s off") % {"value": yuan(template.value_fen)}
    if kind == CouponKind.PERCENT_OFF:
        cap = yuan(template.cap_fen)
        if _chinese():  # 9折 is "10% off": the Chinese way counts what is paid
            paid = 100 - template.percent_off
            zhe = str(paid // 10) if paid % 10 == 0 else f"{paid / 10:g}"
            return f"{zhe}折 最高减{cap}元" if template.cap_fen else f"{zhe}折"
        if template.cap_fen:
            return _("%(percent)s%% off, up to ¥%(cap)s") % {
                "percent": template.percent_off,
                "cap": cap,
            }
        return _("%(percent)s%% off") % {"percent": template.percent_off}
    if kind == CouponKind.GIFT:
        return _("Gift: %(gift)s") % {"gift": template.gift_name}
    if kind == CouponKind.PARKING_FEE:
        return _("¥%(value)s off parking") % {"value": yuan(template.value_fen)}
    if kind == CouponKind.PARKING_HOURS:
        return _("Free parking %(hours)s hours") % {"hours": template.parking_hours}
    return str(template.title)


def tier_name(tier: Any) -> str:
    return str(tier.name) if _chinese() else str(tier.name_en or tier.name)


# --- the signed-in member ----------------------------------------------------------------------
MemberView = Callable[..., HttpResponse]


def _district_id() -> int:
    district = districts_all().first()
    if district is None:
        raise Http404("no district yet")
    return int(district.pk)


def member_page(view: MemberView) -> MemberView:
    """Signed-in shoppers only (others go to the SMS sign-in with ?next=); the member account is
    created on the first visit. The view gets the member after the request."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            login_url = reverse("portal:login")
            if getattr(request, "htmx", False):
                back = request.headers.get("HX-Current-URL", "") or request.get_full_path()
                return HttpResponseClientRedirect(redirect_to_login(back, login_url).url)
            return redirect_to_login(request.get_full_path(), login_url)
        user = cast("User", request.user)
        try:
            member = member_ensure(user=user, district_id=_district_id())
        except DomainError as exc:
            messages.error(request, _message(exc))
            return redirect("portal:home")
        return view(request, member, *args, **kwargs)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    active: bool
    badge: int = 0
    key: str = ""


def _tabs(request: HttpRequest, member: Any) -> list[Tab]:
    items = [
        ("card", _("Member card"), reverse("members:card")),
        ("points", _("Points"), reverse("members:points")),
        ("centre", _("Coupon centre"), reverse("members:coupon-centre")),
        ("wallet", _("My coupons"), reverse("members:wallet")),
        ("exchange", _("Points exchange"), reverse("members:exchange")),
        ("inbox", _("Messages"), reverse("members:inbox")),
    ]
    path = request.path
    unread = unread_count(member=member)
    return [
        Tab(
            label,
            url,
            path == url or (path.startswith(url) and url != "/"),
            unread if key == "inbox" else 0,
            key,
        )
        for key, label, url in items
    ]


def _render(
    request: HttpRequest, member: Any, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    base = {"member": member, "tabs": _tabs(request, member)}
    return render(request, template, {**base, **context}, status=status)


# --- 会员卡 -------------------------------------------------------------------------------------
def _code_context(member: Any) -> dict[str, Any]:
    code = member_code_issue(member=member)
    now = timezone.now()
    seconds = max(1, min(60, int((code.expires_at - now).total_seconds()) + 1))
    return {
        "code": code.code,
        "expires_at": code.expires_at,
        "seconds_left": seconds,
        "qr": qr_svg(code.code, label=_("Member code")),
    }


def _card_page(
    request: HttpRequest, member: Any, *, link_errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    progress = tier_progress(member=member)
    expiring = points_expiring(member=member, limit=1)
    cards = [
        {"card": c, "status_label": CARD_STATUS_LABELS.get(c.status, c.status)}
        for c in cards_of(member=member).select_related("mall")
    ]
    context = {
        "tier_name": tier_name(member.tier),
        "progress": progress,
        "next_tier_name": tier_name(progress.next_tier) if progress.next_tier else "",
        "spend_yuan": yuan(progress.spend_fen),
        "to_next_yuan": yuan(progress.to_next_fen),
        "balance": points_balance(member=member),
        "expiring": expiring[0] if expiring else None,
        "cards": cards,
        "link_errors": link_errors or [],
        "card_no": request.POST.get("card_no", "") if request.method == "POST" else "",
        **_code_context(member),
    }
    return _render(request, member, "members/card.html", context, status=status)


@require_GET
@member_page
def card(request: HttpRequest, member: Any) -> HttpResponse:
    return _card_page(request, member)


@require_GET
@member_page
def card_code(request: HttpRequest, member: Any) -> HttpResponse:
    """The live member code partial: HTMX fetches a new one when the current one expires."""
    return render(request, "members/partials/member_code.html", _code_context(member))


@require_POST
@member_page
def card_link_view(request: HttpRequest, member: Any) -> HttpResponse:
    card_no = "".join(request.POST.get("card_no", "").split())
    pin = request.POST.get("pin", "").strip()
    errors: list[str] = []
    if not card_no:
        errors.append(_("Enter the 16-digit card number."))
    if not pin:
        errors.append(_("Enter the PIN under the scratch panel."))
    if not errors:
        try:
            linked = card_link(member=member, card_no=card_no, pin=pin)
        except NotFound:
            errors.append(_("There is no card with this number."))
        except DomainError as exc:
            errors.append(_message(exc))
        else:
            messages.success(
                request, _("Card %(card_no)s is now linked.") % {"card_no": linked.card_no}
            )
            return redirect("members:card")
    return _card_page(request, member, link_errors=errors, status=400)


@require_POST
@member_page
def card_lost(request: HttpRequest, member: Any, card_id: int) -> HttpResponse:
    try:
        physical = access_card(member=member, card_id=card_id)
    except NotFound:
        raise Http404("no such card") from None
    try:
        card_report_lost(member=member, card=physical)
    except DomainError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            _("Card %(card_no)s is reported lost and no longer works.")
            % {"card_no": physical.card_no},
        )
    return redirect("members:card")


# --- 积分明细 -----------------------------------------------------------------------------------
@require_GET
@member_page
def points(request: HttpRequest, member: Any) -> HttpResponse:
    rows = [
        {
            "txn": txn,
            "label": MOVEMENT_LABELS.get(txn.kind, txn.kind),
            "place": (txn.shop.name if txn.shop else (txn.mall.name if txn.mall else "")),
        }
        for txn in points_history(member=member).order_by("-created_at", "-id")[:HISTORY_LIMIT]
    ]
    expiring = points_expiring(member=member)
    context = {"balance": points_balance(member=member), "rows": rows, "expiring": expiring}
    return _render(request, member, "members/points.html", context)


# --- 领券中心 -----------------------------------------------------------------------------------
def _district_malls(member: Any) -> list[Any]:
    return list(malls_public().filter(district_id=member.district_id))


def _offer(member: Any, template: Any) -> dict[str, Any]:
    held = held_count(member=member, template=template)
    return {
        "t": template,
        "value_text": coupon_value_text(template),
        "stock_left": max(0, template.total_stock - template.issued),
        "held": held,
        "can_claim": held < template.per_member_total and template.issued < template.total_stock,
    }


@require_GET
@member_page
def coupon_centre_view(request: HttpRequest, member: Any) -> HttpResponse:
    malls = _district_malls(member)
    raw = request.GET.get("mall", "")
    mall_id = int(raw) if raw.isdigit() and any(m.pk == int(raw) for m in malls) else None
    templates = claimable(coupon_centre(district_id=member.district_id, mall_id=mall_id))
    context = {
        "malls": malls,
        "mall_id": mall_id,
        "offers": [_offer(member, t) for t in templates],
    }
    return _render(request, member, "members/coupon_centre.html", context)


@require_POST
@member_page
def coupon_claim_view(request: HttpRequest, member: Any, template_id: int) -> HttpResponse:
    try:
        template = access_template_public(template_id=template_id)
    except NotFound:
        raise Http404("no such coupon") from None
    ok, note = True, ""
    try:
        coupon_claim(member=member, template=template)
    except NotFound:
        raise Http404("no such coupon") from None
    except DomainError as exc:
        ok, note = False, _message(exc)
    else:
        note = _("Claimed: it is in My coupons.")
    if _is_htmx(request):
        fresh = access_template_public(template_id=template_id)
        context = {"o": _offer(member, fresh), "note": note, "ok": ok}
        return render(request, "members/partials/coupon_offer.html", context)
    (messages.success if ok else messages.error)(request, note)
    back = request.POST.get("mall", "")
    url = reverse("members:coupon-centre")
    return redirect(f"{url}?mall={back}" if back.isdigit() else url)


# --- 我的券包 -----------------------------------------------------------------------------------
WALLET_TABS = ("usable", "used", "expired")


def _wallet_row(coupon: Any, *, with_qr: bool, now: datetime) -> dict[str, Any]:
    status = coupon.status
    if status == CouponStatus.ACTIVE and coupon.valid_until <= now:
        status = CouponStatus.EXPIRED
    template = coupon.template
    return {
        "c": coupon,
        "title": template.title,
        "value_text": coupon_value_text(template),
        "where": template.shop.name
        if template.shop
        else (template.mall.name if template.mall else ""),
        "status_label": COUPON_STATUS_LABELS.get(status, status),
        "status": status,
        "qr": qr_svg(coupon.code, label=_("Coupon code")) if with_qr else "",
    }


@require_GET
@member_page
def wallet(request: HttpRequest, member: Any) -> HttpResponse:
    tab = request.GET.get("tab", "usable")
    if tab not in WALLET_TABS:
        tab = "usable"
    now = timezone.now()
    if tab == "usable":
        coupons = list(wallet_usable(member=member, now=now))
    elif tab == "used":
        coupons = list(wallet_of(member=member, status=CouponStatus.REDEEMED))
    else:
        coupons = [
            c
            for c in wallet_of(member=member)
            if c.status in (CouponStatus.EXPIRED, CouponStatus.VOID)
            or (c.status == CouponStatus.ACTIVE and c.valid_until <= now)
        ]
    url = reverse("members:wallet")
    tabs = [
        Tab(str(label), f"{url}?tab={key}", key == tab, key=key)
        for key, label in (
            ("usable", _("Usable")),
            ("used", _("Used")),
            ("expired", _("Expired")),
        )
    ]
    context = {
        "tab": tab,
        "wallet_tabs": tabs,
        "rows": [_wallet_row(c, with_qr=tab == "usable", now=now) for c in coupons],
    }
    return _render(request, member, "members/wallet.html", context)


# --- 积分兑换 -----------------------------------------------------------------------------------
def _item(item: Any) -> dict[str, Any]:
    return {
        "i": item,
        "kind_label": EXCHANGE_KIND_LABELS.get(item.kind, item.kind),
        "stock_left": max(0, item.stock - item.issued),
    }


@require_GET
@member_page
def exchange(request: HttpRequest, member: Any) -> HttpResponse:
    context = {
        "balance": points_balance(member=member),
        "items": [_item(i) for i in exchange_catalogue(district_id=member.district_id)],
        "orders": list(exchanges_of(member=member)[:20]),
    }
    return _render(request, member, "members/exchange.html", context)


def _access_item(member: Any, item_id: int) -> Any:
    try:
        item = access_exchange_item(item_id=item_id)
    except NotFound:
        raise Http404("no such item") from None
    if item.district_id != member.district_id:
        raise Http404("no such item")
    return item


@require_http_methods(["GET", "POST"])
@member_page
def exchange_confirm(request: HttpRequest, member: Any, item_id: int) -> HttpResponse:
    """GET: confirm the exchange (the form carries a fresh key); POST: exchange once per key."""
    item = _access_item(member, item_id)
    error = ""
    key = str(uuid.uuid4())
    if request.method == "POST":
        raw = request.POST.get("key", "")
        try:
            key = str(uuid.UUID(raw))
        except ValueError:
            error = _("This form has expired: please confirm again.")
        else:
            try:
                order = exchange_buy(member=member, item=item, key=f"user:{member.user_id}:{key}")
            except DomainError as exc:
                error = _message(exc)
                key = str(uuid.uuid4())  # a failed try may be retried with a new key
            else:
                return redirect("members:exchange-order", order_id=order.pk)
    balance = points_balance(member=member)
    context = {
        **_item(item),
        "balance": balance,
        "after": balance - item.points_price,
        "key": key,
        "error": error,
    }
    return _render(
        request, member, "members/exchange_confirm.html", context, status=400 if error else 200
    )


@require_GET
@member_page
def exchange_order(request: HttpRequest, member: Any, order_id: int) -> HttpResponse:
    order = exchanges_of(member=member).select_related("item__mall").filter(pk=order_id).first()
    if order is None:
        raise Http404("no such exchange")
    context = {
        "order": order,
        "kind_label": EXCHANGE_KIND_LABELS.get(order.item.kind, order.item.kind),
        "balance": points_balance(member=member),
        "qr": qr_svg(order.coupon.code if order.coupon else order.pickup_code, label=_("Code")),
    }
    return _render(request, member, "members/exchange_order.html", context)


# --- 消息 ---------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@member_page
def inbox(request: HttpRequest, member: Any) -> HttpResponse:
    malls = _district_malls(member)
    error, body, chosen = "", "", ""
    if request.method == "POST":
        body = request.POST.get("body", "")
        chosen = request.POST.get("mall", "")
        mall = next((m for m in malls if chosen.isdigit() and m.pk == int(chosen)), None)
        if mall is None:
            error = _("Choose a mall.")
        else:
            try:
                message_to_desk(member=member, mall_id=mall.pk, body=body)
            except DomainError as exc:
                codes = {e.code for e in exc.errors}
                if "required" in codes:
                    error = _("Write a message.")
                elif "too_long" in codes:
                    error = _("The message is too long (at most 2000 characters).")
                else:
                    error = _message(exc)
            else:
                messages.success(
                    request,
                    _("Sent to the service desk of %(mall)s.") % {"mall": mall.name},
                )
                return redirect("members:inbox")
    rows = list(inbox_of(member=member).order_by("-created_at", "-id")[:INBOX_LIMIT])
    unread = [m.pk for m in rows if m.direction == MessageDirection.TO_MEMBER and m.read_at is None]
    if unread and request.method == "GET":
        message_mark_read(member=member, message_ids=unread)
    items = [
        {
            "m": m,
            "kind_label": MESSAGE_KIND_LABELS.get(m.kind, m.kind),
            "mine": m.direction == MessageDirection.FROM_MEMBER,
            "new": m.pk in unread,
        }
        for m in rows
    ]
    context = {
        "items": items,
        "malls": malls,
        "error": error,
        "body": body,
        "chosen": chosen,
    }
    return _render(request, member, "members/inbox.html", context, status=400 if error else 200)
