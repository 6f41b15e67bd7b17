"""The built-in sandbox provider: a stand-in for WeChat Pay, Alipay, UnionPay and e-CNY that
runs offline, for the demo and the tests, and behaves like the real ones.

It keeps its own books (``SandboxTrade``, ``SandboxRefund``), separate from Agora's payments.
Starting a payment gives a QR that opens the sandbox's pay page; paying there queues a
notification signed with HMAC-SHA256 over ``timestamp\\nnonce\\nbody`` (headers
``Sandbox-Timestamp``, ``Sandbox-Nonce``, ``Sandbox-Signature``), sometimes twice and
sometimes only later, as real providers do. Its bill for a day lists every paid trade and
refund. A scanned payment code is settled at once; codes starting with 0 are declined."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agora.checkout.models import SandboxRefund, SandboxTrade
from agora.checkout.providers.base import (
    Answer,
    BillRow,
    Notice,
    NotificationRejected,
    Provider,
    ProviderError,
    RefundRequest,
    RefundResult,
    Started,
    StartRequest,
    Status,
)
from agora.lib.timeutil import SHANGHAI


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


class SandboxProvider(Provider):
    methods = ("wechat", "alipay", "unionpay", "ecny")

    def __init__(
        self,
        *,
        name: str = "sandbox",
        secret: str,
        duplicate_rate: float = 0.0,
        late_rate: float = 0.0,
        max_age_seconds: int | None = None,
    ) -> None:
        self.name = name
        self.secret = secret.encode()
        self.duplicate_rate = duplicate_rate
        self.late_rate = late_rate
        self.max_age = max_age_seconds or settings.PAYMENT_NOTICE_MAX_AGE_SECONDS

    # --- signing -----------------------------------------------------------------------------
    def signature(self, timestamp: str, nonce: str, body: bytes) -> str:
        message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def notification(self, trade: SandboxTrade, now: datetime) -> tuple[dict[str, str], bytes]:
        """The signed notification the sandbox sends for ``trade`` (its current state)."""
        body = json.dumps(
            {
                "id": secrets.token_hex(8),
                "out_trade_no": trade.out_trade_no,
                "trade_state": trade.state,
                "amount_fen": trade.amount_fen,
                "txn_id": trade.txn_id,
                "paid_at": _iso(trade.paid_at),
            },
            separators=(",", ":"),
        ).encode()
        timestamp, nonce = str(int(now.timestamp())), secrets.token_hex(12)
        headers = {
            "Content-Type": "application/json",
            "Sandbox-Timestamp": timestamp,
            "Sandbox-Nonce": nonce,
            "Sandbox-Signature": self.signature(timestamp, nonce, body),
        }
        return headers, body

    # --- the provider interface ----------------------------------------------------------------
    def start(self, request: StartRequest) -> Started:
        now = timezone.now()
        if request.auth_code.startswith("0"):
            raise ProviderError("AUTH_CODE_INVALID: the payment code was declined")
        try:
            with transaction.atomic():
                trade = SandboxTrade.objects.create(
                    out_trade_no=request.out_trade_no,
                    token=secrets.token_urlsafe(18),
                    method=request.method or "wechat",
                    amount_fen=request.amount_fen,
                    description=request.description[:128],
                    notify_url=request.notify_url[:300],
                    created_at=now,
                    expires_at=request.expires_at,
                )
        except IntegrityError:
            raise ProviderError("OUT_TRADE_NO_USED: this payment number exists") from None
        if request.auth_code or request.agreement_no:
            self.settle(trade, now)
            return Started(provider_ref=trade.token, paid=True, provider_txn_id=trade.txn_id)
        base = settings.SITE_URL.rstrip("/")
        return Started(provider_ref=trade.token, code_url=f"{base}/sandbox/pay/{trade.token}/")

    def settle(self, trade: SandboxTrade, now: datetime) -> bool:
        """The payer confirmed: pending -> paid, once, and only before the trade expires."""
        txn = "SBX" + now.astimezone(SHANGHAI).strftime("%Y%m%d") + secrets.token_hex(6).upper()
        done = SandboxTrade.objects.filter(pk=trade.pk, state="pending", expires_at__gt=now).update(
            state="paid", paid_at=now, txn_id=txn
        )
        trade.refresh_from_db()
        return bool(done)

    def query(self, out_trade_no: str) -> Status:
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return Status("unknown")
        state = {"pending": "pending", "paid": "paid", "closed": "closed"}.get(trade.state)
        if trade.state == "paid" and trade.refunded_fen == trade.amount_fen:
            state = "refunded"
        return Status(
            state or "unknown",  # type: ignore[arg-type]
            provider_txn_id=trade.txn_id,
            amount_fen=trade.amount_fen,
            paid_at=trade.paid_at,
        )

    def close(self, out_trade_no: str) -> None:
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return
        SandboxTrade.objects.filter(pk=trade.pk, state="pending").update(state="closed")
        trade.refresh_from_db()
        if trade.state == "paid":
            raise ProviderError("ORDERPAID: the trade is paid and cannot be closed")

    def refund(self, request: RefundRequest) -> RefundResult:
        trade = SandboxTrade.objects.filter(out_trade_no=request.out_trade_no).first()
        if trade is None or trade.state != "paid":
            return RefundResult("failed", detail="TRADE_NOT_PAID")
        previous = SandboxRefund.objects.filter(out_refund_no=request.out_refund_no).first()
        if previous is not None:
            if previous.amount_fen != request.refund_fen:
                return RefundResult("failed", detail="OUT_REFUND_NO_USED with another amount")
            return RefundResult("succeeded", provider_refund_id=previous.refund_id)
        with transaction.atomic():
            ok = SandboxTrade.objects.filter(
                pk=trade.pk, refunded_fen__lte=F("amount_fen") - request.refund_fen
            ).update(refunded_fen=F("refunded_fen") + request.refund_fen)
            if not ok:
                return RefundResult("failed", detail="REFUND_EXCEEDS_PAID")
            row = SandboxRefund.objects.create(
                trade=trade,
                out_refund_no=request.out_refund_no,
                refund_id="SBR" + secrets.token_hex(8).upper(),
                amount_fen=request.refund_fen,
                created_at=timezone.now(),
            )
        return RefundResult("succeeded", provider_refund_id=row.refund_id)

    def parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        timestamp = headers.get("Sandbox-Timestamp", "")
        nonce = headers.get("Sandbox-Nonce", "")
        signature = headers.get("Sandbox-Signature", "")
        if not (timestamp and nonce and signature):
            raise NotificationRejected("forged", "signature headers missing")
        if not hmac.compare_digest(self.signature(timestamp, nonce, body), signature):
            raise NotificationRejected("forged", "signature does not verify")
        if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > self.max_age:
            raise NotificationRejected("stale", f"timestamp {timestamp[:20]} is too far from now")
        try:
            data = json.loads(body)
            paid_at = datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
            amount = data["amount_fen"]
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise ValueError("amount_fen is not an integer")
            state = {"paid": "paid", "closed": "closed"}.get(data["trade_state"], "unknown")
            return Notice(
                out_trade_no=str(data["out_trade_no"]),
                state=state,  # type: ignore[arg-type]
                amount_fen=amount,
                provider_txn_id=str(data.get("txn_id") or ""),
                paid_at=paid_at,
                event_id=str(data.get("id") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise NotificationRejected("malformed", str(exc)[:200]) from None

    def answer(self, accepted: bool) -> Answer:
        if accepted:
            return Answer(200, "application/json", b'{"code":"SUCCESS"}')
        return Answer(500, "application/json", b'{"code":"FAIL","message":"retry later"}')

    def bill(self, day: date) -> list[BillRow]:
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        end = start + timedelta(days=1)
        rows = [
            BillRow("payment", t.out_trade_no, t.amount_fen, t.txn_id, at=t.paid_at)
            for t in SandboxTrade.objects.filter(paid_at__gte=start, paid_at__lt=end).order_by(
                "paid_at", "id"
            )
        ]
        rows += [
            BillRow(
                "refund",
                r.trade.out_trade_no,
                r.amount_fen,
                r.trade.txn_id,
                out_refund_no=r.out_refund_no,
                at=r.created_at,
            )
            for r in SandboxRefund.objects.filter(created_at__gte=start, created_at__lt=end)
            .select_related("trade")
            .order_by("created_at", "id")
        ]
        return rows
