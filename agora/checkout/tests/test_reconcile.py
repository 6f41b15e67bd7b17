"""Daily reconciliation against a provider's bill: each kind of mismatch, a clean day, running
a day again, a provider that cannot hand over its bill, and every provider in one go.

The provider is a tiny fake that only has a bill (``BILLS`` below); Agora's side is built with
the ORM directly."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from agora.checkout.models import (
    Mismatch,
    Order,
    Payment,
    ReconciliationRun,
    Refund,
    RefundPart,
)
from agora.checkout.providers import reset_providers
from agora.checkout.providers.base import (
    Answer,
    BillRow,
    Notice,
    Provider,
    ProviderError,
    RefundRequest,
    RefundResult,
    Started,
    StartRequest,
    Status,
)
from agora.checkout.services.reconcile import reconcile_all, reconcile_day
from agora.district.models import Shop
from agora.lib.timeutil import SHANGHAI
from agora.testing.personas import shop_id_of

pytestmark = pytest.mark.django_db

DAY = date(2021, 3, 14)
#: what each fake provider's bill() returns (or raises), by provider name
BILLS: dict[str, list[BillRow] | Exception] = {}
#: every bill() call: (provider name, day)
CALLS: list[tuple[str, date]] = []


class BillOnlyProvider(Provider):
    """A provider that only hands over the bill set in ``BILLS``."""

    methods = ("wechat", "alipay")

    def __init__(self, *, name: str, **_options: Any) -> None:
        self.name = name

    def bill(self, day: date) -> list[BillRow]:
        CALLS.append((self.name, day))
        got = BILLS.get(self.name, [])
        if isinstance(got, Exception):
            raise got
        return list(got)

    def start(self, request: StartRequest) -> Started:
        raise NotImplementedError

    def query(self, out_trade_no: str) -> Status:
        raise NotImplementedError

    def close(self, out_trade_no: str) -> None:
        raise NotImplementedError

    def refund(self, request: RefundRequest) -> RefundResult:
        raise NotImplementedError

    def parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        raise NotImplementedError

    def answer(self, accepted: bool) -> Answer:
        raise NotImplementedError


@pytest.fixture(autouse=True)
def fake_providers(settings: Any) -> Iterator[None]:
    fake = {"class": "agora.checkout.tests.test_reconcile.BillOnlyProvider"}
    settings.PAYMENT_PROVIDERS = {"testpay": dict(fake), "otherpay": dict(fake)}
    reset_providers()
    BILLS.clear()
    CALLS.clear()
    yield
    BILLS.clear()
    CALLS.clear()
    reset_providers()


# --- building Agora's side -------------------------------------------------------------------
def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    """A moment of an Asia/Shanghai day."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def _shop() -> Shop:
    return Shop.objects.select_related("mall").get(pk=shop_id_of("shop-cashier-1"))


def order(number: str, amount: int, *, paid_at: datetime | None, status: str = "paid") -> Order:
    shop = _shop()
    return Order.objects.create(
        number=number,
        district_id=shop.mall.district_id,
        mall_id=shop.mall_id,
        shop=shop,
        channel="pos",
        status=status,
        subtotal_fen=amount,
        payable_fen=amount,
        paid_fen=amount if paid_at else 0,
        created_at=(paid_at or at(9)) - timedelta(minutes=2),
        paid_at=paid_at,
    )


def payment(
    number: str,
    amount: int,
    *,
    paid_at: datetime | None,
    status: str = "paid",
    provider: str = "testpay",
    method: str = "wechat",
) -> Payment:
    """A payment (and its order) of ``amount`` fen."""
    o = order("O" + number, amount, paid_at=paid_at, status=status if paid_at else "pending")
    return Payment.objects.create(
        order=o,
        number=number,
        method=method,
        provider=provider,
        amount_fen=amount,
        status=status,
        created_at=o.created_at,
        paid_at=paid_at,
    )


