"""Points API: the shopper's balance, history and exchange; the merchant till (earn, spend,
quote); operators' adjustments, reversals, earning rules, campaigns, exchange items and the
funding settlement between pools.

Every call that moves points needs an ``Idempotency-Key`` header. The key is namespaced per
caller (``user:<id>`` or ``key:<api key id>``) before it reaches the ledger, and the HTTP
response is stored, so a repeated request returns the first response and moves nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Query, Router, Status

from agora.accounts.actor import Actor
from agora.accounts.choices import MERCHANT_ROLES, ApiScope
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import NotFound, PermissionDenied, field_error
from agora.core.selectors import page_of
from agora.core.services import idempotent_run
from agora.coupons.selectors import access_template
from agora.district.selectors import (
    access_mall,
    access_shop,
    districts_all,
    mall_ids_in_districts,
)
from agora.lib.timeutil import SHANGHAI
from agora.members.selectors import access_member, member_of_user
from agora.members.services.codes import member_from_ticket, member_id_in_ticket
from agora.members.services.membership import member_ensure
from agora.points import selectors as sel
from agora.points.schemas import (
    AdjustIn,
    BalanceOut,
    CampaignCreateIn,
    CampaignOut,
    EarnIn,
    ExchangeItemCreateIn,
    ExchangeItemOut,
    ExchangeOrderOut,
    ExchangeOrderPage,
    MovementOut,
    PoolRowOut,
    QuoteOut,
    ReverseIn,
    RuleOut,
    RuleSetIn,
    SpendIn,
    TransactionPage,
)
from agora.points.services import earning, exchange, ledger
from agora.points.services.earning import MAX_PURCHASE_FEN

if TYPE_CHECKING:
    from agora.district.models import Shop
    from agora.members.models import Member
    from agora.points.models import ExchangeItem, ExchangeOrder, LedgerTransaction

router = Router(tags=["points"])

IDEMPOTENCY_KEY = Header(
    default=None,
    alias="Idempotency-Key",
    description="required: a retry with the same key and body returns the first response",
)
SETTLEMENT_MAX_DAYS = 366


# --- helpers ----------------------------------------------------------------------------------
def _first_district_id() -> int:
    district = districts_all().first()
    if district is None:
        raise NotFound(detail="no district yet")
    return int(district.pk)


def _district_id(district_id: int | None) -> int:
    """The named district (404 when there is none), or the first one."""
    if district_id is None:
        return _first_district_id()
    if not districts_all().filter(pk=district_id).exists():
        raise NotFound(detail="district not found")
    return district_id


def _me(request: HttpRequest) -> Member:
    """The signed-in shopper's member account, enrolled on first use."""
    user = actor_of(request).require_person()
    member = member_of_user(user=user)
    if member is None:
        member = member_ensure(user=user, district_id=_first_district_id())
    return member


def _require_key(key: str | None) -> str:
    if not key:
        raise field_error(
            "Idempotency-Key", "every points movement needs an idempotency key", "required"
        )
    return key


def _moving(
    *,
    actor: Actor,
    scope: str,
    key: str | None,
    body: dict[str, Any],
    run: Callable[[str], tuple[int, Any]],
) -> Status:
    """Run a points movement once per caller and key: ``run`` gets the namespaced ledger key."""
    client_key = _require_key(key)
    owner = actor.idempotency_owner()
    status, out = idempotent_run(
        owner=owner,
        scope=scope,
        key=client_key,
        body=body,
        run=lambda: run(f"{owner}:{client_key}"),
    )
    return Status(status, out)


def _till_body(body: dict[str, Any]) -> dict[str, Any]:
    """What makes two till requests the same: the member, not the ticket's timestamp."""
    ticket = body.pop("member_ticket", None)
    if isinstance(ticket, str):
        body["member_id"] = member_id_in_ticket(ticket) or ticket
    return body


def _txn_out(txn: LedgerTransaction) -> dict[str, Any]:
    return {
        "id": txn.pk,
        "kind": txn.kind,
        "points": txn.points,
        "reason": txn.reason,
        "reference": txn.reference,
        "shop": {"id": txn.shop.pk, "name": txn.shop.name} if txn.shop is not None else None,
        "mall_id": txn.mall_id,
        "created_at": txn.created_at,
        "reverses_id": txn.reverses_id,
    }


