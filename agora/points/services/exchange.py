"""The points exchange (MEM-1, CUST-4): gifts, coupons and parking hours bought with points,
within stock and per-member limits, exactly once per idempotency key."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.core.errors import Conflict, FieldError, ValidationFailed, field_error
from agora.core.services import audit_record, snapshot
from agora.coupons.choices import Channel, CouponKind
from agora.coupons.services.wallet import coupon_issue
from agora.lib.codes import random_code
from agora.points.choices import ExchangeKind, Movement
from agora.points.models import ExchangeItem, ExchangeOrder, LedgerTransaction
from agora.points.services.ledger import (
    Leg,
    balance_of,
    district_pool,
    insufficient,
    lock_member,
    mall_pool,
    post,
    run_once,
)


def exchange_item_create(
    *,
    actor: Actor,
    district_id: int,
    mall_id: int | None,
    kind: str,
    title: str,
    description: str,
    points_price: int,
    stock: int,
    per_member_limit: int,
    coupon_template: Any | None,
) -> ExchangeItem:
    errors = []
    if not title.strip():
        errors.append(FieldError("title", "give the item a title", "required"))
    if not 1 <= points_price <= 10_000_000:
        errors.append(FieldError("points_price", "between 1 and 10000000 points", "range"))
    if not 1 <= stock <= 1_000_000:
        errors.append(FieldError("stock", "between 1 and 1000000", "range"))
    if not 1 <= per_member_limit <= 100:
        errors.append(FieldError("per_member_limit", "between 1 and 100", "range"))
    if kind in (ExchangeKind.COUPON, ExchangeKind.PARKING_HOURS):
        if coupon_template is None:
            errors.append(
                FieldError("coupon_template_id", "choose the coupon it gives", "required")
            )
        elif Channel.POINTS not in coupon_template.channels:
            errors.append(
                FieldError("coupon_template_id", "the coupon is not sold for points", "channel")
            )
        elif (
            kind == ExchangeKind.PARKING_HOURS and coupon_template.kind != CouponKind.PARKING_HOURS
        ):
            errors.append(
                FieldError(
                    "coupon_template_id", "parking hours need a parking-hours coupon", "invalid"
                )
            )
    elif coupon_template is not None:
        errors.append(FieldError("coupon_template_id", "a gift gives no coupon", "invalid"))
    if errors:
        raise ValidationFailed(detail="the exchange item is not valid", errors=errors)
    with transaction.atomic():
        item = ExchangeItem.objects.create(
            district_id=district_id,
            mall_id=mall_id,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            points_price=points_price,
            stock=stock,
            per_member_limit=per_member_limit,
            coupon_template=coupon_template,
            created_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="exchange_item.create",
            target=item,
            after=snapshot(item, ["kind", "title", "points_price", "stock"]),
            mall_id=mall_id,
        )
    return item


def exchange_buy(*, member: Any, item: ExchangeItem, key: str) -> ExchangeOrder:
    """Spend points on an item: the member pays the mall's pool (or the district's); a coupon
    lands in the wallet, a gift gets a pickup code for the service desk."""
    if item.district_id != member.district_id or not item.active:
        raise field_error("item_id", "no such item", "not_found")
    payload = {"op": "exchange", "member": member.pk, "item": item.pk}

    def body() -> LedgerTransaction:
        account = lock_member(member=member)
        held = ExchangeOrder.objects.filter(member=member, item=item).count()
        if held >= item.per_member_limit:
            raise Conflict(
                code="member_limit", detail=f"at most {item.per_member_limit} per member"
            )
        balance = balance_of(account)
        if balance < item.points_price:
            raise insufficient(balance, item.points_price)
        taken = ExchangeItem.objects.filter(pk=item.pk, issued__lt=F("stock"), active=True).update(
            issued=F("issued") + 1
        )
        if not taken:
            raise Conflict(code="sold_out", detail="this item is sold out")
        pool = (
            mall_pool(district_id=member.district_id, mall_id=item.mall_id)
            if item.mall_id
            else district_pool(district_id=member.district_id)
        )
        txn = post(
            kind=Movement.REDEEM,
            key=key,
            payload=payload,
            member=member,
            legs=[Leg(account, -item.points_price), Leg(pool, item.points_price)],
            mall_id=item.mall_id,
            reason=f"exchange: {item.title}",
        )
        coupon = None
        if item.coupon_template is not None:
            coupon = coupon_issue(
                template=item.coupon_template, member=member, channel=Channel.POINTS
            )
        ExchangeOrder.objects.create(
            item=item,
            member=member,
            transaction=txn,
            coupon=coupon,
            pickup_code="" if coupon else random_code(8),
            created_at=txn.created_at,
        )
        return txn

    txn = run_once(key=key, payload=payload, body=body)
    return ExchangeOrder.objects.select_related("item", "coupon").get(transaction=txn)
