"""The per-merchant daily settlement: sales and refunds by method, coupons by funder, points
redeemed and merchant-funded points earned, what the district owes each shop, and the CSV.

Orders, payments, refunds, coupons and ledger rows are built with the ORM directly; the days
are Asia/Shanghai days, with activity on both sides of their midnights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from agora.checkout.models import Order, OrderCoupon, Payment, Refund, RefundPart
from agora.checkout.selectors_settlement import SettlementRow, settlement, settlement_csv
from agora.coupons.models import Coupon
from agora.district.models import Shop
from agora.lib.timeutil import SHANGHAI
from agora.members.models import Member
from agora.points.models import LedgerAccount, LedgerEntry, LedgerTransaction, PointsScheme
from agora.testing.personas import shop_id_of, user

pytestmark = pytest.mark.django_db

DAY = date(2021, 3, 14)
EVE = DAY - timedelta(days=1)
NEXT = DAY + timedelta(days=1)


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


@dataclass
class World:
    starbucks: Shop  # mall 1, the cashier's shop
    other: Shop  # mall 1, the "b" owner's shop
    district_id: int


def _order(
    shop: Shop,
    number: str,
    *,
    subtotal: int,
    paid_at: datetime | None,
    discount: int = 0,
    points_used: int = 0,
    points_fen: int = 0,
    status: str = "paid",
) -> Order:
    payable = subtotal - discount - points_fen
    return Order.objects.create(
        number=number,
        district_id=shop.mall.district_id,
        mall_id=shop.mall_id,
        shop=shop,
        channel="pos",
        status=status,
        subtotal_fen=subtotal,
        discount_fen=discount,
        points_used=points_used,
        points_fen=points_fen,
        payable_fen=payable,
        paid_fen=payable if paid_at else 0,
        created_at=(paid_at or at(9)) - timedelta(minutes=3),
        paid_at=paid_at,
    )


def _pay(
    o: Order,
    number: str,
    method: str,
    amount: int,
    *,
    status: str = "paid",
    refunded: int = 0,
) -> Payment:
    online = method not in ("cash", "bank_card")
    return Payment.objects.create(
        order=o,
        number=number,
        method=method,
        provider="sandbox" if online else "",
        amount_fen=amount,
        refunded_fen=refunded,
        status=status,
        created_at=o.created_at,
        paid_at=o.paid_at if status != "pending" else None,
    )


def _refund(pay: Payment, number: str, amount: int, *, at_: datetime, status: str) -> None:
    refund = Refund.objects.create(
        order=pay.order,
        number="R" + number,
        key="refund:" + number,
        request_hash="0" * 64,
        amount_fen=amount,
        reason="顾客退货",
        status=status,
        created_at=at_,
    )
    RefundPart.objects.create(
        refund=refund, payment=pay, number=number, amount_fen=amount, status=status, created_at=at_
    )


def _coupon(o: Order, coupon: Coupon, funder: str, fen: int) -> None:
    OrderCoupon.objects.create(
        order=o, coupon=coupon, title=f"{funder} coupon", funder=funder, discount_fen=fen
    )


def _account(district_id: int, kind: str, **owner: object) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(district_id=district_id, kind=kind, **owner)
    return account


def _points(
    member: Member, kind: str, when: datetime, legs: list[tuple[LedgerAccount, int]], key: str
) -> LedgerTransaction:
    assert sum(amount for _, amount in legs) == 0
    txn = LedgerTransaction.objects.create(
        district_id=member.district_id,
        kind=kind,
        key=key,
        request_hash="0" * 64,
        member=member,
        points=sum(amount for account, amount in legs if account.member_id == member.pk),
        created_at=when,
    )
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(transaction=txn, account=a, amount=n, created_at=when) for a, n in legs]
    )
    return txn


@pytest.fixture
def world() -> World:
    """Two shops of mall 1 with a busy DAY, a late evening before it and an early morning
    after it; one point is worth 2 fen."""
    starbucks = Shop.objects.select_related("mall").get(pk=shop_id_of("shop-cashier-1"))
    other = Shop.objects.select_related("mall").get(pk=shop_id_of("shop-owner-1b"))
    district_id = starbucks.mall.district_id
    PointsScheme.objects.filter(district_id=district_id).update(fen_per_point=2)
    mall_coupon, merchant_coupon = Coupon.objects.order_by("id")[:2]
    member = Member.objects.get(user=user("13800000001"))
    me = _account(district_id, "member", member=member)
    pool = _account(district_id, "merchant_pool", shop=starbucks)
    other_pool = _account(district_id, "merchant_pool", shop=other)
    mall_pool = _account(district_id, "mall_pool", mall=starbucks.mall)

    # DAY 00:00:00: 300.00 with a mall coupon (30.00), a merchant coupon (5.00) and 1000 points
    # (10.00); 255.00 paid by WeChat, 50.00 of it refunded at 15:00 (a failed try before)
    o1 = _order(
        starbucks,
        "S1",
        subtotal=30000,
        paid_at=at(0, 0, 0),
        discount=3500,
        points_used=1000,
        points_fen=1000,
        status="partially_refunded",
    )
    _coupon(o1, mall_coupon, "mall", 3000)
    _coupon(o1, merchant_coupon, "merchant", 500)
    p1 = _pay(o1, "S1-1", "wechat", 25500, status="partially_refunded", refunded=5000)
    _refund(p1, "S1-R0", 1000, at_=at(14, 59), status="failed")
    _refund(p1, "S1-R1", 5000, at_=at(15), status="succeeded")
    o1.spend_txn = _points(member, "redeem", at(0, 0, 0), [(me, -1000), (pool, 1000)], "s1:spend")
    # the earn: 600 points, 400 funded by the shop, 200 by the mall; 100 clawed back at 15:00
    o1.earn_txn = _points(
        member, "earn", at(0, 0, 1), [(me, 600), (pool, -400), (mall_pool, -200)], "s1:earn"
    )
    o1.save(update_fields=["spend_txn", "earn_txn"])
    _points(member, "clawback", at(15), [(me, -100), (pool, 70), (mall_pool, 30)], "s1:claw")

    # DAY 12:00: 120.00, 70.00 by WeChat (20.00 refund still processing) and 50.00 by card
    o3 = _order(starbucks, "S3", subtotal=12000, paid_at=at(12))
    p3 = _pay(o3, "S3-1", "wechat", 7000)
    _pay(o3, "S3-2", "bank_card", 5000)
    _refund(p3, "S3-R1", 2000, at_=at(16), status="processing")

    # DAY 23:59:59: 88.00 in cash
    _pay(_order(starbucks, "S2", subtotal=8800, paid_at=at(23, 59, 59)), "S2-1", "cash", 8800)

    # EVE 23:59:59: 50.00 with a mall coupon of 10.00, 40.00 by Alipay; 50 points earned
    o4 = _order(starbucks, "S4", subtotal=5000, paid_at=at(23, 59, 59, day=EVE), discount=1000)
    _coupon(o4, mall_coupon, "mall", 1000)
    _pay(o4, "S4-1", "alipay", 4000)
    _points(member, "earn", at(23, 59, 59, day=EVE), [(me, 50), (pool, -50)], "s4:earn")

    # NEXT 00:00:00: 66.00 by Alipay, outside EVE..DAY
    _pay(
        _order(starbucks, "S5", subtotal=6600, paid_at=at(0, 0, 0, day=NEXT)),
        "S5-1",
        "alipay",
        6600,
    )
    _points(member, "earn", at(0, 0, 0, day=NEXT), [(me, 9), (pool, -9)], "s5:earn")

    # never paid: a pending order with a pending payment and a mall coupon
    o6 = _order(starbucks, "S6", subtotal=9900, paid_at=None, discount=900, status="pending")
    _coupon(o6, mall_coupon, "mall", 900)
    _pay(o6, "S6-1", "wechat", 9000, status="pending")

    # the other shop: no sale on DAY, only 100 points it funded
    _points(member, "earn", at(18), [(me, 100), (other_pool, -100)], "other:earn")
    return World(starbucks, other, district_id)


def _starbucks_day(w: World) -> SettlementRow:
    return SettlementRow(
        day=DAY,
        shop_id=w.starbucks.pk,
        shop_name="星巴克",
        mall_id=w.starbucks.mall_id,
        sales_by_method={"wechat": 32500, "bank_card": 5000, "cash": 8800},
        refunds_by_method={"wechat": 7000},
        online_sales_fen=32500,
        online_refunds_fen=7000,
        mall_coupon_fen=3000,
        merchant_coupon_fen=500,
        points_redeemed=1000,
        points_redeemed_fen=1000,
        points_earned_merchant_funded=330,  # 400 earned - 70 clawed back
        points_earned_merchant_funded_fen=660,  # x 2 fen
        # 325.00 online - 70.00 refunds + 30.00 mall coupon + 10.00 points - 6.60 points funded
        net_payable_fen=28840,
    )


def _starbucks_eve(w: World) -> SettlementRow:
    return SettlementRow(
        day=EVE,
        shop_id=w.starbucks.pk,
        shop_name="星巴克",
        mall_id=w.starbucks.mall_id,
        sales_by_method={"alipay": 4000},
        refunds_by_method={},
        online_sales_fen=4000,
        online_refunds_fen=0,
        mall_coupon_fen=1000,
        merchant_coupon_fen=0,
        points_redeemed=0,
        points_redeemed_fen=0,
        points_earned_merchant_funded=50,
        points_earned_merchant_funded_fen=100,
        net_payable_fen=4900,  # 40.00 + 10.00 - 1.00
    )


def _other_day(w: World) -> SettlementRow:
    return SettlementRow(
        day=DAY,
        shop_id=w.other.pk,
        shop_name=w.other.name,
        mall_id=w.other.mall_id,
        points_earned_merchant_funded=100,
        points_earned_merchant_funded_fen=200,
        net_payable_fen=-200,
    )


def test_settlement_of_two_days_per_shop(world: World) -> None:
    assert world.other.pk < world.starbucks.pk

    rows = settlement(shop_ids=None, district_id=world.district_id, day_from=EVE, day_to=DAY)

    assert rows == [_starbucks_eve(world), _other_day(world), _starbucks_day(world)]


def test_settlement_of_one_day_and_one_shop(world: World) -> None:
    one_day = settlement(shop_ids=None, district_id=world.district_id, day_from=DAY, day_to=DAY)
    assert one_day == [_other_day(world), _starbucks_day(world)]

    one_shop = settlement(
        shop_ids=[world.starbucks.pk], district_id=world.district_id, day_from=EVE, day_to=DAY
    )
    assert one_shop == [_starbucks_eve(world), _starbucks_day(world)]

    next_day = settlement(
        shop_ids=[world.starbucks.pk], district_id=world.district_id, day_from=NEXT, day_to=NEXT
    )
    assert [
        (r.day, r.sales_by_method, r.points_earned_merchant_funded, r.net_payable_fen)
        for r in next_day
    ] == [(NEXT, {"alipay": 6600}, 9, 6600 - 18)]


def test_settlement_of_a_quiet_day_or_another_district_is_empty(world: World) -> None:
    quiet = DAY - timedelta(days=10)
    assert (
        settlement(shop_ids=None, district_id=world.district_id, day_from=quiet, day_to=quiet) == []
    )
    assert (
        settlement(shop_ids=None, district_id=world.district_id + 99, day_from=EVE, day_to=DAY)
        == []
    )
    assert settlement(shop_ids=[], district_id=world.district_id, day_from=EVE, day_to=DAY) == []


def test_settlement_csv_text(world: World) -> None:
    rows = settlement(shop_ids=None, district_id=world.district_id, day_from=EVE, day_to=DAY)

    text = settlement_csv(rows)

    s, o = world.starbucks.pk, world.other.pk
    assert text == (
        "日期 date,商户编号 shop_id,商户 shop,"
        "销售-微信支付 sales_wechat,销售-支付宝 sales_alipay,销售-云闪付 sales_unionpay,"
        "销售-数字人民币 sales_ecny,销售-银行卡 sales_bank_card,销售-现金 sales_cash,"
        "线上销售 online_sales,"
        "退款-微信支付 refunds_wechat,退款-支付宝 refunds_alipay,退款-云闪付 refunds_unionpay,"
        "退款-数字人民币 refunds_ecny,退款-银行卡 refunds_bank_card,退款-现金 refunds_cash,"
        "线上退款 online_refunds,商场券 mall_coupons,商户券 merchant_coupons,"
        "积分抵扣(分) points_redeemed,积分抵扣金额 points_redeemed_value,"
        "商户出资积分(分) merchant_funded_points,商户出资积分金额 merchant_funded_points_value,"
        "应付商户 net_payable\r\n"
        f"2021-03-13,{s},星巴克,0.00,40.00,0.00,0.00,0.00,0.00,40.00,"
        "0.00,0.00,0.00,0.00,0.00,0.00,0.00,10.00,0.00,0,0.00,50,1.00,49.00\r\n"
        f"2021-03-14,{o},{world.other.name},0.00,0.00,0.00,0.00,0.00,0.00,0.00,"
        "0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0,0.00,100,2.00,-2.00\r\n"
        f"2021-03-14,{s},星巴克,325.00,0.00,0.00,0.00,50.00,88.00,325.00,"
        "70.00,0.00,0.00,0.00,0.00,0.00,70.00,30.00,5.00,1000,10.00,330,6.60,288.40\r\n"
    )


def test_settlement_csv_quotes_names_and_keeps_fen_exact() -> None:
    row = SettlementRow(
        day=DAY,
        shop_id=7,
        shop_name='Café "Le Coin", 2F',
        mall_id=1,
        sales_by_method={"unionpay": 1, "cash": 100000001},
        refunds_by_method={"unionpay": 10},
        online_sales_fen=1,
        online_refunds_fen=10,
        net_payable_fen=-9,
    )

    text = settlement_csv([row])

    assert text.splitlines()[1] == (
        '2021-03-14,7,"Café ""Le Coin"", 2F",0.00,0.00,0.01,0.00,0.00,1000000.01,0.01,'
        "0.00,0.00,0.10,0.00,0.00,0.00,0.10,0.00,0.00,0,0.00,0,0.00,-0.09"
    )
    assert len(text.splitlines()) == 2
