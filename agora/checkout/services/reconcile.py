"""Daily payment reconciliation (PAY-3): Agora's payments and refunds against each provider's
bill file for one Asia/Shanghai day.

Agora's side of ``(provider, day)``:

* payments through that provider whose ``paid_at`` falls on the day and that are paid (or
  since refunded, in part or whole): status paid, partially_refunded or refunded;
* refund parts of that provider's payments created on the day, succeeded or processing.

They are matched with the bill's payment rows by ``out_trade_no`` (``Payment.number``) and
with its refund rows by ``out_refund_no`` (``RefundPart.number``). Every difference is a
``Mismatch`` row of the day's one ``ReconciliationRun``:

* ``missing_in_agora``: the bill has a payment that Agora has not as paid that day (the detail
  says whether Agora does not know it, has it pending or closed, or paid on another day);
* ``missing_at_provider``: Agora has it paid that day, the bill does not;
* ``amount`` (``out_refund_no`` blank): both have the payment, the fen differ;
* ``refund_missing_in_agora`` / ``refund_missing_at_provider``: the same for refunds;
* ``amount`` with ``out_refund_no`` set: both have the refund, the fen differ.

Counts on the run: ``payments_checked`` and ``refunds_checked`` are the distinct numbers seen
on either side, ``matched`` those on both sides with equal amounts and ``mismatched`` the
mismatch rows, so ``matched + mismatched == payments_checked + refunds_checked``.

Running a day again replaces that run's mismatches. A provider that cannot hand over its bill
(``ProviderError``) leaves the run's earlier mismatches and counts as they were and records
the error on the run, which is returned (the nightly job goes on with the other providers)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from agora.checkout.choices import MismatchKind, PaymentStatus, RefundStatus
from agora.checkout.models import Mismatch, Payment, ReconciliationRun, RefundPart
from agora.checkout.providers import provider_named, providers_configured
from agora.checkout.providers.base import BillRow, ProviderError
from agora.lib.timeutil import SHANGHAI, to_local

PAID_STATES = (
    PaymentStatus.PAID,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)
REFUND_STATES = (RefundStatus.SUCCEEDED, RefundStatus.PROCESSING)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Asia/Shanghai day as [start, end) aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    return start, end


@dataclass
class _BillLine:
    out_trade_no: str
    amount_fen: int
    times: int = 1


def _bill_lines(rows: Iterable[BillRow], kind: str) -> dict[str, _BillLine]:
    """Bill rows of ``kind`` by their number; a number listed twice adds up (and says so)."""
    out: dict[str, _BillLine] = {}
    for row in rows:
        if row.kind != kind:
            continue
        key = row.out_refund_no if kind == "refund" else row.out_trade_no
        line = out.get(key)
        if line is None:
            out[key] = _BillLine(row.out_trade_no, row.amount_fen)
        else:
            line.amount_fen += row.amount_fen
            line.times += 1
    return out


def _listed(line: _BillLine) -> str:
    return f"; listed {line.times} times in the bill" if line.times > 1 else ""


def _payment_absent_detail(payment: Payment | None, provider: str, day: date) -> str:
    """Why a payment on the bill is not among Agora's payments of that provider and day."""
    if payment is None:
        return "no such payment in Agora"
    if payment.provider != provider:
        return f"Agora has it through provider {payment.provider or '(till)'!r}"
    if payment.status not in PAID_STATES:
        return f"Agora has it as {payment.status}"
    if payment.paid_at is None:
        return f"Agora has it as {payment.status} without a payment time"
    return f"Agora has it paid on {to_local(payment.paid_at).date().isoformat()}, not {day}"


def _refund_absent_detail(part: RefundPart | None, provider: str, day: date) -> str:
    if part is None:
        return "no such refund in Agora"
    if part.payment.provider != provider:
        return f"Agora has it through provider {part.payment.provider or '(till)'!r}"
    if part.status not in REFUND_STATES:
        return f"Agora has it as {part.status}"
    return f"Agora has it on {to_local(part.created_at).date().isoformat()}, not {day}"