def refund_part(
    pay: Payment, number: str, amount: int, *, created_at: datetime, status: str = "succeeded"
) -> RefundPart:
    refund = Refund.objects.create(
        order=pay.order,
        number="R" + number,
        key="refund:" + number,
        request_hash="0" * 64,
        amount_fen=amount,
        reason="顾客退货",
        status=status,
        created_at=created_at,
    )
    return RefundPart.objects.create(
        refund=refund,
        payment=pay,
        number=number,
        amount_fen=amount,
        status=status,
        created_at=created_at,
    )


def paid(out_trade_no: str, fen: int) -> BillRow:
    return BillRow(kind="payment", out_trade_no=out_trade_no, amount_fen=fen)


def refunded(out_trade_no: str, out_refund_no: str, fen: int) -> BillRow:
    return BillRow(
        kind="refund", out_trade_no=out_trade_no, out_refund_no=out_refund_no, amount_fen=fen
    )


def run_figures(run: ReconciliationRun) -> tuple[int, int, int, int, str]:
    run.refresh_from_db()
    return (run.payments_checked, run.refunds_checked, run.matched, run.mismatched, run.error)


def mismatches(run: ReconciliationRun) -> list[tuple[str, str, str, int | None, int | None, str]]:
    return [
        (m.kind, m.out_trade_no, m.out_refund_no, m.agora_fen, m.provider_fen, m.detail)
        for m in Mismatch.objects.filter(run=run).order_by("id")
    ]


# --- a clean day -----------------------------------------------------------------------------
def test_a_clean_day_matches_every_payment_and_refund() -> None:
    first = payment("T01", 3800, paid_at=at(0, 0, 0))  # the first second of the day counts
    second = payment("T02", 12900, paid_at=at(23, 59, 59), status="partially_refunded")
    refund_part(second, "TR01", 2900, created_at=at(23, 59, 59))
    # none of these is Agora's side of testpay's day
    payment("T03", 500, paid_at=at(23, 59, 59, day=DAY - timedelta(days=1)))  # the day before
    payment("T04", 600, paid_at=at(0, 0, 0, day=DAY + timedelta(days=1)))  # the day after
    payment("T05", 700, paid_at=at(12), provider="otherpay")  # another provider
    payment("T06", 800, paid_at=at(12), provider="", method="cash")  # at the till
    payment("T07", 900, paid_at=None, status="pending")  # never paid
    refund_part(first, "TR02", 100, created_at=at(13), status="failed")  # a failed refund
    BILLS["testpay"] = [paid("T01", 3800), paid("T02", 12900), refunded("T02", "TR01", 2900)]

    run = reconcile_day(provider="testpay", day=DAY, now=at(3, day=DAY + timedelta(days=1)))

    assert CALLS == [("testpay", DAY)]
    assert (run.provider, run.day, run.ran_at) == ("testpay", DAY, at(3, day=DAY + timedelta(1)))
    assert run_figures(run) == (2, 1, 3, 0, "")
    assert mismatches(run) == []
    assert ReconciliationRun.objects.count() == 1


