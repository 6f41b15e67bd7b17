"""AlipayProvider against FakeAlipay: a real HTTP gateway on 127.0.0.1 that verifies the
adapter's RSA2 signatures and signs its answers and notifications with its own key pair."""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any

import pytest
from django.test import override_settings

from agora.checkout.providers import provider_named, reset_providers
from agora.checkout.providers.alipay import (
    AlipayError,
    AlipayProvider,
    fen_to_yuan,
    yuan_to_fen,
)
from agora.checkout.providers.base import (
    Answer,
    BillRow,
    Notice,
    NotificationRejected,
    ProviderError,
    RefundRequest,
    RefundResult,
    Started,
    StartRequest,
    Status,
)
from agora.testing.fake_alipay import (
    SHANGHAI,
    AlipayKeys,
    FakeAlipay,
    rsa2_sign,
    sign_content,
)

NOTIFY_URL = "http://127.0.0.1:9/checkout/notify/alipay"
PAID_AT = datetime(2026, 11, 20, 10, 0, 0, tzinfo=SHANGHAI)
NOTIFIED_AT = datetime(2026, 11, 20, 10, 0, 5, tzinfo=SHANGHAI)
NOW = NOTIFIED_AT + timedelta(seconds=30)
PAY_CODE = "284412345678901234"


@pytest.fixture(scope="module")
def keys() -> AlipayKeys:
    return AlipayKeys.generate()


@pytest.fixture
def fake(keys: AlipayKeys) -> Iterator[FakeAlipay]:
    with FakeAlipay(keys=keys) as running:
        yield running


@pytest.fixture
def alipay(fake: FakeAlipay) -> AlipayProvider:
    return AlipayProvider(name="alipay", **fake.provider_options())


def start_request(
    out_trade_no: str = "A2611200001",
    amount_fen: int = 1234,
    notify_url: str = NOTIFY_URL,
    **kw: Any,
) -> StartRequest:
    return StartRequest(
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        description="星巴克 国贸商城店 " + out_trade_no,
        notify_url=notify_url,
        expires_at=datetime.now(SHANGHAI) + timedelta(minutes=15),
        method="alipay",
        **kw,
    )


def paid(fake: FakeAlipay, alipay: AlipayProvider, out_trade_no: str = "A2611200001") -> str:
    alipay.start(start_request(out_trade_no))
    return fake.pay(out_trade_no, when=PAID_AT).trade_no


def refund(out_refund_no: str, fen: int, out_trade_no: str = "A2611200001") -> RefundRequest:
    return RefundRequest(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no, refund_fen=fen, total_fen=1234
    )


# --- amounts --------------------------------------------------------------------------------


def test_amounts_convert_exactly_both_ways() -> None:
    assert [fen_to_yuan(f) for f in (1, 10, 100, 1234, 100000001)] == [
        "0.01",
        "0.10",
        "1.00",
        "12.34",
        "1000000.01",
    ]
    assert [yuan_to_fen(y) for y in ("0.01", "0.1", "1", "12.34", "12.340", "-0.50")] == [
        1,
        10,
        100,
        1234,
        1234,
        -50,
    ]
    for bad in ("12.345", "1e3", "NaN", "Infinity", "", " ", "12,34", "１２.34", "0x10"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)
    with pytest.raises(TypeError):
        fen_to_yuan(12.34)  # type: ignore[arg-type]


# --- start ----------------------------------------------------------------------------------