def _compare(
    *, provider: str, day: date, bill: list[BillRow]
) -> tuple[list[Mismatch], int, int, int]:
    """The mismatches of the day, and the payments checked, refunds checked and matched."""
    start, end = day_bounds(day)
    ours = {
        p.number: p
        for p in Payment.objects.filter(
            provider=provider, status__in=PAID_STATES, paid_at__gte=start, paid_at__lt=end
        )
    }
    our_refunds = {
        r.number: r
        for r in RefundPart.objects.filter(
            payment__provider=provider,
            status__in=REFUND_STATES,
            created_at__gte=start,
            created_at__lt=end,
        ).select_related("payment")
    }
    theirs = _bill_lines(bill, "payment")
    their_refunds = _bill_lines(bill, "refund")

    others = {
        p.number: p for p in Payment.objects.filter(number__in=[k for k in theirs if k not in ours])
    }
    other_refunds = {
        r.number: r
        for r in RefundPart.objects.filter(
            number__in=[k for k in their_refunds if k not in our_refunds]
        ).select_related("payment")
    }

    found: list[Mismatch] = []
    matched = 0
    payment_keys = sorted(set(ours) | set(theirs))
    for key in payment_keys:
        mine, line = ours.get(key), theirs.get(key)
        if mine is None and line is not None:
            other = others.get(key)
            found.append(
                Mismatch(
                    kind=MismatchKind.MISSING_IN_AGORA,
                    out_trade_no=key,
                    agora_fen=other.amount_fen if other is not None else None,
                    provider_fen=line.amount_fen,
                    detail=(_payment_absent_detail(other, provider, day) + _listed(line))[:200],
                )
            )
        elif mine is not None and line is None:
            found.append(
                Mismatch(
                    kind=MismatchKind.MISSING_AT_PROVIDER,
                    out_trade_no=key,
                    agora_fen=mine.amount_fen,
                    provider_fen=None,
                    detail=f"paid in Agora ({mine.method}), not on the bill",
                )
            )
        elif mine is not None and line is not None:
            if mine.amount_fen == line.amount_fen:
                matched += 1
            else:
                found.append(
                    Mismatch(
                        kind=MismatchKind.AMOUNT,
                        out_trade_no=key,
                        agora_fen=mine.amount_fen,
                        provider_fen=line.amount_fen,
                        detail=(
                            f"Agora {mine.amount_fen} fen, bill {line.amount_fen} fen"
                            + _listed(line)
                        )[:200],
                    )
                )

    refund_keys = sorted(set(our_refunds) | set(their_refunds))
    for key in refund_keys:
        part, line = our_refunds.get(key), their_refunds.get(key)
        if part is None and line is not None:
            other_part = other_refunds.get(key)
            found.append(
                Mismatch(
                    kind=MismatchKind.REFUND_MISSING_IN_AGORA,
                    out_trade_no=line.out_trade_no,
                    out_refund_no=key,
                    agora_fen=other_part.amount_fen if other_part is not None else None,
                    provider_fen=line.amount_fen,
                    detail=(_refund_absent_detail(other_part, provider, day) + _listed(line))[:200],
                )
            )
        elif part is not None and line is None:
            found.append(
                Mismatch(
                    kind=MismatchKind.REFUND_MISSING_AT_PROVIDER,
                    out_trade_no=part.payment.number,
                    out_refund_no=key,
                    agora_fen=part.amount_fen,
                    provider_fen=None,
                    detail=f"{part.status} in Agora, not on the bill",
                )
            )
        elif part is not None and line is not None:
            if part.amount_fen == line.amount_fen:
                matched += 1
            else:
                found.append(
                    Mismatch(
                        kind=MismatchKind.AMOUNT,
                        out_trade_no=part.payment.number,
                        out_refund_no=key,
                        agora_fen=part.amount_fen,
                        provider_fen=line.amount_fen,
                        detail=(
                            f"refund: Agora {part.amount_fen} fen, bill {line.amount_fen} fen"
                            + _listed(line)
                        )[:200],
                    )
                )
    return found, len(payment_keys), len(refund_keys), matched


def reconcile_day(*, provider: str, day: date, now: datetime | None = None) -> ReconciliationRun:
    """Reconcile ``provider``'s bill for the Asia/Shanghai ``day`` with Agora's books and
    return the day's run (created, or updated with its mismatches replaced). A provider error
    is recorded on the run (``error``) and leaves its earlier figures and mismatches alone.
    An unknown provider name raises ``LookupError``."""
    now = now or timezone.now()
    adapter = provider_named(provider)
    try:
        bill = adapter.bill(day)  # outside any transaction: it may take a while
    except ProviderError as exc:
        with transaction.atomic():
            run, _ = ReconciliationRun.objects.select_for_update().get_or_create(
                provider=provider, day=day, defaults={"ran_at": now}
            )
            run.ran_at = now
            run.error = (str(exc) or type(exc).__name__)[:300]
            run.save(update_fields=["ran_at", "error"])
        return run

    with transaction.atomic():
        run, _ = ReconciliationRun.objects.select_for_update().get_or_create(
            provider=provider, day=day, defaults={"ran_at": now}
        )
        found, payments_checked, refunds_checked, matched = _compare(
            provider=provider, day=day, bill=bill
        )
        run.mismatches.all().delete()
        for row in found:
            row.run = run
        Mismatch.objects.bulk_create(found)
        run.ran_at = now
        run.payments_checked = payments_checked
        run.refunds_checked = refunds_checked
        run.matched = matched
        run.mismatched = len(found)
        run.error = ""
        run.save()
    return run


def reconcile_all(*, day: date, now: datetime | None = None) -> list[ReconciliationRun]:
    """Reconcile ``day`` for every configured provider, in name order; a provider that fails
    has its error on its run and does not stop the others."""
    return [reconcile_day(provider=name, day=day, now=now) for name in providers_configured()]
