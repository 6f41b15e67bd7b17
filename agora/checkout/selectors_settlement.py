"""The per-merchant daily settlement report (MERCH-3): what each shop sold and refunded per
payment method, the coupons and points in its orders, and what the district owes it.

Days are Asia/Shanghai days; every amount is integer fen."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate

from agora.checkout.choices import ONLINE_METHODS, Method, OrderStatus, PaymentStatus, RefundStatus
from agora.checkout.models import Order, OrderCoupon, Payment, RefundPart
from agora.district.models import Shop
from agora.lib.timeutil import SHANGHAI
from agora.points.choices import AccountKind, Movement
from agora.points.models import LedgerEntry, PointsScheme

PAID_PAYMENTS = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
PAID_ORDERS = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
COUNTED_REFUNDS = (RefundStatus.SUCCEEDED, RefundStatus.PROCESSING)
ONLINE = frozenset(m.value for m in ONLINE_METHODS)
METHOD_ORDER = [m.value for m in Method]


@dataclass(frozen=True)
class SettlementRow:
    """One shop on one Asia/Shanghai day. ``sales_by_method`` and ``refunds_by_method`` hold
    only the methods used that day, in ``Method`` order."""

    day: date
    shop_id: int
    shop_name: str
    mall_id: int
    sales_by_method: dict[str, int] = field(default_factory=dict)
    refunds_by_method: dict[str, int] = field(default_factory=dict)
    online_sales_fen: int = 0
    online_refunds_fen: int = 0
    mall_coupon_fen: int = 0
    merchant_coupon_fen: int = 0
    points_redeemed: int = 0
    points_redeemed_fen: int = 0
    points_earned_merchant_funded: int = 0
    points_earned_merchant_funded_fen: int = 0
    net_payable_fen: int = 0


def _bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day_from, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    return start, end


def _ordered(by_method: dict[str, int]) -> dict[str, int]:
    return {m: by_method[m] for m in sorted(by_method, key=_method_rank)}


def _method_rank(method: str) -> tuple[int, str]:
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), method)


def settlement(
    *, shop_ids: list[int] | None, district_id: int, day_from: date, day_to: date
) -> list[SettlementRow]:
    """One row per (shop, Asia/Shanghai day) with any activity, from ``day_from`` through
    ``day_to`` (both included), ordered by day then shop id. ``shop_ids=None``: every shop of
    the district.

    What counts on a day:

    * ``sales_by_method``: payments paid that day (``paid_at``; status paid, partially or
      fully refunded since), their full amount, by method;
    * ``refunds_by_method``: refund parts created that day, succeeded or processing, by the
      method of the payment they go back through;
    * ``mall_coupon_fen`` / ``merchant_coupon_fen``: the discounts of the coupons
      (``OrderCoupon`` rows, by ``funder``) of the orders paid that day;
    * ``points_redeemed`` / ``points_redeemed_fen``: ``Order.points_used`` / ``points_fen`` of
      the orders paid that day;
    * ``points_earned_merchant_funded``: the points the shop's merchant pool funded that day,
      net of clawbacks: minus the sum of the entries on the shop's merchant-pool account of
      earn and clawback transactions created that day; ``..._fen`` is that times the district
      scheme's ``fen_per_point``.

    What the district, which collects the online payments, owes the merchant::

        net_payable_fen = online sales - online refunds          (wechat, alipay, unionpay, ecny)
                        + mall_coupon_fen                         (the mall funds the discount)
                        + points_redeemed_fen                     (points paid part of the bill)
                        - points_earned_merchant_funded_fen       (the merchant funds the points)

    Cash and bank-card sales and refunds go through the merchant's own till and terminal: they
    are listed in the by-method figures but are not in ``net_payable_fen``. Merchant-funded
    coupons are the merchant's own discount and are listed only. The figure can be negative
    (the merchant owes the district)."""
    start, end = _bounds(day_from, day_to)
    shops = Shop.objects.filter(mall__district_id=district_id)
    if shop_ids is not None:
        shops = shops.filter(pk__in=shop_ids)
    shop_info = {s.pk: (s.name, s.mall_id) for s in shops.order_by()}
    scheme = PointsScheme.objects.filter(district_id=district_id).first()
    fen_per_point = scheme.fen_per_point if scheme is not None else 1

    Key = tuple[int, date]
    sales: dict[Key, dict[str, int]] = defaultdict(dict)
    refunds: dict[Key, dict[str, int]] = defaultdict(dict)
    mall_coupons: dict[Key, int] = defaultdict(int)
    merchant_coupons: dict[Key, int] = defaultdict(int)
    points_used: dict[Key, int] = defaultdict(int)
    points_fen: dict[Key, int] = defaultdict(int)
    merchant_points: dict[Key, int] = defaultdict(int)
    active: set[Key] = set()
    shop_list = list(shop_info)

    for pay in (
        Payment.objects.filter(
            order__district_id=district_id,
            order__shop_id__in=shop_list,
            status__in=PAID_PAYMENTS,
            paid_at__gte=start,
            paid_at__lt=end,
        )
        .annotate(day=TruncDate("paid_at", tzinfo=SHANGHAI))
        .values("order__shop_id", "day", "method")
        .annotate(fen=Sum("amount_fen"))
        .order_by()
    ):
        key = (pay["order__shop_id"], pay["day"])
        sales[key][pay["method"]] = int(pay["fen"] or 0)
        active.add(key)

    for part in (
        RefundPart.objects.filter(
            payment__order__district_id=district_id,
            payment__order__shop_id__in=shop_list,
            status__in=COUNTED_REFUNDS,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .values("payment__order__shop_id", "day", "payment__method")
        .annotate(fen=Sum("amount_fen"))
        .order_by()
    ):
        key = (part["payment__order__shop_id"], part["day"])
        refunds[key][part["payment__method"]] = int(part["fen"] or 0)
        active.add(key)

    paid_orders = Order.objects.filter(
        district_id=district_id,
        shop_id__in=shop_list,
        status__in=PAID_ORDERS,
        paid_at__gte=start,
        paid_at__lt=end,
    )
    for coupon in (
        OrderCoupon.objects.filter(order__in=paid_orders)
        .annotate(day=TruncDate("order__paid_at", tzinfo=SHANGHAI))
        .values("order__shop_id", "day", "funder")
        .annotate(fen=Sum("discount_fen"))
        .order_by()
    ):
        key = (coupon["order__shop_id"], coupon["day"])
        if coupon["funder"] == "mall":
            mall_coupons[key] += int(coupon["fen"] or 0)
        elif coupon["funder"] == "merchant":
            merchant_coupons[key] += int(coupon["fen"] or 0)
        active.add(key)

    for order in (
        paid_orders.filter(points_used__gt=0)
        .annotate(day=TruncDate("paid_at", tzinfo=SHANGHAI))
        .values("shop_id", "day")
        .annotate(points=Sum("points_used"), fen=Sum("points_fen"))
        .order_by()
    ):
        key = (order["shop_id"], order["day"])
        points_used[key] += int(order["points"] or 0)
        points_fen[key] += int(order["fen"] or 0)
        active.add(key)

    for entry in (
        LedgerEntry.objects.filter(
            account__district_id=district_id,
            account__kind=AccountKind.MERCHANT_POOL,
            account__shop_id__in=shop_list,
            transaction__kind__in=(Movement.EARN, Movement.CLAWBACK),
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .values("account__shop_id", "day")
        .annotate(points=Sum("amount"))
        .order_by()
    ):
        key = (entry["account__shop_id"], entry["day"])
        merchant_points[key] += -int(entry["points"] or 0)
        active.add(key)

    out = []
    for shop_id, day in sorted(active, key=lambda k: (k[1], k[0])):
        key = (shop_id, day)
        name, mall_id = shop_info[shop_id]
        online_sales = sum(v for m, v in sales[key].items() if m in ONLINE)
        online_refunds = sum(v for m, v in refunds[key].items() if m in ONLINE)
        earned = merchant_points[key]
        earned_fen = earned * fen_per_point
        out.append(
            SettlementRow(
                day=day,
                shop_id=shop_id,
                shop_name=name,
                mall_id=mall_id,
                sales_by_method=_ordered(sales[key]),
                refunds_by_method=_ordered(refunds[key]),
                online_sales_fen=online_sales,
                online_refunds_fen=online_refunds,
                mall_coupon_fen=mall_coupons[key],
                merchant_coupon_fen=merchant_coupons[key],
                points_redeemed=points_used[key],
                points_redeemed_fen=points_fen[key],
                points_earned_merchant_funded=earned,
                points_earned_merchant_funded_fen=earned_fen,
                net_payable_fen=(
                    online_sales - online_refunds + mall_coupons[key] + points_fen[key] - earned_fen
                ),
            )
        )
    return out


# --- CSV -------------------------------------------------------------------------------------
METHOD_ZH = {
    "wechat": "微信支付",
    "alipay": "支付宝",
    "unionpay": "云闪付",
    "ecny": "数字人民币",
    "bank_card": "银行卡",
    "cash": "现金",
}


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals, exactly: 12345 -> "123.45", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def settlement_header() -> list[str]:
    return [
        "日期 date",
        "商户编号 shop_id",
        "商户 shop",
        *(f"销售-{METHOD_ZH[m]} sales_{m}" for m in METHOD_ORDER),
        "线上销售 online_sales",
        *(f"退款-{METHOD_ZH[m]} refunds_{m}" for m in METHOD_ORDER),
        "线上退款 online_refunds",
        "商场券 mall_coupons",
        "商户券 merchant_coupons",
        "积分抵扣(分) points_redeemed",
        "积分抵扣金额 points_redeemed_value",
        "商户出资积分(分) merchant_funded_points",
        "商户出资积分金额 merchant_funded_points_value",
        "应付商户 net_payable",
    ]


def settlement_csv(rows: Iterable[SettlementRow]) -> str:
    """The rows as CSV text (RFC 4180: CRLF line ends, quoted where needed): one bilingual
    header row, then one line per row; money in yuan with two decimals, point counts as
    integers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(settlement_header())
    for r in rows:
        writer.writerow(
            [
                r.day.isoformat(),
                str(r.shop_id),
                r.shop_name,
                *(yuan(r.sales_by_method.get(m, 0)) for m in METHOD_ORDER),
                yuan(r.online_sales_fen),
                *(yuan(r.refunds_by_method.get(m, 0)) for m in METHOD_ORDER),
                yuan(r.online_refunds_fen),
                yuan(r.mall_coupon_fen),
                yuan(r.merchant_coupon_fen),
                str(r.points_redeemed),
                yuan(r.points_redeemed_fen),
                str(r.points_earned_merchant_funded),
                yuan(r.points_earned_merchant_funded_fen),
                yuan(r.net_payable_fen),
            ]
        )
    return buffer.getvalue()