def test_precreate_returns_the_qr_code_for_the_exact_amount(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    request = start_request()
    started = alipay.start(request)

    trade = fake.trades["A2611200001"]
    assert started == Started(code_url=trade.qr_code)
    assert trade.qr_code.startswith(fake.base_url + "/qr/bax0")
    assert (trade.total_fen, trade.subject, trade.notify_url) == (
        1234,
        "星巴克 国贸商城店 A2611200001",
        NOTIFY_URL,
    )
    assert trade.expires_at == request.expires_at.astimezone(SHANGHAI).replace(microsecond=0)
    method, biz, code = fake.calls[-1]
    assert (method, code, biz["total_amount"]) == ("alipay.trade.precreate", "10000", "12.34")


def test_barcode_payment_is_paid_at_once(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    started = alipay.start(start_request(auth_code=PAY_CODE))

    trade = fake.trades["A2611200001"]
    assert trade.trade_no != ""
    assert started == Started(
        provider_ref=trade.trade_no, paid=True, provider_txn_id=trade.trade_no
    )
    assert (trade.status, trade.auth_code, trade.total_fen) == ("TRADE_SUCCESS", PAY_CODE, 1234)
    assert fake.calls[-1][0] == "alipay.trade.pay"
    assert fake.calls[-1][1]["scene"] == "bar_code"


def test_barcode_payment_waiting_for_the_password_is_not_paid(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    started = alipay.start(start_request(auth_code="289912345678901234"))

    trade = fake.trades["A2611200001"]
    assert started == Started(provider_ref=trade.trade_no, paid=False)
    assert alipay.query("A2611200001") == Status(
        state="pending", provider_txn_id=trade.trade_no, amount_fen=1234
    )


def test_an_invalid_payment_code_is_refused_and_creates_nothing(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    with pytest.raises(AlipayError) as refused:
        alipay.start(start_request(auth_code="123456"))

    assert (refused.value.code, refused.value.sub_code) == (
        "40004",
        "ACQ.PAYMENT_AUTH_CODE_INVALID",
    )
    assert fake.trades == {}


# --- query and close ------------------------------------------------------------------------


def test_query_follows_the_trade_from_unscanned_to_paid(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    alipay.start(start_request())
    # Alipay does not know a precreated trade until the shopper scans the QR
    assert alipay.query("A2611200001") == Status(state="unknown")

    trade_no = fake.scan("A2611200001").trade_no
    assert alipay.query("A2611200001") == Status(
        state="pending", provider_txn_id=trade_no, amount_fen=1234
    )

    fake.pay("A2611200001", when=PAID_AT)
    assert alipay.query("A2611200001") == Status(
        state="paid", provider_txn_id=trade_no, amount_fen=1234, paid_at=PAID_AT
    )
    assert alipay.query("NEVER-STARTED") == Status(state="unknown")


def test_close_a_scanned_trade_and_close_it_again(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    alipay.start(start_request())
    trade_no = fake.scan("A2611200001").trade_no

    alipay.close("A2611200001")
    assert fake.trades["A2611200001"].status == "TRADE_CLOSED"
    assert alipay.query("A2611200001") == Status(
        state="closed", provider_txn_id=trade_no, amount_fen=1234
    )
    alipay.close("A2611200001")  # closed already: nothing to do
    with pytest.raises(ValueError, match="cannot be scanned"):
        fake.pay("A2611200001")


def test_closing_an_unscanned_trade_is_done_and_a_paid_one_is_refused(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    alipay.start(start_request("A2611200002"))
    alipay.close("A2611200002")  # Alipay: ACQ.TRADE_NOT_EXIST, nothing to close
    assert fake.calls[-1][0] == "alipay.trade.close"
    assert fake.trades["A2611200002"].status == ""

    trade_no = paid(fake, alipay)
    with pytest.raises(AlipayError) as refused:
        alipay.close("A2611200001")
    assert (refused.value.code, refused.value.sub_code) == ("40004", "ACQ.TRADE_STATUS_ERROR")
    assert alipay.query("A2611200001") == Status(
        state="paid", provider_txn_id=trade_no, amount_fen=1234, paid_at=PAID_AT
    )


# --- refunds --------------------------------------------------------------------------------


def test_partial_refund_then_the_rest_closes_the_trade(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    trade_no = paid(fake, alipay)

    assert alipay.refund(refund("R1", 234)) == RefundResult(
        state="succeeded", provider_refund_id=trade_no
    )
    assert fake.calls[-1][1]["refund_amount"] == "2.34"
    assert fake.trades["A2611200001"].refunded_fen == 234
    assert fake.trades["A2611200001"].status == "TRADE_SUCCESS"

    assert alipay.refund(refund("R2", 1000)) == RefundResult(
        state="succeeded", provider_refund_id=trade_no
    )
    trade = fake.trades["A2611200001"]
    assert {no: r.amount_fen for no, r in trade.refunds.items()} == {"R1": 234, "R2": 1000}
    assert trade.status == "TRADE_CLOSED"
    assert alipay.query("A2611200001").state == "closed"


def test_refund_beyond_what_was_paid_fails_and_changes_nothing(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    paid(fake, alipay)
    alipay.refund(refund("R1", 1000))

    assert alipay.refund(refund("R2", 235)) == RefundResult(
        state="failed", detail="ACQ.REFUND_AMT_NOT_EQUAL_TOTAL: 退款金额超限"
    )
    trade = fake.trades["A2611200001"]
    assert (list(trade.refunds), trade.refunded_fen, trade.status) == (
        ["R1"],
        1000,
        "TRADE_SUCCESS",
    )


def test_refund_of_an_unpaid_trade_fails(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    alipay.start(start_request())
    fake.scan("A2611200001")

    assert alipay.refund(refund("R1", 100)) == RefundResult(
        state="failed", detail="ACQ.TRADE_STATUS_ERROR: 交易状态不合法"
    )
    assert fake.trades["A2611200001"].refunds == {}


def test_repeating_the_same_refund_request_is_idempotent(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    trade_no = paid(fake, alipay)
    assert alipay.refund(refund("R1", 500)).state == "succeeded"

    # the repeat answers fund_change "N"; the adapter confirms with the refund query
    assert alipay.refund(refund("R1", 500)) == RefundResult(
        state="succeeded", provider_refund_id=trade_no
    )
    assert [(m, c) for m, _, c in fake.calls[-2:]] == [
        ("alipay.trade.refund", "10000"),
        ("alipay.trade.fastpay.refund.query", "10000"),
    ]
    assert fake.trades["A2611200001"].refunded_fen == 500


# --- notifications --------------------------------------------------------------------------


def test_a_genuine_payment_notification_becomes_the_exact_notice(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    trade_no = paid(fake, alipay)
    headers, body = fake.notification("A2611200001", notify_time=NOTIFIED_AT)

    notice = alipay.parse_notice(headers, body, NOW)

    event_id = dict(urllib.parse.parse_qsl(body.decode()))["notify_id"]
    assert notice == Notice(
        out_trade_no="A2611200001",
        state="paid",
        amount_fen=1234,
        provider_txn_id=trade_no,
        paid_at=PAID_AT,
        event_id=event_id,
    )
    assert event_id != ""
    # TRADE_FINISHED (no more refunds possible) is still paid
    _, finished = fake.notification("A2611200001", notify_time=NOTIFIED_AT, status="TRADE_FINISHED")
    assert alipay.parse_notice(headers, finished, NOW).state == "paid"


def test_closed_and_refunded_notifications(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    alipay.start(start_request("A2611200002"))
    closed_no = fake.scan("A2611200002").trade_no
    alipay.close("A2611200002")
    headers, body = fake.notification("A2611200002", notify_time=NOTIFIED_AT, status="TRADE_CLOSED")
    notice = alipay.parse_notice(headers, body, NOW)
    assert (notice.state, notice.amount_fen, notice.provider_txn_id, notice.paid_at) == (
        "closed",
        1234,
        closed_no,
        None,
    )

    trade_no = paid(fake, alipay)
    alipay.refund(refund("R1", 1234))
    headers, body = fake.notification("A2611200001", notify_time=NOTIFIED_AT, status="TRADE_CLOSED")
    assert dict(urllib.parse.parse_qsl(body.decode()))["refund_fee"] == "12.34"
    notice = alipay.parse_notice(headers, body, NOW)
    assert (notice.state, notice.amount_fen, notice.provider_txn_id, notice.paid_at) == (
        "refunded",
        1234,
        trade_no,
        PAID_AT,
    )


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"wrong_key": True}, "forged"),
        ({"tamper": True}, "forged"),
        ({"app_id": "2021000000009999"}, "forged"),
        ({"notify_time": NOW - timedelta(seconds=86401)}, "stale"),
        ({"notify_time": NOW + timedelta(minutes=5, seconds=1)}, "stale"),
    ],
    ids=["wrong-key", "tampered-amount", "another-app", "too-old", "from-the-future"],
)
def test_notifications_that_must_change_nothing(
    fake: FakeAlipay, alipay: AlipayProvider, options: dict[str, Any], reason: str
) -> None:
    paid(fake, alipay)
    headers, body = fake.notification("A2611200001", **{"notify_time": NOTIFIED_AT, **options})

    with pytest.raises(NotificationRejected) as rejected:
        alipay.parse_notice(headers, body, NOW)
    assert rejected.value.reason == reason


def test_notifications_at_the_edges_of_the_freshness_window(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    paid(fake, alipay)
    for when in (NOW - timedelta(seconds=86400), NOW + timedelta(minutes=5)):
        headers, body = fake.notification("A2611200001", notify_time=when)
        assert alipay.parse_notice(headers, body, NOW).state == "paid"


def resigned(fake: FakeAlipay, body: bytes, **changes: str | None) -> bytes:
    """The notification with fields changed (None: removed), signed again by Alipay's key."""
    fields = dict(urllib.parse.parse_qsl(body.decode()))
    for name, value in changes.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = value
    fields.pop("sign")
    fields["sign"] = rsa2_sign(
        fake.keys.alipay_private, sign_content(fields, exclude=("sign", "sign_type"))
    )
    return urllib.parse.urlencode(fields).encode()


def test_garbage_and_incomplete_notifications_are_malformed(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    paid(fake, alipay)
    headers, body = fake.notification("A2611200001", notify_time=NOTIFIED_AT)
    fields = dict(urllib.parse.parse_qsl(body.decode()))
    unsigned = {k: v for k, v in fields.items() if k != "sign"}
    bodies = [
        b"",
        b"\xff\xfe\x00garbage",
        b"this is not a form",
        b"a=1&a=2&sign=x&sign_type=RSA2",
        urllib.parse.urlencode(unsigned).encode(),  # no sign at all
        body + b"&total_amount=99.00",  # a repeated field
        b"x" * (64 * 1024 + 1),
        resigned(fake, body, notify_id=None),
        resigned(fake, body, total_amount="12.345"),  # not a whole number of fen
        resigned(fake, body, total_amount="twelve"),
        resigned(fake, body, notify_time="yesterday"),
        resigned(fake, body, trade_status="TRADE_MAYBE"),
        resigned(fake, body, trade_no=None),
    ]
    for garbage in bodies:
        with pytest.raises(NotificationRejected) as rejected:
            alipay.parse_notice(headers, garbage, NOW)
        assert rejected.value.reason == "malformed", garbage[:80]

    # the same resigning with nothing changed is accepted: the refusals above are the fields'
    assert alipay.parse_notice(headers, resigned(fake, body), NOW).amount_fen == 1234


def test_a_weaker_or_foreign_signature_type_is_forged(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    paid(fake, alipay)
    headers, body = fake.notification("A2611200001", notify_time=NOTIFIED_AT)
    weaker = body.replace(b"sign_type=RSA2", b"sign_type=RSA")
    with pytest.raises(NotificationRejected) as rejected:
        alipay.parse_notice(headers, weaker, NOW)
    assert rejected.value.reason == "forged"


def test_answers_are_exactly_what_alipay_expects(alipay: AlipayProvider) -> None:
    assert alipay.answer(True) == Answer(status=200, content_type="text/plain", body=b"success")
    assert alipay.answer(False) == Answer(status=200, content_type="text/plain", body=b"failure")


def test_deliver_posts_the_notification_over_http(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    received: list[Notice] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                received.append(alipay.parse_notice(dict(self.headers), body, NOW))
                answer = alipay.answer(True)
            except NotificationRejected:
                answer = alipay.answer(False)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/notify"
        alipay.start(start_request(notify_url=url))
        fake.pay("A2611200001", when=PAID_AT)

        assert fake.deliver("A2611200001", notify_time=NOTIFIED_AT) == (200, "success")
        assert fake.deliver("A2611200001", notify_time=NOTIFIED_AT, wrong_key=True) == (
            200,
            "failure",
        )
        assert [n.provider_txn_id for n in received] == [fake.trades["A2611200001"].trade_no]
        assert [(u, s) for u, s, _ in fake.deliveries] == [(url, 200), (url, 200)]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    with pytest.raises(ValueError, match="only delivers to this machine"):
        fake.deliver("A2611200001", notify_url="https://merchant.example.com/notify")


# --- bills ----------------------------------------------------------------------------------


def test_bill_lists_the_days_payments_and_refunds_in_fen(
    fake: FakeAlipay, alipay: AlipayProvider
) -> None:
    day = date(2026, 11, 20)
    at = datetime(2026, 11, 20, 18, 0, tzinfo=SHANGHAI)
    fake.clock = lambda: at
    first = paid(fake, alipay, "A2611200001")
    alipay.start(start_request("A2611200002", amount_fen=5000))
    second = fake.pay("A2611200002", when=datetime(2026, 11, 20, 11, 30, tzinfo=SHANGHAI)).trade_no
    alipay.refund(refund("R1", 234))
    alipay.start(start_request("A2611200003", amount_fen=99))
    fake.pay("A2611200003", when=datetime(2026, 11, 19, 23, 59, 59, tzinfo=SHANGHAI))
    fake.clock = lambda: datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)

    rows = alipay.bill(day)

    assert rows == [
        BillRow(
            kind="payment",
            out_trade_no="A2611200001",
            amount_fen=1234,
            provider_txn_id=first,
            at=PAID_AT,
            extra={"商家实收（元）": "12.34", "服务费（元）": "-0.07"},
        ),
        BillRow(
            kind="payment",
            out_trade_no="A2611200002",
            amount_fen=5000,
            provider_txn_id=second,
            at=datetime(2026, 11, 20, 11, 30, tzinfo=SHANGHAI),
            extra={"商家实收（元）": "50.00", "服务费（元）": "-0.30"},
        ),
        BillRow(
            kind="refund",
            out_trade_no="A2611200001",
            amount_fen=234,
            provider_txn_id=first,
            out_refund_no="R1",
            at=at,
            extra={"商家实收（元）": "-2.34", "服务费（元）": "0.01"},
        ),
    ]
    assert fake.calls[-1][1] == {"bill_type": "trade", "bill_date": "2026-11-20"}
    assert [row.out_trade_no for row in alipay.bill(date(2026, 11, 19))] == ["A2611200003"]
    assert alipay.bill(date(2026, 11, 18)) == []


def test_the_bill_zip_is_shaped_like_alipays(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    fake.clock = lambda: datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    paid(fake, alipay)
    archive = zipfile.ZipFile(BytesIO(fake.bill_zip(date(2026, 11, 20))))

    infos = archive.infolist()
    assert [info.flag_bits & 0x800 for info in infos] == [0, 0]  # GBK names, no UTF-8 flag
    assert [info.filename.encode("cp437").decode("gbk") for info in infos] == [
        "20880000000000010156_20261120_业务明细.csv",
        "20880000000000010156_20261120_业务明细(汇总).csv",
    ]
    text = archive.read(infos[0]).decode("gbk")
    assert "订单金额（元）" in text
    assert f"{fake.trades['A2611200001'].trade_no}\t,A2611200001\t,交易," in text


def test_no_bill_for_today_yet(fake: FakeAlipay, alipay: AlipayProvider) -> None:
    fake.clock = lambda: datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    with pytest.raises(AlipayError) as refused:
        alipay.bill(date(2026, 11, 21))
    assert (refused.value.code, refused.value.sub_code) == ("40004", "isp.bill_not_exist")


# --- keys, transport and configuration ------------------------------------------------------


def test_a_request_signed_with_the_wrong_app_key_is_refused(
    fake: FakeAlipay, keys: AlipayKeys
) -> None:
    impostor = AlipayProvider(
        name="alipay", **{**fake.provider_options(), "app_private_key": keys.stranger_private_pem}
    )
    with pytest.raises(AlipayError) as refused:
        impostor.start(start_request())

    assert (refused.value.code, refused.value.sub_code) == ("40002", "isv.invalid-signature")
    assert fake.trades == {}
    assert fake.calls == [("alipay.trade.precreate", {}, "40002")]


def test_an_unknown_app_gets_an_unsigned_refusal(fake: FakeAlipay) -> None:
    stranger = AlipayProvider(
        name="alipay", **{**fake.provider_options(), "appid": "2021000000009999"}
    )
    with pytest.raises(AlipayError) as refused:
        stranger.query("A2611200001")

    assert (refused.value.code, refused.value.sub_code, refused.value.sub_msg) == (
        "40002",
        "isv.invalid-app-id",
        "无效的AppID参数",
    )
    assert fake.calls == [("alipay.trade.query", {}, "40002")]


def test_an_answer_not_signed_by_alipay_is_refused(fake: FakeAlipay, keys: AlipayKeys) -> None:
    trusting_a_stranger = AlipayProvider(
        name="alipay", **{**fake.provider_options(), "alipay_public_key": keys.stranger_public_pem}
    )
    with pytest.raises(ProviderError, match="signature did not verify"):
        trusting_a_stranger.start(start_request())


def test_the_bare_base64_keys_of_the_open_platform_are_accepted(
    fake: FakeAlipay, keys: AlipayKeys
) -> None:
    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    options = fake.provider_options()
    provider = AlipayProvider(
        name="alipay",
        **{
            **options,
            "app_private_key": bare(options["app_private_key"]),
            "alipay_public_key": bare(options["alipay_public_key"]),
        },
    )
    assert provider.start(start_request()).code_url == fake.trades["A2611200001"].qr_code


def test_an_unreachable_gateway_is_a_provider_error(keys: AlipayKeys) -> None:
    fake = FakeAlipay(keys=keys).start()
    options = fake.provider_options()
    fake.stop()  # nothing listens on that port any more
    with pytest.raises(ProviderError, match="transport failure"):
        AlipayProvider(name="alipay", **options).query("A2611200001")


def test_a_gateway_that_never_answers_times_out(fake: FakeAlipay) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (in the kernel), never answers
    try:
        gateway = f"http://127.0.0.1:{silent.getsockname()[1]}/gateway.do"
        provider = AlipayProvider(
            name="alipay", **{**fake.provider_options(), "gateway": gateway, "timeout": 0.3}
        )
        began = time.monotonic()
        with pytest.raises(ProviderError, match="transport failure"):
            provider.query("A2611200001")
        assert time.monotonic() - began < 3
    finally:
        silent.close()


def test_built_from_settings_like_every_provider(fake: FakeAlipay) -> None:
    config = {"alipay": {"class": "agora.checkout.providers.alipay.AlipayProvider"}}
    config["alipay"].update(fake.provider_options())
    reset_providers()
    try:
        with override_settings(PAYMENT_PROVIDERS=config):
            provider = provider_named("alipay")
            assert isinstance(provider, AlipayProvider)
            assert (provider.name, provider.methods, provider.timeout) == ("alipay", ("alipay",), 5)
            assert provider.start(start_request()).code_url != ""
    finally:
        reset_providers()