def _movement_out(txn: LedgerTransaction) -> dict[str, Any]:
    out = {**_txn_out(txn), "balance": sel.points_balance(member=txn.member)}
    return MovementOut.model_validate(out).model_dump(mode="json")


def _balance_out(member: Member) -> dict[str, Any]:
    return {
        "balance": sel.points_balance(member=member),
        "expiring": [{"on": e.on, "points": e.points} for e in sel.points_expiring(member=member)],
    }


def _till(request: HttpRequest, shop_id: int, scope: str) -> tuple[Actor, Shop]:
    """A till of the shop: its merchant staff, or an API key (with ``scope``) of the shop or
    its mall."""
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(scope)
    shop = access_shop(actor=actor, shop_id=shop_id)
    if actor.api_key is None and not actor.has_shop_role(shop.pk, MERCHANT_ROLES):
        raise PermissionDenied(detail="only the shop's staff work its till")
    return actor, shop


def _operator(request: HttpRequest, scope: str) -> Actor:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(scope)
    return actor


def _person(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    actor.require_person()
    return actor


def _district_malls(actor: Actor, district_id: int) -> set[int] | None:
    """The malls of the district whose points the actor oversees: None for every one (admin,
    district operators), else the malls they operate there; 403 for anyone else."""
    if actor.is_admin or district_id in actor.district_operator_ids:
        return None
    malls = set(actor.operated_mall_ids) & mall_ids_in_districts(district_ids={district_id})
    if not malls:
        raise PermissionDenied(detail="only the district's operators see its points")
    return malls


def _require_runs(actor: Actor, *, district_id: int, mall_id: int | None) -> None:
    """A write at a mall needs its operator; a district-wide one a district operator."""
    if mall_id is None:
        if not (actor.is_admin or district_id in actor.district_operator_ids):
            raise PermissionDenied(detail="only the district's operators may do this district-wide")
    elif not actor.operates_mall(mall_id):
        raise PermissionDenied(detail="only the mall's operators may do this")


def _scope_of(
    actor: Actor, *, district_id: int | None, mall_id: int | None, field: str = "district_id"
) -> tuple[int, int | None]:
    """(district, mall) of an operator write: the mall's district, or the named district (or
    the first one) for a district-wide write; checked against what the actor runs."""
    if mall_id is not None:
        mall = access_mall(actor=actor, mall_id=mall_id)
        if district_id is not None and district_id != mall.district_id:
            raise field_error(field, "the mall is in another district", "invalid")
        district = int(mall.district_id)
    else:
        district = _district_id(district_id)
    _require_runs(actor, district_id=district, mall_id=mall_id)
    return district, mall_id


# --- the shopper ------------------------------------------------------------------------------
@router.get("/me/points", response=BalanceOut, operation_id="my_points_get")
def get_my_points(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Your points balance and the next dates on which some of them expire."""
    return _balance_out(_me(request))


@router.get(
    "/me/points/transactions", response=TransactionPage, operation_id="my_points_transactions"
)
def list_my_transactions(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    page = page_of(
        sel.points_history(member=_me(request)), cursor=cursor, limit=limit, newest_first=True
    )
    return {"items": [_txn_out(t) for t in page.items], "next_cursor": page.next_cursor}


def _item_out(item: ExchangeItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "points_price": item.points_price,
        "stock_left": max(0, item.stock - item.issued),
        "per_member_limit": item.per_member_limit,
        "mall": {"id": item.mall.pk, "name": item.mall.name} if item.mall is not None else None,
    }


@router.get(
    "/exchange-items",
    auth=OPTIONAL,
    response=list[ExchangeItemOut],
    operation_id="exchange_items_list",
)
def list_exchange_items(request: HttpRequest, district_id: int | None = None):  # type: ignore[no-untyped-def]
    """What points buy in the district (default: the first district), cheapest first."""
    items = sel.exchange_catalogue(district_id=_district_id(district_id))
    return [_item_out(i) for i in items]


def _order_out(order: ExchangeOrder) -> dict[str, Any]:
    coupon = order.coupon
    out = {
        "id": order.pk,
        "item_id": order.item_id,
        "item_title": order.item.title,
        "points": -order.transaction.points,
        "coupon": {
            "id": coupon.pk,
            "code": coupon.code,
            "title": coupon.template.title,
            "valid_until": coupon.valid_until,
        }
        if coupon is not None
        else None,
        "pickup_code": order.pickup_code,
        "created_at": order.created_at,
    }
    return ExchangeOrderOut.model_validate(out).model_dump(mode="json")


@router.post(
    "/exchange-items/{item_id}/exchange",
    response={201: ExchangeOrderOut},
    operation_id="exchange_item_buy",
)
def post_exchange(  # type: ignore[no-untyped-def]
    request: HttpRequest, item_id: int, idempotency_key: str | None = IDEMPOTENCY_KEY
):
    """Spend your points on an item: a coupon lands in your wallet, a gift gets a pickup code."""
    _require_key(idempotency_key)  # before enrolling a first-time shopper
    member = _me(request)
    item = sel.access_exchange_item(item_id=item_id)

    def run(key: str) -> tuple[int, Any]:
        return 201, _order_out(exchange.exchange_buy(member=member, item=item, key=key))

    return _moving(
        actor=actor_of(request),
        scope=f"POST /exchange-items/{item_id}/exchange",
        key=idempotency_key,
        body={},
        run=run,
    )


@router.get("/me/exchanges", response=ExchangeOrderPage, operation_id="my_exchanges_list")
def list_my_exchanges(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    qs = sel.exchanges_of(member=_me(request)).select_related("transaction", "coupon__template")
    page = page_of(qs, cursor=cursor, limit=limit, newest_first=True)
    return {"items": [_order_out(o) for o in page.items], "next_cursor": page.next_cursor}


# --- the merchant till ----------------------------------------------------------------------
@router.post(
    "/shops/{shop_id}/points/earn", response={201: MovementOut}, operation_id="points_earn"
)
def post_earn(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    payload: EarnIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """A paid purchase of the member (the ticket from identifying them) earns its points."""
    actor, shop = _till(request, shop_id, ApiScope.LOYALTY_WRITE)

    def run(key: str) -> tuple[int, Any]:
        member = member_from_ticket(ticket=payload.member_ticket, shop_id=shop.pk)
        txn = earning.points_earn(
            actor=actor,
            member=member,
            shop=shop,
            amount_fen=payload.amount_fen,
            reference=payload.reference,
            source="api" if actor.api_key is not None else "pos",
            key=key,
        )
        return 201, _movement_out(txn)

    return _moving(
        actor=actor,
        scope=f"POST /shops/{shop_id}/points/earn",
        key=idempotency_key,
        body=_till_body(payload.model_dump(mode="json")),
        run=run,
    )


@router.post(
    "/shops/{shop_id}/points/spend", response={201: MovementOut}, operation_id="points_spend"
)
def post_spend(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    payload: SpendIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """The member pays with points at the shop."""
    actor, shop = _till(request, shop_id, ApiScope.LOYALTY_WRITE)

    def run(key: str) -> tuple[int, Any]:
        member = member_from_ticket(ticket=payload.member_ticket, shop_id=shop.pk)
        txn = ledger.points_spend(
            actor=actor,
            member=member,
            shop=shop,
            points=payload.points,
            reference=payload.reference,
            key=key,
        )
        return 201, _movement_out(txn)

    return _moving(
        actor=actor,
        scope=f"POST /shops/{shop_id}/points/spend",
        key=idempotency_key,
        body=_till_body(payload.model_dump(mode="json")),
        run=run,
    )


@router.get("/points/quote", response=QuoteOut, operation_id="points_quote")
def get_quote(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    shop_id: int,
    member_ticket: str,
    amount_fen: int = Query(..., ge=1, le=MAX_PURCHASE_FEN),
):
    """What a purchase would earn now (before the rule's daily cap): base and campaign bonus."""
    _actor, shop = _till(request, shop_id, ApiScope.LOYALTY_READ)
    member = member_from_ticket(ticket=member_ticket, shop_id=shop.pk)
    quote = earning.earn_quote(member=member, shop=shop, amount_fen=amount_fen, at=timezone.now())
    return {
        "base": quote.base,
        "bonus": quote.bonus,
        "total": quote.total,
        "rule": quote.rule,
        "campaign": quote.campaign,
    }


# --- operators: members' points ---------------------------------------------------------------
@router.get("/members/{member_id}/points", response=BalanceOut, operation_id="member_points_get")
def get_member_points(request: HttpRequest, member_id: int):  # type: ignore[no-untyped-def]
    actor = _operator(request, ApiScope.LOYALTY_READ)
    return _balance_out(access_member(actor=actor, member_id=member_id))


@router.get(
    "/members/{member_id}/points/transactions",
    response=TransactionPage,
    operation_id="member_points_transactions",
)
def list_member_transactions(  # type: ignore[no-untyped-def]
    request: HttpRequest, member_id: int, cursor: str | None = None, limit: int = 50
):
    actor = _operator(request, ApiScope.LOYALTY_READ)
    member = access_member(actor=actor, member_id=member_id)
    page = page_of(sel.points_history(member=member), cursor=cursor, limit=limit, newest_first=True)
    return {"items": [_txn_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/members/{member_id}/points/adjust",
    response={201: MovementOut},
    operation_id="member_points_adjust",
)
def post_adjust(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    member_id: int,
    payload: AdjustIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Add or remove points with a reason, charged to a mall's pool (``mall_id``) or, for
    district operators, the district pool (``mall_id`` null). Audited."""
    actor = _person(request)
    member = access_member(actor=actor, member_id=member_id)
    _scope_of(actor, district_id=member.district_id, mall_id=payload.mall_id, field="mall_id")

    def run(key: str) -> tuple[int, Any]:
        txn = ledger.points_adjust(
            actor=actor,
            member=member,
            points=payload.points,
            reason=payload.reason,
            mall_id=payload.mall_id,
            key=key,
        )
        return 201, _movement_out(txn)

    return _moving(
        actor=actor,
        scope=f"POST /members/{member_id}/points/adjust",
        key=idempotency_key,
        body=payload.model_dump(mode="json"),
        run=run,
    )


@router.post(
    "/points/transactions/{transaction_id}/reverse",
    response={201: MovementOut},
    operation_id="points_transaction_reverse",
)
def post_reverse(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    transaction_id: int,
    payload: ReverseIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Undo a movement with a compensating one (once; a reversal is not reversed)."""
    actor = _person(request)
    original = sel.access_transaction(actor=actor, transaction_id=transaction_id)
    _require_runs(actor, district_id=original.district_id, mall_id=original.mall_id)

    def run(key: str) -> tuple[int, Any]:
        txn = ledger.points_reverse(actor=actor, original=original, reason=payload.reason, key=key)
        return 201, _movement_out(txn)

    return _moving(
        actor=actor,
        scope=f"POST /points/transactions/{transaction_id}/reverse",
        key=idempotency_key,
        body=payload.model_dump(mode="json"),
        run=run,
    )


# --- operators: earning rules and campaigns ---------------------------------------------------
@router.get(
    "/districts/{district_id}/earning-rules",
    response=list[RuleOut],
    operation_id="earning_rules_list",
)
def list_rules(request: HttpRequest, district_id: int):  # type: ignore[no-untyped-def]
    """Active rules: every one for district operators, else the district-wide ones and those of
    the malls you operate."""
    actor = _operator(request, ApiScope.LOYALTY_READ)
    malls = _district_malls(actor, _district_id(district_id))
    return list(sel.rules_of(district_id=district_id, mall_ids=malls))


@router.post("/earning-rules", response={201: RuleOut}, operation_id="earning_rule_set")
def post_rule(request: HttpRequest, payload: RuleSetIn):  # type: ignore[no-untyped-def]
    """Set the rule of a scope (the district, a mall, a category of a mall, or one shop); the
    scope's previous rule is retired."""
    actor = _person(request)
    mall_id = payload.mall_id
    if payload.shop_id is not None:
        shop = access_shop(actor=actor, shop_id=payload.shop_id)
        if mall_id is not None and mall_id != shop.mall_id:
            raise field_error("mall_id", "the shop is in another mall", "invalid")
        if payload.category:
            raise field_error("category", "a shop rule has no category", "invalid")
        mall_id = shop.mall_id
    district_id, _ = _scope_of(actor, district_id=payload.district_id, mall_id=mall_id)
    rule = earning.rule_set(
        actor=actor,
        district_id=district_id,
        mall_id=mall_id,
        shop_id=payload.shop_id,
        category=payload.category,
        name=payload.name,
        points_per_yuan=payload.points_per_yuan,
        funder=payload.funder,
        daily_cap=payload.daily_cap,
    )
    rule.refresh_from_db()  # decimals as stored (10 -> 10.00)
    return Status(201, rule)


@router.delete("/earning-rules/{rule_id}", response={204: None}, operation_id="earning_rule_retire")
def delete_rule(request: HttpRequest, rule_id: int):  # type: ignore[no-untyped-def]
    actor = _person(request)
    earning.rule_retire(actor=actor, rule=sel.access_rule(actor=actor, rule_id=rule_id))
    return Status(204, None)


@router.get(
    "/districts/{district_id}/campaigns",
    response=list[CampaignOut],
    operation_id="campaigns_list",
)
def list_campaigns(request: HttpRequest, district_id: int):  # type: ignore[no-untyped-def]
    """Campaigns, newest first: district-wide ones and those of the malls you operate."""
    actor = _operator(request, ApiScope.LOYALTY_READ)
    malls = _district_malls(actor, _district_id(district_id))
    return [
        c
        for c in sel.campaigns_of(district_id=district_id)
        if malls is None or c.mall_id is None or c.mall_id in malls
    ]


@router.post("/campaigns", response={201: CampaignOut}, operation_id="campaign_create")
def post_campaign(request: HttpRequest, payload: CampaignCreateIn):  # type: ignore[no-untyped-def]
    """A time-limited points multiplier, funded by the mall that runs it (or the district)."""
    actor = _person(request)
    district_id, mall_id = _scope_of(
        actor, district_id=payload.district_id, mall_id=payload.mall_id
    )
    campaign = earning.campaign_create(
        actor=actor,
        district_id=district_id,
        mall_id=mall_id,
        name=payload.name,
        multiplier=payload.multiplier,
        categories=list(dict.fromkeys(payload.categories)),
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    campaign.refresh_from_db()
    return Status(201, campaign)


# --- operators: the exchange catalogue ------------------------------------------------------
@router.post(
    "/exchange-items", response={201: ExchangeItemOut}, operation_id="exchange_item_create"
)
def post_exchange_item(request: HttpRequest, payload: ExchangeItemCreateIn):  # type: ignore[no-untyped-def]
    actor = _person(request)
    district_id, mall_id = _scope_of(
        actor, district_id=payload.district_id, mall_id=payload.mall_id
    )
    template = None
    if payload.coupon_template_id is not None:
        try:
            template = access_template(actor=actor, template_id=payload.coupon_template_id)
        except NotFound:
            raise field_error(
                "coupon_template_id", "no such coupon template of yours", "not_found"
            ) from None
        if template.district_id != district_id:
            raise field_error("coupon_template_id", "the coupon is of another district", "invalid")
    item = exchange.exchange_item_create(
        actor=actor,
        district_id=district_id,
        mall_id=mall_id,
        kind=payload.kind,
        title=payload.title,
        description=payload.description,
        points_price=payload.points_price,
        stock=payload.stock,
        per_member_limit=payload.per_member_limit,
        coupon_template=template,
    )
    return Status(201, _item_out(sel.access_exchange_item(item_id=item.pk)))


# --- operators: the settlement between pools --------------------------------------------------
@router.get(
    "/districts/{district_id}/points-settlement",
    response=list[PoolRowOut],
    operation_id="points_settlement",
)
def get_settlement(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    district_id: int,
    start: date | None = None,
    end: date | None = None,
):
    """Per funding pool, from ``start`` through ``end`` (local dates, both included; default
    today): points it funded, points it took back, and the net in points and fen. District
    operators see every pool; mall operators the pools of their malls and shops."""
    actor = _operator(request, ApiScope.LOYALTY_READ)
    malls = _district_malls(actor, _district_id(district_id))
    today = timezone.now().astimezone(SHANGHAI).date()
    first, last = start or today, end or start or today
    if last < first:
        raise field_error("end", "must not be before start", "range")
    if (last - first).days >= SETTLEMENT_MAX_DAYS:
        raise field_error("end", f"at most {SETTLEMENT_MAX_DAYS} days at once", "range")
    rows = sel.settlement(
        district_id=district_id,
        start=datetime.combine(first, time.min, tzinfo=SHANGHAI),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=SHANGHAI),
        mall_ids=malls,
    )
    return rows
