"""Forms of the merchant's POS pages (/merchant/pos/): the shape of what the cashier types.

Amounts are typed in yuan ("36", "36.50") and become integer fen exactly: digits with at most
two decimals, parsed with Decimal, never a float; a third decimal is refused, not rounded. The
business rules (what a coupon takes off, how many points may pay, what may be refunded) stay
the services'."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agora.checkout.choices import (
    InvoiceKind,
    Method,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    TitleKind,
)

MAX_LINE_NAME = 80
MAX_QUANTITY = 9_999
MAX_UNIT_FEN = 10_000_000  # ¥100,000 a unit (the service's limit)
MAX_AMOUNT_FEN = 100_000_000  # ¥1,000,000
MAX_LINES = 100
_YUAN = re.compile(r"^(\d{1,9})(?:\.(\d+))?$")


def new_attempt() -> str:
    """A fresh idempotency key for one rendering of a form that moves money."""
    return uuid.uuid4().hex


def parse_yuan(text: str) -> int:
    """ "36" -> 3600, "36.5" -> 3650, "36.50" -> 3650, "¥1,036.05" -> 103605.

    Raises ValueError("format") for anything that is not a plain non-negative amount, and
    ValueError("decimals") for more than two decimals (a fen is the smallest unit)."""
    cleaned = text.strip().replace("¥", "").replace("￥", "").replace(",", "").replace(" ", "")
    match = _YUAN.match(cleaned)
    if not match:
        raise ValueError("format")
    if match.group(2) is not None and len(match.group(2)) > 2:
        raise ValueError("decimals")
    fen = Decimal(cleaned) * 100
    assert fen == fen.to_integral_value()
    return int(fen)


class PosForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class YuanField(forms.CharField):
    """An amount in yuan, cleaned to integer fen (``None`` when left empty)."""

    def __init__(self, *, min_fen: int = 1, max_fen: int = MAX_AMOUNT_FEN, **kwargs: Any) -> None:
        self.min_fen, self.max_fen = min_fen, max_fen
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in (None, ""):
            return None
        try:
            fen = parse_yuan(str(text))
        except ValueError as exc:
            if str(exc) == "decimals":
                raise forms.ValidationError(
                    _("At most 2 decimal places (1 fen is ¥0.01)."), code="decimals"
                ) from None
            raise forms.ValidationError(
                _("Enter an amount in yuan, like 36 or 36.50."), code="format"
            ) from None
        if not self.min_fen <= fen <= self.max_fen:
            raise forms.ValidationError(
                _("Enter an amount between %(low)s and %(high)s.")
                % {"low": _yuan_text(self.min_fen), "high": _yuan_text(self.max_fen)},
                code="range",
            )
        return fen


def _yuan_text(fen: int) -> str:
    whole, part = divmod(fen, 100)
    return f"¥{whole:,}.{part:02d}"


class AttemptField(forms.CharField):
    """The hidden idempotency key rendered with the form (a UUID in hex)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=32, max_length=32, widget=forms.HiddenInput(), **kwargs)


# --- the sale -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CartLine:
    name: str
    quantity: int
    unit_price_fen: int

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.unit_price_fen


class CartDamaged(ValueError):
    """The cart's hidden fields were not what this page rendered."""


def cart_from(data: QueryDict) -> list[CartLine]:
    """The lines carried in the sale form's hidden fields (``line_name``, ``line_qty``,
    ``line_fen``, one of each per line, in order)."""
    names = data.getlist("line_name")
    quantities = data.getlist("line_qty")
    prices = data.getlist("line_fen")
    if not len(names) == len(quantities) == len(prices) or len(names) > MAX_LINES:
        raise CartDamaged("line fields do not match")
    lines = []
    for name, quantity, price in zip(names, quantities, prices, strict=True):
        if not (quantity.isascii() and quantity.isdigit() and price.isascii() and price.isdigit()):
            raise CartDamaged("not a number")
        line = CartLine(name.strip(), int(quantity), int(price))
        if not (
            1 <= len(line.name) <= MAX_LINE_NAME
            and 1 <= line.quantity <= MAX_QUANTITY
            and 0 <= line.unit_price_fen <= MAX_UNIT_FEN
        ):
            raise CartDamaged("out of range")
        lines.append(line)
    return lines


