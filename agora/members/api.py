"""Members API: the shopper's own member account, card QR, physical cards and inbox; the till
(identify a member by dynamic code or card number, with the coupons that apply); operators'
member search, profile, tags, tiers, service desk, promotions and card printing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import segno
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from agora.accounts.choices import ApiScope, Role
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import Conflict, NotFound, PermissionDenied, field_error
from agora.core.selectors import page_of
from agora.coupons import selectors as coupon_sel
from agora.coupons.services.wallet import applicability
from agora.district import selectors as district_sel
from agora.members import selectors as sel
from agora.members.schemas import (
    BirthdayIn,
    BrandProgramIn,
    BrandProgramOut,
    CardLinkIn,
    CardOut,
    CardsPrintIn,
    DeskMessagePage,
    IdentifyIn,
    IdentifyOut,
    MemberCodeOut,
    MemberOut,
    MemberProfileOut,
    MemberSummaryPage,
    MemberUpdateIn,
    MessageCreateIn,
    MessageOut,
    MessagePage,
    MessagesReadIn,
    MessagesReadOut,
    PrintedCardOut,
    PromotionIn,
    PromotionOut,
    TagIn,
    TagOut,
    TierOut,
    TierSetIn,
)
from agora.members.services import codes, inbox, membership, purchases, tags
from agora.points.selectors import points_balance, points_expiring

if TYPE_CHECKING:
    from agora.accounts.actor import Actor
    from agora.district.models import Mall, Shop
    from agora.members.models import Member, Message, Tier

router = Router(tags=["members"])

OWNER_OR_MANAGER = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER})


# --- shaping ----------------------------------------------------------------------------------
def _tier(tier: Tier) -> dict[str, Any]:
    return {
        "code": tier.code,
        "name": tier.name,
        "name_en": tier.name_en,
        "rank": tier.rank,
        "points_multiplier": float(tier.points_multiplier),
    }


def _progress(member: Member) -> dict[str, Any]:
    p = sel.tier_progress(member=member)
    return {
        "spend_fen": p.spend_fen,
        "next_tier": {"code": p.next_tier.code, "name": p.next_tier.name} if p.next_tier else None,
        "to_next_fen": p.to_next_fen,
        "percent": p.percent,
        "keep_spend_fen": p.keep_spend_fen,
    }


def _brands(member: Member) -> list[str]:
    return sorted(b.program.brand for b in sel.brands_of(member=member))


def _masked_name(name: str) -> str:
    """What a till or an operator list shows of a name: its first character and a star."""
    return name[:1] + "*" if name else ""


def _member_out(member: Member) -> dict[str, Any]:
    return {
        "id": member.pk,
        "card_no": member.card_no,
        "tier": _tier(member.tier),
        "tier_since": member.tier_since,
        "birthday": member.birthday,
        "joined_at": member.joined_at,
        "points_balance": points_balance(member=member),
        "points_expiring": [
            {"on": e.on, "points": e.points} for e in points_expiring(member=member)
        ],
        "progress": _progress(member),
        "brands": _brands(member),
        "unread_messages": sel.unread_count(member=member),
    }


def _summary(member: Member, member_tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": member.pk,
        "card_no": member.card_no,
        "display_name": _masked_name(member.user.display_name),
        "phone_masked": sel.mask_phone(member.user.phone),
        "tier": _tier(member.tier),
        "tags": sel.tags_of(member=member) if member_tags is None else member_tags,
        "joined_at": member.joined_at,
    }


def _profile(member: Member) -> dict[str, Any]:
    return {
        **_summary(member),
        "birthday": member.birthday,
        "points_balance": points_balance(member=member),
        "progress": _progress(member),
        "brands": _brands(member),
        "cards": list(sel.cards_of(member=member)),
        "tier_history": [
            {
                "from_tier": c.from_tier.code if c.from_tier else None,
                "to_tier": c.to_tier.code,
                "spend_fen": c.spend_fen,
                "reason": c.reason,
                "created_at": c.created_at,
            }
            for c in sel.tier_history(member=member)[:10]
        ],
    }


def _desk_message(message: Message) -> dict[str, Any]:
    return {
        **MessageOut.from_orm(message).model_dump(),
        "member_id": message.member_id,
        "card_no": message.member.card_no,
        "display_name": _masked_name(message.member.user.display_name),
    }


# --- who is calling -------------------------------------------------------------------------
def _default_district_id() -> int:
    """The district a shopper enrols in: the first one (Agora runs one district per site)."""
    district = district_sel.districts_all().first()
    if district is None:
        raise Conflict(code="no_district", detail="no business district is set up yet")
    return district.pk


def _me(request: HttpRequest) -> Member:
    """The caller's own member account, enrolled on first use."""
    user = actor_of(request).require_person()
    member = sel.member_of_user(user=user)
    if member is None:
        member = membership.member_ensure(user=user, district_id=_default_district_id())
    return member


