"""The one interface every payment provider adapter implements.

Agora's checkout never talks to WeChat Pay, Alipay or a bank directly: it asks a ``Provider``
to start a payment, to query, close or refund it, to verify and parse an asynchronous
notification, to answer that notification the way the provider expects (so it stops
retrying), and to hand over its daily bill file for reconciliation. Money is integer fen
everywhere; an adapter converts at its edge (Alipay speaks yuan strings)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

State = Literal["pending", "paid", "closed", "refunded", "unknown"]


@dataclass(frozen=True)
class StartRequest:
    """What an adapter needs to create a payment at the provider."""

    out_trade_no: str  # Agora's payment number, unique, ASCII, at most 32 characters
    amount_fen: int
    description: str  # shown to the payer, e.g. "星巴克 国贸商城店 A2611210001"
    notify_url: str  # absolute URL the provider posts its notification to
    expires_at: datetime  # aware; the provider refuses to take money after it
    method: str = ""  # wechat, alipay, unionpay, ecny: which app the shopper pays with
    auth_code: str = ""  # the shopper's payment code scanned at the till (付款码), if any
    agreement_no: str = ""  # a standing agreement to charge without the payer (代扣), if any


@dataclass(frozen=True)
class Started:
    provider_ref: str = ""  # the provider's id for the created payment, if it gives one
    code_url: str = ""  # what the QR on the screen encodes (native / precreate / sandbox page)
    paid: bool = False  # a scanned payment code that the provider settled at once
    provider_txn_id: str = ""


@dataclass(frozen=True)
class Status:
    state: State
    provider_txn_id: str = ""
    amount_fen: int | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class Notice:
    """A verified, decrypted notification, in Agora's terms."""

    out_trade_no: str
    state: State
    amount_fen: int
    provider_txn_id: str = ""
    paid_at: datetime | None = None
    event_id: str = ""  # the provider's notification id, for the log


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str  # Agora's refund-part number, unique
    refund_fen: int
    total_fen: int  # the original payment's amount
    reason: str = ""
    notify_url: str = ""


@dataclass(frozen=True)
class RefundResult:
    state: Literal["succeeded", "processing", "failed"]
    provider_refund_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Answer:
    """The HTTP answer a provider expects to a notification."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class BillRow:
    """One line of a provider's daily bill file."""

    kind: Literal["payment", "refund"]
    out_trade_no: str
    amount_fen: int
    provider_txn_id: str = ""
    out_refund_no: str = ""
    at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not be reached or refused the request (not a verdict on money)."""


class NotificationRejected(Exception):
    """A notification that must change nothing: ``reason`` is forged, stale or malformed."""

    def __init__(self, reason: Literal["forged", "stale", "malformed"], detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Provider(ABC):
    """A payment provider adapter. Implementations keep no state of their own about Agora's
    payments; they translate."""

    name: str = ""
    #: the payment methods (Agora's names) this provider can take
    methods: tuple[str, ...] = ()

    @abstractmethod
    def start(self, request: StartRequest) -> Started: ...

    @abstractmethod
    def query(self, out_trade_no: str) -> Status: ...

    @abstractmethod
    def close(self, out_trade_no: str) -> None: ...

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult: ...

    @abstractmethod
    def parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        """Verify the signature (and freshness) and decode; raise ``NotificationRejected``."""

    @abstractmethod
    def answer(self, accepted: bool) -> Answer:
        """What to send back: ``accepted`` means "received, stop retrying" (also for a
        duplicate); not accepted asks the provider to retry later."""

    @abstractmethod
    def bill(self, day: date) -> list[BillRow]:
        """The provider's bill for ``day`` (Asia/Shanghai): every successful payment and
        refund, as the provider saw them."""
