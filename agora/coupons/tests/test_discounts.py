"""What a coupon takes off a bill (coupons.services.templates.discount_for), for every kind:
cash off, 满减 thresholds, percent off with its cap, gifts and parking coupons."""

from __future__ import annotations

import pytest

from agora.coupons.choices import CouponKind
from agora.coupons.models import CouponTemplate
from agora.coupons.services.templates import discount_for

PARKING = "parking coupons are used at the car park exit"


def _template(kind: str, **fields: int) -> CouponTemplate:
    return CouponTemplate(kind=kind, **fields)


@pytest.mark.parametrize(
    ("fields", "amount", "expected"),
    [
        ({"value_fen": 500}, 2000, (500, "")),
        ({"value_fen": 500}, 500, (500, "")),
        ({"value_fen": 500}, 300, (300, "")),  # never more than the bill
        ({"value_fen": 500}, 1, (1, "")),
        ({"value_fen": 500, "threshold_fen": 1000}, 999, (0, "spend at least 1000 fen")),
        ({"value_fen": 500, "threshold_fen": 1000}, 1000, (500, "")),
    ],
)
def test_cash_off(fields: dict[str, int], amount: int, expected: tuple[int, str]) -> None:
    assert discount_for(_template(CouponKind.CASH_OFF, **fields), amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, (0, "spend at least 20000 fen")),
        (19999, (0, "spend at least 20000 fen")),
        (20000, (3000, "")),
        (26800, (3000, "")),
        (1_000_000, (3000, "")),
    ],
)
def test_threshold_spend_and_save(amount: int, expected: tuple[int, str]) -> None:
    template = _template(CouponKind.THRESHOLD, value_fen=3000, threshold_fen=20000)  # 满200减30
    assert discount_for(template, amount) == expected


@pytest.mark.parametrize(
    ("fields", "amount", "expected"),
    [
        ({"percent_off": 10, "cap_fen": 5000}, 10000, (1000, "")),
        ({"percent_off": 10, "cap_fen": 5000}, 50000, (5000, "")),  # exactly the cap
        ({"percent_off": 10, "cap_fen": 5000}, 60000, (5000, "")),  # capped
        ({"percent_off": 10, "cap_fen": 5000}, 999, (99, "")),  # 99.9 floors to 99
        ({"percent_off": 10, "cap_fen": 5000}, 9, (0, "")),  # 0.9 floors to 0
        ({"percent_off": 90, "cap_fen": 100_000}, 100, (90, "")),
        (
            {"percent_off": 15, "cap_fen": 2000, "threshold_fen": 10000},
            9999,
            (0, "spend at least 10000 fen"),
        ),
        ({"percent_off": 15, "cap_fen": 2000, "threshold_fen": 10000}, 10000, (1500, "")),
        ({"percent_off": 15, "cap_fen": 2000, "threshold_fen": 10000}, 20000, (2000, "")),
    ],
)
def test_percent_off_is_floored_and_capped(
    fields: dict[str, int], amount: int, expected: tuple[int, str]
) -> None:
    assert discount_for(_template(CouponKind.PERCENT_OFF, **fields), amount) == expected


def test_a_gift_takes_nothing_off_the_bill() -> None:
    gift = _template(CouponKind.GIFT, value_fen=2500)
    assert discount_for(gift, 100_000) == (0, "")
    assert discount_for(_template(CouponKind.GIFT, value_fen=2500, threshold_fen=5000), 100) == (
        0,
        "spend at least 5000 fen",
    )


@pytest.mark.parametrize("kind", [CouponKind.PARKING_FEE, CouponKind.PARKING_HOURS])
@pytest.mark.parametrize("amount", [1, 20000, 1_000_000])
def test_parking_coupons_are_not_used_at_a_till(kind: str, amount: int) -> None:
    template = _template(kind, value_fen=1000, parking_hours=2)
    assert discount_for(template, amount) == (0, PARKING)


@pytest.mark.django_db
def test_the_demo_templates() -> None:
    starbucks = CouponTemplate.objects.filter(title="星巴克 立减5元").order_by("id").first()
    assert starbucks is not None
    assert [discount_for(starbucks, a) for a in (3800, 300)] == [(500, ""), (300, "")]
    fashion = CouponTemplate.objects.get(title="商圈服饰 9折（最高减50元）")
    assert [discount_for(fashion, a) for a in (29900, 88800)] == [(2990, ""), (5000, "")]
    threshold = CouponTemplate.objects.filter(kind=CouponKind.THRESHOLD).order_by("id").first()
    assert threshold is not None and threshold.title.endswith("满200减30")
    assert [discount_for(threshold, a) for a in (19900, 26800)] == [
        (0, "spend at least 20000 fen"),
        (3000, ""),
    ]
    parking = CouponTemplate.objects.filter(kind=CouponKind.PARKING_HOURS).order_by("id").first()
    assert parking is not None
    assert discount_for(parking, 50000) == (0, PARKING)