def _till(
    request: HttpRequest, shop_id: int, roles: frozenset[str] | None = None
) -> tuple[Actor, Shop]:
    """A shop's staff (or its mall's operator, or a key for the shop with loyalty:write)."""
    actor = actor_of(request)
    actor.require_user()
    shop = district_sel.access_shop(actor=actor, shop_id=shop_id)
    allowed = (
        actor.has_shop_role(shop.pk, roles) if roles is not None else actor.has_shop_role(shop.pk)
    )
    if not (allowed or actor.operates_mall(shop.mall_id)):
        raise PermissionDenied(detail="your role at this shop may not do this")
    actor.require_scope(ApiScope.LOYALTY_WRITE)
    return actor, shop


def _operator(request: HttpRequest, *, write: bool = False) -> Actor:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.LOYALTY_WRITE if write else ApiScope.LOYALTY_READ)
    return actor


def _member(request: HttpRequest, member_id: int, *, write: bool = False) -> tuple[Actor, Member]:
    actor = _operator(request, write=write)
    return actor, sel.access_member(actor=actor, member_id=member_id)


def _operated_mall(actor: Actor, mall_id: int, member: Member | None = None) -> Mall:
    mall = district_sel.access_mall(actor=actor, mall_id=mall_id, manage=True)
    if member is not None and mall.district_id != member.district_id:
        raise NotFound(detail="mall not found")
    return mall


