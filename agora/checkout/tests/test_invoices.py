"""E-invoices: amounts in capitals, unified social credit codes, issuing a blue invoice for a
paid order (amounts, lines, number, PDF, e-mail, audit), the refusals (which leave nothing
behind) and red-letter credits after refunds.

Orders and refunds are built with the ORM directly. The PDF's text is read with ``pdftotext``
when the machine has it; otherwise with the small reader below, which maps the glyphs of each
text run back to characters through the fonts' ToUnicode tables (WeasyPrint writes them)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from unittest import mock

import pytest
from django.test import override_settings

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.checkout.invoicing import (
    InvoiceDraft,
    InvoiceIssuer,
    IssuedInvoice,
    LocalIssuer,
    issuer,
    yuan_in_capitals,
)
from agora.checkout.models import Invoice, Order, OrderLine, Refund
from agora.checkout.services.invoices import (
    invoice_credit,
    invoice_issue,
    invoice_pdf,
    taxpayer_id_valid,
)
from agora.core.errors import Conflict, ValidationFailed
from agora.core.models import AuditLog
from agora.district.models import Shop
from agora.lib.timeutil import SHANGHAI
from agora.testing.personas import shop_id_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 14, 10, 30, tzinfo=SHANGHAI)
COMPANY_ID = "91350100M000100Y43"  # a published code; its check character is 3
_numbers = count(1)

#: 2 x 38.00 + 1 x 22.00 + 3 x 5.00 = 113.00, less a 10.00 coupon and 3.00 of points: 100.00 paid
LINES = (("拿铁咖啡", 2, 3800), ("可颂", 1, 2200), ("矿泉水", 3, 500))


# --- helpers ----------------------------------------------------------------------------------
def _shop() -> Shop:
    return Shop.objects.select_related("mall").get(pk=shop_id_of("shop-cashier-1"))


def _order(
    *,
    status: str = "paid",
    lines: Sequence[tuple[str, int, int]] = LINES,
    discount: int = 1000,
    points_fen: int = 300,
    refunded: int = 0,
) -> Order:
    shop = _shop()
    subtotal = sum(quantity * unit for _, quantity, unit in lines)
    payable = subtotal - discount - points_fen
    order = Order.objects.create(
        number=f"T260314{next(_numbers):04d}",
        district_id=shop.mall.district_id,
        mall=shop.mall,
        shop=shop,
        channel="pos",
        status=status,
        subtotal_fen=subtotal,
        discount_fen=discount,
        points_fen=points_fen,
        payable_fen=payable,
        paid_fen=payable if status in ("paid", "partially_refunded", "refunded") else 0,
        refunded_fen=refunded,
        created_at=NOW,
    )
    for position, (name, quantity, unit) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=order,
            position=position,
            name=name,
            quantity=quantity,
            unit_price_fen=unit,
            amount_fen=quantity * unit,
        )
    return order


def _refund(order: Order, amount_fen: int) -> Refund:
    """A succeeded refund of ``amount_fen`` (the order's totals follow, as refunds do)."""
    order.refunded_fen += amount_fen
    order.status = "refunded" if order.refunded_fen == order.paid_fen else "partially_refunded"
    order.save(update_fields=["refunded_fen", "status"])
    n = next(_numbers)
    return Refund.objects.create(
        order=order,
        number=f"R{n:08d}",
        key=f"refund-{n}",
        request_hash="x" * 64,
        amount_fen=amount_fen,
        reason="退货",
        status="succeeded",
        created_at=NOW,
        completed_at=NOW,
    )


def _cashier() -> Actor:
    return Actor(user=User.objects.get(username="shop-cashier-1"))


def _issue(order: Order, *, system: bool = False, **fields: Any) -> Invoice:
    """Issue as the shop's cashier (or as the system, with no person behind it)."""
    args: dict[str, Any] = {
        "title_kind": "company",
        "title": "北京示例科技有限公司",
        "taxpayer_id": COMPANY_ID,
        "email": "",
    }
    args.update(fields)
    return invoice_issue(actor=None if system else _cashier(), order=order, now=NOW, **args)


def _reader_text(pdf: bytes) -> str:
    """The text of a WeasyPrint PDF: each ``Tf`` picks a font, each ``TJ`` run's 4-hex-digit
    glyph ids map to characters through that font's ToUnicode ``bfchar`` table."""
    streams: dict[int, bytes] = {}
    contents: list[bytes] = []  # page content streams: a dictionary with no /Type or /Subtype
    for m in re.finditer(rb"(\d+) 0 obj\s*<<([^<>]*)>>\s*stream\r?\n", pdf):
        raw = pdf[m.end() : pdf.index(b"endstream", m.end())]
        data = zlib.decompress(raw) if b"FlateDecode" in m.group(2) else raw
        streams[int(m.group(1))] = data
        if b"/Type" not in m.group(2) and b"/Subtype" not in m.group(2):
            contents.append(data)
    joined = b"\n".join(streams.values())
    cmaps: dict[bytes, dict[bytes, str]] = {}
    for tag, ref in re.findall(rb"/Type0/BaseFont /(\w+)\+\S*?/ToUnicode (\d+) 0 R", joined):
        table = cmaps.setdefault(tag, {})
        for section in re.findall(rb"beginbfchar(.*?)endbfchar", streams[int(ref)], re.S):
            for glyph, text in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", section):
                table[glyph.lower()] = bytes.fromhex(text.decode()).decode("utf-16-be")
    out: list[str] = []
    for stream in contents:
        font: dict[bytes, str] = {}
        for m in re.finditer(rb"/(\w+) [\d.]+ Tf|\[([^\]]*)\] TJ", stream):
            if m.group(1):
                font = cmaps.get(m.group(1), {})
                continue
            for run in re.findall(rb"<([0-9a-fA-F]*)>", m.group(2)):
                out.extend(font.get(run[i : i + 4].lower(), "?") for i in range(0, len(run), 4))
    return "".join(out)


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text without white space (pdftotext if installed, else the reader above)."""
    assert pdf.startswith(b"%PDF-")
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        text = subprocess.run(
            [pdftotext, "-layout", "-enc", "UTF-8", "-", "-"],
            input=pdf,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
    else:
        text = _reader_text(pdf)
    return re.sub(r"\s+", "", text)


def _no_writes() -> tuple[int, int]:
    return Invoice.objects.count(), AuditLog.objects.filter(action="invoice.issue").count()


# --- amounts in capitals ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (1, "壹分"),
        (5, "伍分"),  # 0.05
        (50, "伍角"),
        (55, "伍角伍分"),
        (100, "壹元整"),
        (105, "壹元零伍分"),
        (110, "壹元壹角"),
        (1000, "壹拾元整"),  # 10.00: 壹拾, not 拾
        (1500, "壹拾伍元整"),
        (10000, "壹佰元整"),
        (12345, "壹佰贰拾叁元肆角伍分"),
        (32504, "叁佰贰拾伍元零肆分"),  # 角 zero, 分 not: 零 after 元
        (100101, "壹仟零壹元零壹分"),  # 1001.01
        (140950, "壹仟肆佰零玖元伍角"),  # 1409.50
        (168032, "壹仟陆佰捌拾元叁角贰分"),  # 1680.32
        (1640902, "壹万陆仟肆佰零玖元零贰分"),  # 16409.02
        (10000000, "壹拾万元整"),  # 100000.00
        (10010000, "壹拾万零壹佰元整"),  # 100100.00
        (10700053, "壹拾万柒仟元伍角叁分"),  # 107000.53
        (10000100, "壹拾万零壹元整"),  # 100001.00
        (100000010, "壹佰万元壹角"),  # 1000000.10
        (100000100, "壹佰万零壹元整"),  # 1000001.00
        (
            1010101010,
            "壹仟零壹拾万壹仟零壹拾元壹角",
        ),  # 10101010.10: no 零 for 万 group trailing zero
        (10000000000, "壹亿元整"),
        (10000100000, "壹亿零壹仟元整"),  # 100001000.00: the empty 万 group reads 零
        (10010000000, "壹亿零壹拾万元整"),  # 100100000.00
        (123456789012, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
        (-12345, "负壹佰贰拾叁元肆角伍分"),
    ],
)
def test_yuan_in_capitals(fen: int, words: str) -> None:
    assert yuan_in_capitals(fen) == words


def test_yuan_in_capitals_refuses_an_amount_beyond_its_units() -> None:
    assert yuan_in_capitals(10**18 - 1).startswith("玖仟玖佰玖拾玖万亿")
    with pytest.raises(ValueError, match="too large"):
        yuan_in_capitals(10**18)


# --- unified social credit codes --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (COMPANY_ID, True),
        ("91110105MA01C9GR8W", True),  # the check character W computed for this test
        ("91110105MA01C9GR87", False),  # the same with a wrong one
        ("91350100M000100Y44", False),  # wrong check character
        ("91350100M000100Y4", False),  # 17 characters
        ("91350100M000100Y433", False),  # 19
        ("91110105ma01c9gr8w", False),  # lower case (the service upper-cases first)
        ("91110105MA01AGORA8", False),  # O is not in the alphabet
        ("", False),
    ],
)
def test_taxpayer_id_valid(text: str, valid: bool) -> None:
    assert taxpayer_id_valid(text) is valid


def test_taxpayer_id_check_character_computed_independently() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = "91440300MA5FXT4K0"
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    check = alphabet[(31 - total % 31) % 31]
    assert taxpayer_id_valid(body + check)
    others = [c for c in alphabet if c != check]
    assert not any(taxpayer_id_valid(body + c) for c in others)


# --- the local issuer -------------------------------------------------------------------------
def _draft(**fields: Any) -> InvoiceDraft:
    base: dict[str, Any] = {
        "kind": "blue",
        "seller_name": "卖方",
        "seller_tax_id": COMPANY_ID,
        "buyer_title_kind": "personal",
        "buyer_title": "张三",
        "buyer_taxpayer_id": "",
        "buyer_email": "",
        "lines": (),
        "amount_fen": 100,
        "tax_fen": 12,
        "tax_rate_permille": 130,
        "order_number": "T1",
        "shop_name": "店",
        "mall_name": "商场",
        "issued_at": NOW,
        "sequence": 7,
    }
    base.update(fields)
    return InvoiceDraft(**base)


def test_local_number_takes_the_year_in_china_time() -> None:
    local = LocalIssuer()
    assert local.number(_draft(sequence=7)) == "26110000000000000007"
    # 2025-12-31 16:30 UTC is already 2026 in Shanghai
    new_year = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
    assert local.number(_draft(issued_at=new_year, sequence=10**15 - 1)) == "26110999999999999999"
    with pytest.raises(ValueError, match="out of range"):
        local.number(_draft(sequence=10**15))


class BrokenIssuer(InvoiceIssuer):
    name = "broken"

    def issue(self, draft: InvoiceDraft) -> IssuedInvoice:
        raise RuntimeError("the tax platform is down")


class NotAnIssuer:
    pass


def test_issuer_is_built_from_settings() -> None:
    assert isinstance(issuer(), LocalIssuer)
    with override_settings(INVOICE_ISSUER="agora.checkout.tests.test_invoices.BrokenIssuer"):
        assert issuer().name == "broken"
    with (
        override_settings(INVOICE_ISSUER="agora.checkout.tests.test_invoices.NotAnIssuer"),
        pytest.raises(TypeError),
    ):
        issuer()


# --- issuing a blue invoice -------------------------------------------------------------------
def test_issue_for_a_paid_order() -> None:
    order = _order()
    invoice = _issue(order)

    invoice.refresh_from_db()
    # 100.00 paid (coupons and points are not invoiced); VAT 13% inside: 10000 x 13 / 113 = 1150.44
    assert (invoice.kind, invoice.amount_fen, invoice.tax_fen, invoice.tax_rate_permille) == (
        "blue",
        10000,
        1150,
        130,
    )
    # lines scaled from 113.00 to 100.00 (6725.66, 1946.90, 1327.43 -> the .90 and .66 round up);
    # tax 1150 spread over them the same way (773.49, 223.90, 152.61 -> .90 and .61 round up)
    assert invoice.lines == [
        {"position": 1, "name": "拿铁咖啡", "quantity": 2, "amount_fen": 6726, "tax_fen": 773},
        {"position": 2, "name": "可颂", "quantity": 1, "amount_fen": 1947, "tax_fen": 224},
        {"position": 3, "name": "矿泉水", "quantity": 3, "amount_fen": 1327, "tax_fen": 153},
    ]
    assert invoice.number == f"26110{invoice.pk:015d}"
    assert len(invoice.number) == 20
    assert (invoice.issuer, invoice.title_kind, invoice.title, invoice.taxpayer_id) == (
        "local",
        "company",
        "北京示例科技有限公司",
        COMPANY_ID,
    )
    assert (invoice.original_id, invoice.refund_id, invoice.issued_at) == (None, None, NOW)
    assert invoice.requested_by == User.objects.get(username="shop-cashier-1")
    assert invoice.emailed_at is None

    pdf = invoice_pdf(invoice)
    assert pdf == bytes(invoice.pdf)
    assert pdf.startswith(b"%PDF-")
    assert b"Noto-Sans-CJK-SC" in pdf or b"Noto-Sans-CJK-SC" in _inflated(pdf)
    text = _pdf_text(pdf)
    shop = _shop()
    for expected in (
        "电子发票（普通发票）",
        f"发票号码：{invoice.number}",
        "开票日期：2026年03月14日",
        "名称：北京示例科技有限公司",
        f"纳税人识别号：{COMPANY_ID}",
        "拿铁咖啡259.5313%7.73",  # 67.26 tax included = 59.53 + 7.73
        "¥88.50¥11.50",  # 合计: without tax, tax
        "价税合计（大写）⊗壹佰元整（小写）¥100.00",
        f"订单号：{order.number}",
        f"{shop.name}（{shop.mall.name}）",
    ):
        assert re.sub(r"\s+", "", expected) in text, expected
    assert "红字" not in text

    audit = AuditLog.objects.get(action="invoice.issue", target_id=str(invoice.pk))
    assert (audit.mall_id, audit.shop_id, audit.after["number"], audit.after["amount_fen"]) == (
        shop.mall_id,
        shop.pk,
        invoice.number,
        10000,
    )


def _inflated(pdf: bytes) -> bytes:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"".join(out)


def test_tax_rounds_half_up() -> None:
    # 5.00 x 13 / 113 = 0.5752 -> 0.58 (rounding down would give 0.57)
    invoice = _issue(_order(lines=[("矿泉水", 1, 500)], discount=0, points_fen=0))
    assert (invoice.amount_fen, invoice.tax_fen) == (500, 58)
    assert invoice.lines == [
        {"position": 1, "name": "矿泉水", "quantity": 1, "amount_fen": 500, "tax_fen": 58}
    ]


def test_issue_after_a_partial_refund_invoices_what_was_kept_and_emails_it(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(discount=0, points_fen=0)  # 113.00 paid
    _refund(order, 1300)  # 13.00 back before the invoice: 100.00 kept
    with django_capture_on_commit_callbacks(execute=True):
        invoice = _issue(
            order,
            title_kind="personal",
            title="  张三  ",
            taxpayer_id="",
            email="zhang.san@example.com",
            system=True,
        )
    assert (invoice.amount_fen, invoice.tax_fen, invoice.title, invoice.taxpayer_id) == (
        10000,
        1150,
        "张三",
        "",
    )
    assert [line["amount_fen"] for line in invoice.lines] == [6726, 1947, 1327]
    assert AuditLog.objects.filter(action="invoice.issue").count() == 0  # the system asked
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["zhang.san@example.com"]
    assert message.subject == f"电子发票 {invoice.number}"
    assert invoice.number in message.body and "¥100.00" in message.body
    assert message.attachments == [(f"{invoice.number}.pdf", bytes(invoice.pdf), "application/pdf")]
    invoice.refresh_from_db()
    assert invoice.emailed_at == NOW


def test_no_email_before_the_transaction_commits(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice = _issue(_order(), email="finance@example.com")
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert [m.subject for m in mailoutbox] == [f"电子发票 {invoice.number}"]


def test_taxpayer_id_is_normalised_to_upper_case() -> None:
    invoice = _issue(_order(), taxpayer_id=" 91110105ma01c9gr8w ")
    assert invoice.taxpayer_id == "91110105MA01C9GR8W"


def _refused(order: Order, error: type[Exception], **fields: Any) -> Exception:
    before = _no_writes()
    with pytest.raises(error) as caught:
        _issue(order, **fields)
    assert _no_writes() == before
    return caught.value


def test_refused_for_an_unpaid_order() -> None:
    for status in ("open", "pending", "closed", "refunded"):
        order = _order(status=status)
        if status == "refunded":
            _refund(order, order.paid_fen)
        exc = _refused(order, Conflict)
        assert isinstance(exc, Conflict) and exc.code == "order_not_paid"


def test_refused_for_an_order_paid_entirely_with_points() -> None:
    order = _order(lines=[("可颂", 1, 2200)], discount=0, points_fen=2200)
    exc = _refused(order, Conflict)
    assert isinstance(exc, Conflict) and exc.code == "nothing_to_invoice"


def test_one_blue_invoice_per_order() -> None:
    order = _order()
    first = _issue(order)
    exc = _refused(order, Conflict, title_kind="personal", title="李四", taxpayer_id="")
    assert isinstance(exc, Conflict) and exc.code == "already_invoiced"
    assert list(Invoice.objects.filter(order=order)) == [first]


def test_two_at_once_the_unique_index_gives_the_same_409() -> None:
    order = _order()
    first = _issue(order)
    # the second request passed the check before the first one committed
    with mock.patch("agora.checkout.services.invoices._has_blue", return_value=False):
        exc = _refused(order, Conflict)
    assert isinstance(exc, Conflict) and exc.code == "already_invoiced"
    assert list(Invoice.objects.filter(order=order)) == [first]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"taxpayer_id": "91350100M000100Y44"}, "taxpayer_id", "invalid"),
        ({"taxpayer_id": ""}, "taxpayer_id", "required"),
        ({"title": ""}, "title", "required"),
        ({"title": "   "}, "title", "required"),
        ({"title": "张"}, "title", "too_short"),
        ({"title": "公" * 101}, "title", "too_long"),
        ({"title_kind": "government"}, "title_kind", "enum"),
        ({"title_kind": "personal", "taxpayer_id": "12345"}, "taxpayer_id", "invalid"),
        ({"email": "not-an-address"}, "email", "invalid"),
    ],
)
def test_refused_with_a_field_error(fields: dict[str, str], field: str, code: str) -> None:
    exc = _refused(_order(), ValidationFailed, **fields)
    assert isinstance(exc, ValidationFailed)
    assert [(e.field, e.code) for e in exc.errors] == [(field, code)]
    if field == "taxpayer_id" and code == "invalid":
        assert exc.errors[0].reason == "not a valid unified social credit code"


def test_a_failing_issuer_leaves_no_row(mailoutbox: list[Any]) -> None:
    order = _order()
    with override_settings(INVOICE_ISSUER="agora.checkout.tests.test_invoices.BrokenIssuer"):
        exc = _refused(order, RuntimeError, email="finance@example.com")
    assert str(exc) == "the tax platform is down"
    assert mailoutbox == []
    assert _issue(order).amount_fen == 10000  # and the order can be invoiced afterwards


# --- red-letter credits -----------------------------------------------------------------------
def test_refunds_bring_red_invoices_until_the_blue_one_is_used_up(
    mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order()
    with django_capture_on_commit_callbacks(execute=True):
        blue = _issue(order, email="finance@example.com")

    refund = _refund(order, 1130)
    with django_capture_on_commit_callbacks(execute=True):
        red = invoice_credit(refund=refund, now=NOW)
    assert red is not None
    red.refresh_from_db()
    # -11.30 with its VAT: 1130 x 13 / 113 = 130 exactly
    assert (red.kind, red.amount_fen, red.tax_fen, red.original_id, red.refund_id) == (
        "red",
        -1130,
        -130,
        blue.pk,
        refund.pk,
    )
    assert (red.title_kind, red.title, red.taxpayer_id, red.email) == (
        blue.title_kind,
        blue.title,
        blue.taxpayer_id,
        blue.email,
    )
    # 1130 over what each line has (6726, 1947, 1327): 760.04, 220.01, 149.95 -> the last rounds
    # up; tax 130 over those: 87.43, 25.31, 17.26 -> the first rounds up. Amount-only: no quantity
    assert red.lines == [
        {"position": 1, "name": "拿铁咖啡", "quantity": 0, "amount_fen": -760, "tax_fen": -88},
        {"position": 2, "name": "可颂", "quantity": 0, "amount_fen": -220, "tax_fen": -25},
        {"position": 3, "name": "矿泉水", "quantity": 0, "amount_fen": -150, "tax_fen": -17},
    ]
    assert red.number == f"26110{red.pk:015d}"
    text = _pdf_text(invoice_pdf(red))
    for expected in (
        "红字",
        "负数",
        f"发票号码：{red.number}",
        f"对应蓝字发票号码：{blue.number}",
        "拿铁咖啡-6.7213%-0.88",
        "¥-10.00¥-1.30",
        "（负数）壹拾壹元叁角（小写）¥-11.30",
    ):
        assert expected in text, expected
    assert [m.subject for m in mailoutbox] == [
        f"电子发票 {blue.number}",
        f"红字电子发票 {red.number}",
    ]
    assert mailoutbox[1].attachments[0][0] == f"{red.number}.pdf"
    assert blue.number in mailoutbox[1].body

    # the same refund again: the same red invoice, nothing new
    assert invoice_credit(refund=refund, now=NOW) == red
    assert Invoice.objects.filter(order=order).count() == 2

    # a refund of more than is left credits exactly what is left, line by line
    last = invoice_credit(refund=_refund(order, 8870), now=NOW)
    assert last is not None
    assert (last.amount_fen, last.tax_fen) == (-8870, -1020)
    assert last.lines == [
        {"position": 1, "name": "拿铁咖啡", "quantity": 0, "amount_fen": -5966, "tax_fen": -685},
        {"position": 2, "name": "可颂", "quantity": 0, "amount_fen": -1727, "tax_fen": -199},
        {"position": 3, "name": "矿泉水", "quantity": 0, "amount_fen": -1177, "tax_fen": -136},
    ]
    totals = Invoice.objects.filter(order=order)
    assert sum(i.amount_fen for i in totals) == 0 and sum(i.tax_fen for i in totals) == 0


def test_a_full_refund_credits_every_line_with_its_quantity() -> None:
    order = _order()
    blue = _issue(order)
    red = invoice_credit(refund=_refund(order, 10000), now=NOW)
    assert red is not None
    assert (red.amount_fen, red.tax_fen, red.original_id) == (-10000, -1150, blue.pk)
    assert [(ln["quantity"], ln["amount_fen"], ln["tax_fen"]) for ln in red.lines] == [
        (-2, -6726, -773),
        (-1, -1947, -224),
        (-3, -1327, -153),
    ]
    assert "价税合计（大写）（负数）壹佰元整（小写）¥-100.00" in _pdf_text(bytes(red.pdf))


def test_no_red_invoice_without_a_blue_one_or_when_nothing_is_left(mailoutbox: list[Any]) -> None:
    order = _order()
    before = Invoice.objects.count()
    assert invoice_credit(refund=_refund(order, 500), now=NOW) is None
    assert Invoice.objects.count() == before

    other = _order()
    _issue(other)
    assert invoice_credit(refund=_refund(other, 10000), now=NOW) is not None
    after = Invoice.objects.count()
    zero = _refund(other, 0)  # a refund of points only: no money back
    assert invoice_credit(refund=zero, now=NOW) is None
    assert Invoice.objects.count() == after
    assert mailoutbox == []


def test_a_refund_from_before_the_invoice_is_not_credited_again() -> None:
    order = _order(discount=0, points_fen=0)
    early = _refund(order, 1300)
    Refund.objects.filter(pk=early.pk).update(completed_at=NOW - timedelta(hours=1))
    early.refresh_from_db()
    blue = _issue(order)
    assert blue.amount_fen == 10000  # 113.00 paid, 13.00 already back
    before = Invoice.objects.count()
    assert invoice_credit(refund=early, now=NOW) is None
    assert Invoice.objects.count() == before


def test_a_failed_refund_is_not_credited() -> None:
    order = _order()
    _issue(order)
    refund = _refund(order, 500)
    Refund.objects.filter(pk=refund.pk).update(status="failed")
    refund.refresh_from_db()
    before = Invoice.objects.count()
    with pytest.raises(Conflict) as caught:
        invoice_credit(refund=refund, now=NOW)
    assert caught.value.code == "refund_failed"
    assert Invoice.objects.count() == before
