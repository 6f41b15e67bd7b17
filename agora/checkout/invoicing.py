"""E-invoices (电子发票): the issuer interface and Agora's built-in local issuer.

An ``InvoiceIssuer`` turns an ``InvoiceDraft`` (everything printed on the invoice except its
number) into an ``IssuedInvoice`` (the number the tax platform gave it and the PDF). A real
connector to the tax bureau's platform implements the same interface; ``issuer()`` builds the
one named by ``settings.INVOICE_ISSUER``.

``LocalIssuer`` numbers invoices itself, the way a fully digitalised e-invoice (数电发票) is
numbered: 20 digits, the two-digit year, the region code, a ``0`` and a 15-digit sequence (the
Invoice row's id), and renders a PDF laid out like a 电子发票（普通发票） with WeasyPrint. The
page uses only fonts installed on the machine (Noto CJK, by family name); nothing is fetched.

Amounts are integer fen, tax included; a red-letter (红字) invoice carries negative amounts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string

from agora.checkout.choices import InvoiceKind, TitleKind

#: the region code in a local invoice number (the tax bureau's own issuer uses the province's)
LOCAL_REGION = "11"


@dataclass(frozen=True)
class InvoiceLine:
    """One line as printed: amounts in fen, tax included; negative on a red invoice."""

    name: str
    quantity: int
    amount_fen: int
    tax_fen: int


@dataclass(frozen=True)
class InvoiceDraft:
    """Everything an issuer needs to issue one invoice (its number is the issuer's to give)."""

    kind: str  # InvoiceKind: blue, or red (a credit of ``original_number``)
    seller_name: str
    seller_tax_id: str
    buyer_title_kind: str  # TitleKind
    buyer_title: str
    buyer_taxpayer_id: str
    buyer_email: str
    lines: tuple[InvoiceLine, ...]
    amount_fen: int  # tax included; the lines' amounts add up to it
    tax_fen: int  # the lines' taxes add up to it
    tax_rate_permille: int
    order_number: str
    shop_name: str
    mall_name: str
    issued_at: datetime
    sequence: int  # the Invoice row's id: unique, never reused
    original_number: str = ""  # the blue invoice a red one credits

    @property
    def is_red(self) -> bool:
        return self.kind == InvoiceKind.RED


@dataclass(frozen=True)
class IssuedInvoice:
    number: str
    pdf: bytes


class InvoiceIssuer(ABC):
    """What a connector to an invoicing platform implements."""

    #: stored on the Invoice row (``Invoice.issuer``), at most 40 characters
    name: str = ""

    @abstractmethod
    def issue(self, draft: InvoiceDraft) -> IssuedInvoice:
        """Issue the invoice; raise on failure (the caller then records nothing)."""


class LocalIssuer(InvoiceIssuer):
    """Numbers invoices itself and renders their PDF locally (no tax platform involved)."""

    name = "local"

    def number(self, draft: InvoiceDraft) -> str:
        if not 0 < draft.sequence < 10**15:
            raise ValueError(f"invoice sequence out of range: {draft.sequence}")
        year = timezone.localtime(draft.issued_at).strftime("%y")
        return f"{year}{LOCAL_REGION}0{draft.sequence:015d}"

    def issue(self, draft: InvoiceDraft) -> IssuedInvoice:
        number = self.number(draft)
        return IssuedInvoice(number=number, pdf=render_pdf(draft, number))


def issuer() -> InvoiceIssuer:
    """The issuer configured in ``settings.INVOICE_ISSUER`` (a dotted path to the class)."""
    cls = import_string(settings.INVOICE_ISSUER)
    instance = cls()
    if not isinstance(instance, InvoiceIssuer):
        raise TypeError(f"{settings.INVOICE_ISSUER} is not an InvoiceIssuer")
    return instance


# --- amounts in words -------------------------------------------------------------------------
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_GROUP = ("仟", "佰", "拾", "")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _integer_capitals(number: int) -> str:
    """A positive whole number of yuan in capitals, 零 placed as it is read: one 零 for a run of
    zeros inside the number, none for the zeros that end a group of four (107000 is
    壹拾万柒仟), and 壹拾 rather than 拾 (the banks' rule)."""
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    out: list[str] = []
    emitted = pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        for position, char in enumerate(f"{group:04d}"):
            digit = int(char)
            if digit == 0:
                pending_zero = pending_zero or emitted
                continue
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(_DIGITS[digit] + _IN_GROUP[position])
            emitted = True
        if group:
            out.append(_GROUP_UNITS[index])
            pending_zero = False  # a group's trailing zeros are not read
    return "".join(out)


def yuan_in_capitals(fen: int) -> str:
    """An amount in Chinese capital numerals (大写金额), per the People's Bank of China rules for
    filling in bills: ``12345`` -> 壹佰贰拾叁元肆角伍分, ``10000`` -> 壹佰元整, ``100101`` ->
    壹仟零壹元零壹分, ``5`` -> 伍分, ``0`` -> 零元整. 整 follows 元 only (it may be left out after
    角, and is); 零 is written after 元 when 角 is zero and 分 is not. A negative amount starts
    with 负."""
    if fen < 0:
        return "负" + yuan_in_capitals(-fen)
    yuan, cents = divmod(fen, 100)
    if yuan >= 10**16:
        raise ValueError("amount too large")
    jiao, fen_digit = divmod(cents, 10)
    if not yuan and not cents:
        return "零元整"
    text = _integer_capitals(yuan) + "元" if yuan else ""
    if not cents:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    return text


# --- the PDF ----------------------------------------------------------------------------------
def yuan(fen: int) -> str:
    """Fen as a yuan string with two decimals: ``-12345`` -> ``-123.45``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def rate_text(permille: int) -> str:
    """130 -> ``13%``, 15 -> ``1.5%``."""
    whole, tenth = divmod(permille, 10)
    return f"{whole}%" if not tenth else f"{whole}.{tenth}%"


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"the invoice page may not load anything ({url[:60]})")


def render_html(draft: InvoiceDraft, number: str) -> str:
    """The invoice page (HTML) the PDF is rendered from."""
    excl_total = draft.amount_fen - draft.tax_fen
    context = {
        "d": draft,
        "number": number,
        "red": draft.is_red,
        "company": draft.buyer_title_kind == TitleKind.COMPANY,
        "issued_on": timezone.localtime(draft.issued_at).strftime("%Y年%m月%d日"),
        "rate": rate_text(draft.tax_rate_permille),
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "amount": yuan(line.amount_fen - line.tax_fen),
                "tax": yuan(line.tax_fen),
            }
            for line in draft.lines
        ],
        "total_excl": yuan(excl_total),
        "total_tax": yuan(draft.tax_fen),
        "total": yuan(draft.amount_fen),
        "capitals": yuan_in_capitals(abs(draft.amount_fen)),
    }
    return render_to_string("checkout/invoice_pdf.html", context)


def render_pdf(draft: InvoiceDraft, number: str) -> bytes:
    """The invoice as a PDF (WeasyPrint, local fonts only, no URL is ever fetched)."""
    from weasyprint import HTML  # imported late: it is heavy and only the issuer needs it

    pdf = HTML(string=render_html(draft, number), url_fetcher=_no_fetch).write_pdf()
    assert pdf is not None
    return bytes(pdf)