class LineForm(PosForm):
    name = forms.CharField(
        label=_("Item"),
        max_length=MAX_LINE_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "step": 1}),
    )
    price = YuanField(label=_("Unit price (yuan)"), min_fen=0, max_fen=MAX_UNIT_FEN)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Name the item."), code="required")
        return name


# --- the order panel --------------------------------------------------------------------------
class MemberForm(PosForm):
    code = forms.CharField(
        label=_("Member code, card number or phone"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def looks_like_phone(text: str) -> bool:
    digits = text.strip().replace(" ", "").removeprefix("+86")
    return digits.isascii() and digits.isdigit() and len(digits) == 11 and digits[0] == "1"


class ApplyForm(PosForm):
    """Coupons and points: ``code`` is a newly scanned coupon code, ``codes`` those scanned
    before (kept as hidden fields), ``coupon`` the ticked coupons (with ``pick=chosen``);
    ``pick=best`` (or a new code) lets checkout choose the best coupons."""

    code = forms.CharField(
        label=_("Coupon code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    points = forms.IntegerField(
        label=_("Points to use"),
        min_value=0,
        max_value=100_000_000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )
    pick = forms.ChoiceField(choices=[("best", "best"), ("chosen", "chosen")], required=False)

    def scanned(self) -> list[str]:
        """Every coupon code of the order panel: those scanned before, then the new one."""
        seen: list[str] = []
        data: Any = self.data
        for raw in [*data.getlist("codes"), self.cleaned_data.get("code") or ""]:
            text = raw.strip().upper()[:40]
            if text and text not in seen:
                seen.append(text)
        return seen[:10]

    def ticked(self) -> list[int]:
        out = []
        data: Any = self.data
        for raw in data.getlist("coupon"):
            if raw.isascii() and raw.isdigit() and len(raw) < 19:
                out.append(int(raw))
        return out


METHOD_CHOICES = [
    (Method.WECHAT, _("WeChat Pay")),
    (Method.ALIPAY, _("Alipay")),
    (Method.UNIONPAY, _("UnionPay")),
    (Method.ECNY, _("Digital RMB")),
    (Method.BANK_CARD, _("Bank card")),
    (Method.CASH, _("Cash")),
]


def method_label(method: str) -> str:
    labels: dict[str, Any] = dict(METHOD_CHOICES)
    return str(labels.get(method, method))


@dataclass(frozen=True)
class PaySpec:
    method: str
    amount_fen: int
    tendered_fen: int | None
    card_last4: str


class PayForm(PosForm):
    """One payment method for the whole amount, or two (a split): the first pays what the
    second does not. Cash takes what was handed over (the change is shown)."""

    attempt = AttemptField()
    method = forms.ChoiceField(
        label=_("Payment method"), choices=METHOD_CHOICES, widget=forms.RadioSelect
    )
    amount = YuanField(label=_("Amount (yuan)"), required=False)
    method2 = forms.ChoiceField(
        label=_("Second method"),
        choices=[("", _("None")), *METHOD_CHOICES],
        required=False,
    )
    amount2 = YuanField(label=_("Second amount (yuan)"), required=False)
    tendered = YuanField(label=_("Cash handed over (yuan)"), required=False)
    card_last4 = forms.CharField(
        label=_("Card: last 4 digits"),
        max_length=4,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, payable_fen: int, **kwargs: Any) -> None:
        self.payable_fen = payable_fen
        super().__init__(*args, **kwargs)

    def clean_card_last4(self) -> str:
        text = str(self.cleaned_data.get("card_last4") or "").strip()
        if text and not (text.isascii() and text.isdigit() and len(text) == 4):
            raise forms.ValidationError(_("4 digits."), code="invalid")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method, method2 = data.get("method"), data.get("method2") or ""
        if not method or self.errors:
            return data
        amount, amount2 = data.get("amount"), data.get("amount2")
        if method2:
            if method2 == method:
                self.add_error("method2", _("Choose two different methods."))
                return data
            if amount2 is None:
                self.add_error("amount2", _("How much does the second method pay?"))
                return data
            if amount is None:
                amount = self.payable_fen - amount2
        elif amount is None:
            amount = self.payable_fen
        total = amount + (amount2 or 0)
        if amount <= 0 or total != self.payable_fen:
            self.add_error(
                "amount" if not method2 else "amount2",
                _("The payments must add up to %(payable)s.")
                % {"payable": _yuan_text(self.payable_fen)},
            )
            return data
        pairs = [(method, amount)] + ([(method2, amount2)] if method2 else [])
        tendered = data.get("tendered")
        specs = []
        for m, fen in pairs:
            assert fen is not None
            cash = m == Method.CASH
            if cash and tendered is not None and tendered < fen:
                self.add_error(
                    "tendered",
                    _("Less than the cash amount %(amount)s.") % {"amount": _yuan_text(fen)},
                )
                return data
            specs.append(
                PaySpec(
                    method=m,
                    amount_fen=fen,
                    tendered_fen=tendered if cash else None,
                    card_last4=data.get("card_last4", "") if m == Method.BANK_CARD else "",
                )
            )
        data["specs"] = specs
        return data


# --- statuses in words (own contexts: "Open" is also a shop's status elsewhere) ---------------
ORDER_STATUS = {
    OrderStatus.OPEN: pgettext_lazy("order status", "Open"),
    OrderStatus.PENDING: pgettext_lazy("order status", "Awaiting payment"),
    OrderStatus.PAID: pgettext_lazy("order status", "Paid"),
    OrderStatus.PARTIALLY_REFUNDED: pgettext_lazy("order status", "Partly refunded"),
    OrderStatus.REFUNDED: pgettext_lazy("order status", "Refunded"),
    OrderStatus.CLOSED: pgettext_lazy("order status", "Cancelled"),
}
PAYMENT_STATUS = {
    PaymentStatus.CREATED: pgettext_lazy("payment status", "Starting"),
    PaymentStatus.PENDING: pgettext_lazy("payment status", "Awaiting payment"),
    PaymentStatus.PAID: pgettext_lazy("payment status", "Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: pgettext_lazy("payment status", "Partly refunded"),
    PaymentStatus.REFUNDED: pgettext_lazy("payment status", "Refunded"),
    PaymentStatus.CLOSED: pgettext_lazy("payment status", "Closed"),
    PaymentStatus.FAILED: pgettext_lazy("payment status", "Failed"),
}
REFUND_STATUS = {
    RefundStatus.PROCESSING: pgettext_lazy("refund status", "Processing"),
    RefundStatus.SUCCEEDED: pgettext_lazy("refund status", "Refunded"),
    RefundStatus.FAILED: pgettext_lazy("refund status", "Failed"),
}
INVOICE_KIND = {
    InvoiceKind.BLUE: pgettext_lazy("invoice kind", "Invoice"),
    InvoiceKind.RED: pgettext_lazy("invoice kind", "Red-letter credit"),
}


def label(labels: dict[Any, Any], value: str) -> str:
    return str(labels.get(value, value))


# --- orders -----------------------------------------------------------------------------------
STATUS_CHOICES = [("", _("Every status")), *ORDER_STATUS.items()]


class OrdersFilterForm(PosForm):
    q = forms.CharField(
        label=_("Search"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Order or payment number, or last 4 phone digits"),
            }
        ),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class RefundForm(PosForm):
    attempt = AttemptField()
    amount = YuanField(label=_("Amount to refund (yuan)"), required=False, min_fen=0)
    reason = forms.CharField(label=_("Refund reason"), max_length=200, required=False)


class InvoiceForm(PosForm):
    title_kind = forms.ChoiceField(
        label=_("Invoice to"),
        choices=[(TitleKind.PERSONAL, _("An individual")), (TitleKind.COMPANY, _("A company"))],
        widget=forms.RadioSelect,
        initial=TitleKind.PERSONAL,
    )
    title = forms.CharField(label=_("Invoice title"), max_length=100)
    taxpayer_id = forms.CharField(
        label=_("Taxpayer ID (company)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.CharField(
        label=_("E-mail for the PDF"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