# --- the shopper --------------------------------------------------------------------------------
@router.get("/me/member", response=MemberOut, operation_id="my_member_get")
def get_my_member(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Your member account (enrolled at the entry tier on the first call)."""
    return _member_out(_me(request))


@router.patch("/me/member", response=MemberOut, operation_id="my_member_update")
def patch_my_member(request: HttpRequest, payload: MemberUpdateIn):  # type: ignore[no-untyped-def]
    """Set your birthday. It can be set once; a service desk corrects it afterwards."""
    member = membership.member_update(member=_me(request), birthday=payload.birthday)
    return _member_out(member)


@router.post("/me/member/code", response=MemberCodeOut, operation_id="my_member_code_issue")
def post_my_member_code(request: HttpRequest):  # type: ignore[no-untyped-def]
    """A fresh dynamic code for the card's QR: valid about a minute, scanned once."""
    issued = codes.member_code_issue(member=_me(request))
    qr = segno.make(issued.code, error="m").svg_inline(scale=4)
    return {"code": issued.code, "expires_at": issued.expires_at, "qr_svg": qr}


@router.get("/me/cards", response=list[CardOut], operation_id="my_cards_list")
def list_my_cards(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(sel.cards_of(member=_me(request)))


@router.post("/me/cards", response={201: CardOut}, operation_id="my_card_link")
def post_my_card(request: HttpRequest, payload: CardLinkIn):  # type: ignore[no-untyped-def]
    """Link a printed card with the PIN under its scratch panel."""
    card = membership.card_link(member=_me(request), card_no=payload.card_no, pin=payload.pin)
    return Status(201, card)


@router.post("/me/cards/{card_id}/lost", response=CardOut, operation_id="my_card_report_lost")
def post_my_card_lost(request: HttpRequest, card_id: int):  # type: ignore[no-untyped-def]
    """Report a card lost: it stops identifying you at once."""
    member = _me(request)
    card = sel.access_card(member=member, card_id=card_id)
    return membership.card_report_lost(member=member, card=card)


@router.get("/me/messages", response=MessagePage, operation_id="my_messages_list")
def list_my_messages(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    page = page_of(sel.inbox_of(member=_me(request)), cursor=cursor, limit=limit, newest_first=True)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/me/messages", response={201: MessageOut}, operation_id="my_message_send")
def post_my_message(request: HttpRequest, payload: MessageCreateIn):  # type: ignore[no-untyped-def]
    """Write to a mall's service desk."""
    member = _me(request)
    mall = district_sel.access_mall(actor=actor_of(request), mall_id=payload.mall_id)
    if mall.district_id != member.district_id:
        raise NotFound(detail="mall not found")
    return Status(201, inbox.message_to_desk(member=member, mall_id=mall.pk, body=payload.body))


@router.post("/me/messages/read", response=MessagesReadOut, operation_id="my_messages_mark_read")
def post_my_messages_read(request: HttpRequest, payload: MessagesReadIn):  # type: ignore[no-untyped-def]
    marked = inbox.message_mark_read(member=_me(request), message_ids=payload.ids)
    return {"marked": marked}


# --- the till ---------------------------------------------------------------------------------
@router.post(
    "/shops/{shop_id}/members/identify", response=IdentifyOut, operation_id="member_identify"
)
def post_identify(request: HttpRequest, shop_id: int, payload: IdentifyIn):  # type: ignore[no-untyped-def]
    """Identify a member at the till by the dynamic QR code (used up by this scan) or a linked
    card number. Returns a 15-minute member ticket for earning and spending, and the member's
    usable coupons with whether each applies to this shop and amount."""
    _actor, shop = _till(request, shop_id)
    member = codes.member_code_resolve(code=payload.code, shop_id=shop.pk)
    now = timezone.now()
    checks = [
        applicability(coupon=c, shop=shop, amount_fen=payload.amount_fen, now=now)
        for c in coupon_sel.wallet_usable(member=member, now=now)
    ]
    checks.sort(key=lambda a: (not a.applies, -a.discount_fen, a.coupon.valid_until, a.coupon.pk))
    return {
        "member_ticket": codes.member_ticket_make(member=member, shop_id=shop.pk),
        "member": {
            "card_no": member.card_no,
            "display_name": _masked_name(member.user.display_name),
            "phone_masked": sel.mask_phone(member.user.phone),
            "tier": _tier(member.tier),
            "points_balance": points_balance(member=member),
        },
        "coupons": [
            {
                "code": a.coupon.code,
                "title": a.coupon.template.title,
                "kind": a.coupon.template.kind,
                "applies": a.applies,
                "reason": a.reason,
                "discount_fen": a.discount_fen,
                "valid_until": a.coupon.valid_until,
            }
            for a in checks
        ],
    }


@router.put(
    "/shops/{shop_id}/brand-program", response=BrandProgramOut, operation_id="brand_program_set"
)
def put_brand_program(request: HttpRequest, shop_id: int, payload: BrandProgramIn):  # type: ignore[no-untyped-def]
    """Opt the shop's brand in to (or out of) dual membership: paying at any shop of the brand
    makes the shopper a member of the brand too. Owners and managers only."""
    actor, shop = _till(request, shop_id, OWNER_OR_MANAGER)
    program = membership.brand_program_set(
        actor=actor, district_id=shop.mall.district_id, brand=shop.brand, opted_in=payload.opted_in
    )
    return {"brand": program.brand, "opted_in": program.opted_in}


# --- operators --------------------------------------------------------------------------------
@router.get("/members", response=MemberSummaryPage, operation_id="members_search")
def list_members(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    q: str = "",
    tag: str = "",
    cursor: str | None = None,
    limit: int = 50,
):
    """Find members by phone (11 digits or the last 4), card number (e-card or physical), name
    or tag. Mall and district operators only; a mall operator sees their district's members."""
    actor = _operator(request)
    if not (actor.is_admin or actor.is_operator):
        raise PermissionDenied(detail="members are looked up by mall operators")
    qs = sel.members_search(actor=actor, q=q[:40], tag=tag[:40]).prefetch_related("tags")
    page = page_of(qs, cursor=cursor, limit=limit)
    items = [_summary(m, sorted(t.tag for t in m.tags.all())) for m in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/members/{member_id}", response=MemberProfileOut, operation_id="member_get")
def get_member(request: HttpRequest, member_id: int):  # type: ignore[no-untyped-def]
    return _profile(_member(request, member_id)[1])


@router.post("/members/{member_id}/tags", response={201: TagOut}, operation_id="member_tag_add")
def post_member_tag(request: HttpRequest, member_id: int, payload: TagIn):  # type: ignore[no-untyped-def]
    actor, member = _member(request, member_id, write=True)
    row = tags.tag_add(actor=actor, member=member, tag=payload.tag)
    return Status(201, {"tag": row.tag, "kind": row.kind})


@router.delete(
    "/members/{member_id}/tags/{tag}", response={204: None}, operation_id="member_tag_remove"
)
def delete_member_tag(request: HttpRequest, member_id: int, tag: str):  # type: ignore[no-untyped-def]
    actor, member = _member(request, member_id, write=True)
    tags.tag_remove(actor=actor, member=member, tag=tag)
    return Status(204, None)


@router.put(
    "/members/{member_id}/birthday",
    response=MemberProfileOut,
    operation_id="member_birthday_correct",
)
def put_member_birthday(request: HttpRequest, member_id: int, payload: BirthdayIn):  # type: ignore[no-untyped-def]
    """A service desk corrects a member's birthday (audited)."""
    actor, member = _member(request, member_id, write=True)
    membership.member_birthday_correct(actor=actor, member=member, birthday=payload.birthday)
    return _profile(member)


@router.post("/members/{member_id}/tier", response=MemberProfileOut, operation_id="member_tier_set")
def post_member_tier(request: HttpRequest, member_id: int, payload: TierSetIn):  # type: ignore[no-untyped-def]
    """Set a member's tier by hand, with the reason (audited)."""
    actor, member = _member(request, member_id, write=True)
    tier = sel.tiers_of(district_id=member.district_id).filter(code=payload.tier_code).first()
    if tier is None:
        raise field_error("tier_code", "no such tier in the member's district", "not_found")
    purchases.tier_set(actor=actor, member=member, tier=tier, reason=payload.reason)
    return _profile(member)


@router.get(
    "/malls/{mall_id}/desk/messages", response=DeskMessagePage, operation_id="desk_messages_list"
)
def list_desk_messages(  # type: ignore[no-untyped-def]
    request: HttpRequest, mall_id: int, cursor: str | None = None, limit: int = 50
):
    """The mall's service-desk conversations with members."""
    actor = _operator(request)
    mall = _operated_mall(actor, mall_id)
    page = page_of(
        sel.desk_messages(mall_id=mall.pk), cursor=cursor, limit=limit, newest_first=True
    )
    return {"items": [_desk_message(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/members/{member_id}/messages", response={201: MessageOut}, operation_id="member_message_reply"
)
def post_member_message(request: HttpRequest, member_id: int, payload: MessageCreateIn):  # type: ignore[no-untyped-def]
    """A mall's service desk answers a member."""
    actor, member = _member(request, member_id, write=True)
    mall = _operated_mall(actor, payload.mall_id, member)
    message = inbox.message_reply(actor=actor, member=member, mall_id=mall.pk, body=payload.body)
    return Status(201, message)


@router.post("/malls/{mall_id}/promotions", response=PromotionOut, operation_id="promotion_send")
def post_promotion(request: HttpRequest, mall_id: int, payload: PromotionIn):  # type: ignore[no-untyped-def]
    """Send a promotion to the inboxes of the district's members (optionally those with a
    tag) who consented to marketing messages; the others are counted, not messaged."""
    actor = _operator(request, write=True)
    mall = _operated_mall(actor, mall_id)
    result = inbox.promotion_send(
        actor=actor, mall_id=mall.pk, title=payload.title, body=payload.body, tag=payload.tag
    )
    return {"sent": result.sent, "skipped_no_consent": result.skipped_no_consent}


@router.post(
    "/malls/{mall_id}/cards/print",
    response={201: list[PrintedCardOut]},
    operation_id="member_cards_print",
)
def post_cards_print(request: HttpRequest, mall_id: int, payload: CardsPrintIn):  # type: ignore[no-untyped-def]
    """Print a batch of physical cards: the numbers and PINs are shown only here."""
    actor = _operator(request, write=True)
    mall = _operated_mall(actor, mall_id)
    printed = membership.cards_print(actor=actor, mall_id=mall.pk, count=payload.count)
    return Status(201, [{"card_no": no, "pin": pin} for no, pin in printed])


@router.get(
    "/districts/{district_id}/tiers",
    auth=OPTIONAL,
    response=list[TierOut],
    operation_id="tiers_list",
)
def list_tiers(request: HttpRequest, district_id: int):  # type: ignore[no-untyped-def]
    """The district's membership tiers, entry tier first."""
    if not district_sel.districts_all().filter(pk=district_id).exists():
        raise NotFound(detail="district not found")
    return [
        {
            **_tier(t),
            "min_spend_fen": t.min_spend_fen,
            "keep_spend_fen": t.keep_spend_fen,
            "birthday_points": t.birthday_points,
            "perks": t.perks,
        }
        for t in sel.tiers_of(district_id=district_id)
    ]