# --- every kind of mismatch ------------------------------------------------------------------
def test_every_kind_of_mismatch_is_found_once() -> None:
    p1 = payment("T11", 1000, paid_at=at(9))  # matches
    p2 = payment("T12", 2000, paid_at=at(10), status="partially_refunded")  # bill says 1990
    p3 = payment("T13", 500, paid_at=at(11))  # not on the bill
    payment("T15", 700, paid_at=None, status="pending")  # the bill says paid
    payment("T16", 800, paid_at=None, status="closed")  # the bill says paid
    payment("T17", 900, paid_at=at(23, 30, day=DAY - timedelta(days=1)))  # paid the day before
    refund_part(p1, "TR11", 50, created_at=at(12))  # matches
    refund_part(p2, "TR12", 30, created_at=at(13), status="processing")  # not on the bill
    refund_part(p2, "TR14", 60, created_at=at(14))  # the bill says 66
    refund_part(p3, "TR15", 40, created_at=at(15), status="failed")  # the bill has it
    BILLS["testpay"] = [
        paid("T11", 1000),
        paid("T12", 1990),
        paid("T14", 600),  # Agora has never heard of it
        paid("T15", 700),
        paid("T16", 800),
        paid("T17", 900),
        refunded("T11", "TR11", 50),
        refunded("T13", "TR13", 40),  # Agora has never heard of it
        refunded("T12", "TR14", 66),
        refunded("T13", "TR15", 40),
    ]

    run = reconcile_day(provider="testpay", day=DAY, now=at(23, 59))

    assert mismatches(run) == [
        ("amount", "T12", "", 2000, 1990, "Agora 2000 fen, bill 1990 fen"),
        ("missing_at_provider", "T13", "", 500, None, "paid in Agora (wechat), not on the bill"),
        ("missing_in_agora", "T14", "", None, 600, "no such payment in Agora"),
        ("missing_in_agora", "T15", "", 700, 700, "Agora has it as pending"),
        ("missing_in_agora", "T16", "", 800, 800, "Agora has it as closed"),
        (
            "missing_in_agora",
            "T17",
            "",
            900,
            900,
            "Agora has it paid on 2021-03-13, not 2021-03-14",
        ),
        (
            "refund_missing_at_provider",
            "T12",
            "TR12",
            30,
            None,
            "processing in Agora, not on the bill",
        ),
        ("refund_missing_in_agora", "T13", "TR13", None, 40, "no such refund in Agora"),
        ("amount", "T12", "TR14", 60, 66, "refund: Agora 60 fen, bill 66 fen"),
        ("refund_missing_in_agora", "T13", "TR15", 40, 40, "Agora has it as failed"),
    ]
    # 7 payment numbers, 5 refund numbers; T11 and TR11 match
    assert run_figures(run) == (7, 5, 2, 10, "")


def test_a_payment_listed_twice_on_the_bill_is_an_amount_mismatch() -> None:
    payment("T21", 1500, paid_at=at(10))
    BILLS["testpay"] = [paid("T21", 1500), paid("T21", 1500)]

    run = reconcile_day(provider="testpay", day=DAY)

    assert mismatches(run) == [
        (
            "amount",
            "T21",
            "",
            1500,
            3000,
            "Agora 1500 fen, bill 3000 fen; listed 2 times in the bill",
        )
    ]
    assert run_figures(run) == (1, 0, 0, 1, "")


def test_a_payment_of_another_provider_on_the_bill_says_so() -> None:
    payment("T22", 1500, paid_at=at(10), provider="otherpay")
    BILLS["testpay"] = [paid("T22", 1500)]

    run = reconcile_day(provider="testpay", day=DAY)

    assert mismatches(run) == [
        ("missing_in_agora", "T22", "", 1500, 1500, "Agora has it through provider 'otherpay'")
    ]


# --- running a day again ---------------------------------------------------------------------
def test_running_a_day_again_replaces_its_mismatches() -> None:
    payment("T31", 1000, paid_at=at(9))
    payment("T32", 2000, paid_at=at(10))
    BILLS["testpay"] = [paid("T31", 1000)]
    first = reconcile_day(provider="testpay", day=DAY, now=at(23, 0))
    assert mismatches(first) == [
        ("missing_at_provider", "T32", "", 2000, None, "paid in Agora (wechat), not on the bill")
    ]
    old_ids = list(Mismatch.objects.values_list("id", flat=True))

    # the provider's corrected bill has T32, and a payment Agora does not know
    BILLS["testpay"] = [paid("T31", 1000), paid("T32", 2000), paid("T33", 300)]
    again = reconcile_day(provider="testpay", day=DAY, now=at(23, 30))

    assert again.pk == first.pk
    assert ReconciliationRun.objects.filter(provider="testpay", day=DAY).count() == 1
    assert mismatches(again) == [
        ("missing_in_agora", "T33", "", None, 300, "no such payment in Agora")
    ]
    assert not Mismatch.objects.filter(id__in=old_ids).exists()
    assert Mismatch.objects.count() == 1
    assert run_figures(again) == (3, 0, 2, 1, "")
    assert again.ran_at == at(23, 30)

    BILLS["testpay"] = [paid("T31", 1000), paid("T32", 2000)]
    clean = reconcile_day(provider="testpay", day=DAY, now=at(23, 45))
    assert clean.pk == first.pk
    assert run_figures(clean) == (2, 0, 2, 0, "")
    assert Mismatch.objects.count() == 0


def test_days_and_providers_have_runs_of_their_own() -> None:
    payment("T41", 1000, paid_at=at(9))
    payment("T42", 1000, paid_at=at(9, day=DAY + timedelta(days=1)))
    BILLS["testpay"] = []

    today = reconcile_day(provider="testpay", day=DAY)
    tomorrow = reconcile_day(provider="testpay", day=DAY + timedelta(days=1))
    other = reconcile_day(provider="otherpay", day=DAY)

    assert len({today.pk, tomorrow.pk, other.pk}) == 3
    assert [m[1] for m in mismatches(today)] == ["T41"]
    assert [m[1] for m in mismatches(tomorrow)] == ["T42"]
    assert mismatches(other) == []
    assert run_figures(other) == (0, 0, 0, 0, "")


# --- a provider that cannot hand over its bill ------------------------------------------------
def test_a_provider_error_is_recorded_and_changes_no_mismatch() -> None:
    payment("T51", 1000, paid_at=at(9))
    BILLS["testpay"] = []
    first = reconcile_day(provider="testpay", day=DAY, now=at(23, 0))
    before = list(Mismatch.objects.values_list("id", "run_id", "kind", "out_trade_no"))
    assert before == [(before[0][0], first.pk, "missing_at_provider", "T51")]

    BILLS["testpay"] = ProviderError("bill download timed out after 10 s")
    failed = reconcile_day(provider="testpay", day=DAY, now=at(23, 30))

    assert failed.pk == first.pk
    assert failed.error == "bill download timed out after 10 s"
    assert run_figures(failed) == (1, 0, 0, 1, "bill download timed out after 10 s")
    assert failed.ran_at == at(23, 30)
    assert list(Mismatch.objects.values_list("id", "run_id", "kind", "out_trade_no")) == before

    # the next good run clears the error
    BILLS["testpay"] = [paid("T51", 1000)]
    good = reconcile_day(provider="testpay", day=DAY, now=at(23, 45))
    assert run_figures(good) == (1, 0, 1, 0, "")
    assert Mismatch.objects.count() == 0


def test_a_provider_error_on_a_first_run_saves_an_empty_run() -> None:
    payment("T52", 1000, paid_at=at(9))
    BILLS["testpay"] = ProviderError("HTTP 503")

    run = reconcile_day(provider="testpay", day=DAY, now=at(23, 0))

    assert ReconciliationRun.objects.filter(provider="testpay", day=DAY).count() == 1
    assert run_figures(run) == (0, 0, 0, 0, "HTTP 503")
    assert Mismatch.objects.count() == 0


def test_an_unconfigured_provider_is_refused_and_records_nothing() -> None:
    with pytest.raises(LookupError):
        reconcile_day(provider="nopay", day=DAY)
    assert ReconciliationRun.objects.count() == 0
    assert CALLS == []


# --- every provider --------------------------------------------------------------------------
def test_reconcile_all_goes_on_past_a_failing_provider() -> None:
    payment("T61", 1000, paid_at=at(9), provider="otherpay")
    payment("T62", 2500, paid_at=at(10), provider="testpay")
    BILLS["testpay"] = ProviderError("certificate expired")
    BILLS["otherpay"] = [paid("T61", 1000), paid("T63", 50)]

    runs = reconcile_all(day=DAY, now=at(23, 0))

    assert CALLS == [("otherpay", DAY), ("testpay", DAY)]
    assert [(r.provider, r.day) for r in runs] == [("otherpay", DAY), ("testpay", DAY)]
    other, test = runs
    assert run_figures(other) == (2, 0, 1, 1, "")
    assert mismatches(other) == [
        ("missing_in_agora", "T63", "", None, 50, "no such payment in Agora")
    ]
    assert run_figures(test) == (0, 0, 0, 0, "certificate expired")
    assert mismatches(test) == []
    assert ReconciliationRun.objects.count() == 2
