"""The WeChat Pay v3 adapter against the local fake WeChat Pay (signed requests and
responses over real HTTP on 127.0.0.1). Keys are made for the run, never stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.http.request import HttpHeaders

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
from agora.checkout.providers.wechatpay import (
    WeChatPayError,
    WeChatPayProvider,
    parse_trade_bill,
    yuan_to_fen,
)
from agora.testing.fake_wechatpay import (
    PUBLIC_KEY_ID,
    SHANGHAI,
    FakeWeChatPay,
    generate_key,
    impostor_key,
    merchant_options,
    private_pem,
    public_pem,
)

NOTIFY = "http://127.0.0.1:8000/api/v1/checkout/notify/wechatpay"


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"platform_key": generate_key(), "merchant_key": generate_key()}


@pytest.fixture
def fake(keys: dict[str, Any]) -> Iterator[FakeWeChatPay]:
    with FakeWeChatPay(**keys) as running:
        yield running


@pytest.fixture
def provider(fake: FakeWeChatPay) -> WeChatPayProvider:
    return WeChatPayProvider(name="wechatpay", **merchant_options(fake))


def start(provider: WeChatPayProvider, no: str, fen: int = 1234, **kw: Any) -> Started:
    expires = kw.pop("expires_at", datetime.now(UTC) + timedelta(minutes=15))
    return provider.start(
        StartRequest(no, fen, kw.pop("description", "星巴克 国贸商城店"), NOTIFY, expires, **kw)
    )


# --- options and start ---------------------------------------------------------------------


def test_options_point_at_the_fake(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    options = merchant_options(fake)
    assert options["mchid"] == "1900000109"
    assert options["appid"] == "wx8888888888888888"
    assert options["public_key_id"] == PUBLIC_KEY_ID == "PUB_KEY_ID_0000000000000024000000000000"
    assert len(options["apiv3_key"]) == 32
    assert options["gateway"] == fake.url
    assert provider.gateway == fake.url
    assert (provider.name, provider.methods) == ("wechatpay", ("wechat",))


def test_start_creates_a_native_order(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    expires = datetime(2031, 5, 1, 4, 15, tzinfo=UTC)
    started = start(provider, "A2611210001", 1234, expires_at=expires)

    trade = fake.trades["A2611210001"]
    assert started == Started(code_url=trade.code_url)
    assert started.code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    assert (trade.total_fen, trade.description, trade.notify_url) == (
        1234,
        "星巴克 国贸商城店",
        NOTIFY,
    )
    assert trade.time_expire == expires
    assert trade.time_expire.utcoffset() == timedelta(hours=8)  # sent as Beijing time
    assert fake.requests == [("POST", "/v3/pay/transactions/native", 200)]


def test_start_again_is_idempotent_but_not_with_another_amount(
    fake: FakeWeChatPay, provider: WeChatPayProvider
) -> None:
    first = start(provider, "A2611210002", 1234)
    assert start(provider, "A2611210002", 1234) == first
    with pytest.raises(WeChatPayError) as caught:
        start(provider, "A2611210002", 999)
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REQUEST")
    assert fake.trades["A2611210002"].total_fen == 1234


def test_payment_code_is_refused_without_a_request(
    fake: FakeWeChatPay, provider: WeChatPayProvider
) -> None:
    with pytest.raises(ProviderError, match="micropay not supported"):
        start(provider, "A2611210003", auth_code="134567890123456789")
    assert fake.requests == []
    assert fake.trades == {}


# --- query, pay, close -----------------------------------------------------------------------


def test_query_pending_then_paid(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    start(provider, "A2611210010", 1234)
    assert provider.query("A2611210010") == Status("pending")

    when = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(seconds=30)
    trade = fake.pay("A2611210010", when=when)

    status = provider.query("A2611210010")
    assert status == Status(
        "paid", provider_txn_id=trade.transaction_id, amount_fen=1234, paid_at=when
    )
    assert trade.transaction_id.startswith("4200001")
    assert status.paid_at is not None and status.paid_at.utcoffset() == timedelta(hours=8)


def test_query_an_unknown_trade(provider: WeChatPayProvider) -> None:
    assert provider.query("A2611219999") == Status("unknown")


def test_close_then_the_shopper_cannot_pay(
    fake: FakeWeChatPay, provider: WeChatPayProvider
) -> None:
    start(provider, "A2611210020", 500)
    provider.close("A2611210020")

    assert fake.trades["A2611210020"].trade_state == "CLOSED"
    assert fake.requests[-1] == ("POST", "/v3/pay/transactions/out-trade-no/A2611210020/close", 204)
    assert provider.query("A2611210020") == Status("closed")
    with pytest.raises(ValueError, match="CLOSED"):
        fake.pay("A2611210020")
    provider.close("A2611210020")  # closing twice is fine
    assert fake.trades["A2611210020"].trade_state == "CLOSED"


def test_close_a_paid_trade_is_refused(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    start(provider, "A2611210021", 500)
    trade = fake.pay("A2611210021")
    with pytest.raises(WeChatPayError) as caught:
        provider.close("A2611210021")
    assert (caught.value.status, caught.value.code) == (400, "ORDERPAID")
    assert trade.trade_state == "SUCCESS"
    assert provider.query("A2611210021").state == "paid"


def test_close_an_unknown_trade(provider: WeChatPayProvider) -> None:
    with pytest.raises(WeChatPayError) as caught:
        provider.close("A2611219998")
    assert (caught.value.status, caught.value.code) == (404, "ORDER_NOT_EXIST")


# --- refunds ---------------------------------------------------------------------------------


def test_refund_in_parts_and_not_beyond(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    start(provider, "A2611210030", 1234)
    fake.pay("A2611210030")
    trade = fake.trades["A2611210030"]

    first = provider.refund(RefundRequest("A2611210030", "A2611210030R1", 234, 1234, "少送一杯"))
    assert first == RefundResult("succeeded", trade.refunds[0].refund_id, "SUCCESS")
    assert (trade.refunds[0].refund_fen, trade.refunds[0].reason) == (234, "少送一杯")
    assert provider.query("A2611210030").state == "refunded"

    rest = provider.refund(RefundRequest("A2611210030", "A2611210030R2", 1000, 1234))
    assert rest == RefundResult("succeeded", trade.refunds[1].refund_id, "SUCCESS")
    assert trade.refunded_fen == 1234

    # the same refund again (a retry) is the same refund, not a new one
    again = provider.refund(RefundRequest("A2611210030", "A2611210030R2", 1000, 1234))
    assert again == rest
    assert len(trade.refunds) == 2

    with pytest.raises(WeChatPayError) as caught:
        provider.refund(RefundRequest("A2611210030", "A2611210030R3", 1, 1234))
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REQUEST")
    assert caught.value.message == "申请退款金额超过订单可退金额"
    assert [r.out_refund_no for r in trade.refunds] == ["A2611210030R1", "A2611210030R2"]
    assert trade.refunded_fen == 1234


def test_refund_total_must_be_the_paid_amount(
    fake: FakeWeChatPay, provider: WeChatPayProvider
) -> None:
    start(provider, "A2611210031", 1234)
    fake.pay("A2611210031")
    with pytest.raises(WeChatPayError) as caught:
        provider.refund(RefundRequest("A2611210031", "A2611210031R1", 100, 9999))
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REQUEST")
    assert fake.trades["A2611210031"].refunds == []
    assert fake.trades["A2611210031"].trade_state == "SUCCESS"


def test_refund_of_an_unpaid_trade(fake: FakeWeChatPay, provider: WeChatPayProvider) -> None:
    start(provider, "A2611210032", 1234)
    with pytest.raises(WeChatPayError) as caught:
        provider.refund(RefundRequest("A2611210032", "A2611210032R1", 100, 1234))
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REQUEST")
    assert fake.trades["A2611210032"].refunds == []


@pytest.mark.parametrize(
    ("outcome", "state"),
    [("PROCESSING", "processing"), ("ABNORMAL", "failed"), ("CLOSED", "failed")],
)
def test_refund_outcomes(
    fake: FakeWeChatPay, provider: WeChatPayProvider, outcome: str, state: str
) -> None:
    start(provider, "A2611210033", 1234)
    fake.pay("A2611210033")
    fake.refund_status = outcome
    result = provider.refund(RefundRequest("A2611210033", "A2611210033R1", 100, 1234))
    assert result == RefundResult(state, fake.trades["A2611210033"].refunds[0].refund_id, outcome)  # type: ignore[arg-type]


# --- notifications ---------------------------------------------------------------------------


@pytest.fixture
def paid(fake: FakeWeChatPay, provider: WeChatPayProvider) -> str:
    start(provider, "A2611210040", 1234)
    fake.pay("A2611210040", when=datetime.now(SHANGHAI).replace(microsecond=0))
    return "A2611210040"


def expected_notice(fake: FakeWeChatPay, no: str, body: bytes) -> Notice:
    trade = fake.trades[no]
    return Notice(
        out_trade_no=no,
        state="paid",
        amount_fen=trade.total_fen,
        provider_txn_id=trade.transaction_id,
        paid_at=trade.success_time,
        event_id=json.loads(body)["id"],
    )


def test_parse_a_good_notice(fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str) -> None:
    headers, body = fake.notification(paid)
    notice = provider.parse_notice(headers, body, datetime.now(UTC))
    assert notice == expected_notice(fake, paid, body)
    assert notice.amount_fen == 1234
    assert len(notice.event_id) == 36


def test_parse_a_notice_from_django_headers(
    fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str
) -> None:
    headers, body = fake.notification(paid)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    django_headers = HttpHeaders(meta)
    assert "Wechatpay-Signature" in django_headers
    notice = provider.parse_notice(django_headers, body, datetime.now(UTC))
    assert notice == expected_notice(fake, paid, body)
    lower = {k.lower(): v for k, v in headers.items()}
    assert provider.parse_notice(lower, body, datetime.now(UTC)) == notice


def rejected(
    provider: WeChatPayProvider, headers: Any, body: bytes, now: datetime | None = None
) -> str:
    with pytest.raises(NotificationRejected) as caught:
        provider.parse_notice(headers, body, now or datetime.now(UTC))
    return caught.value.reason


def test_forged_notices(fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str) -> None:
    assert rejected(provider, *fake.notification(paid, wrong_key=True)) == "forged"
    assert rejected(provider, *fake.notification(paid, tamper=True)) == "forged"

    headers, body = fake.notification(paid)
    assert rejected(provider, {**headers, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"}, body) == "forged"
    assert rejected(provider, {**headers, "Wechatpay-Signature": "bm90IGEgc2ln"}, body) == "forged"
    # a body nobody signed, under headers taken from a real notification
    assert rejected(provider, headers, b'{"id": "x"}') == "forged"
    assert fake.requests == [("POST", "/v3/pay/transactions/native", 200)]  # no lookup at all


def test_stale_notices(fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str) -> None:
    headers, body = fake.notification(paid)
    now = datetime.now(UTC)
    assert rejected(provider, headers, body, now + timedelta(minutes=10)) == "stale"
    assert rejected(provider, headers, body, now - timedelta(minutes=10)) == "stale"
    # within max_age_seconds it is fine
    assert provider.parse_notice(headers, body, now + timedelta(minutes=4)).state == "paid"

    old = int(now.timestamp()) - 301
    assert rejected(provider, *fake.notification(paid, timestamp=old), now) == "stale"


def test_malformed_notices(fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str) -> None:
    assert rejected(provider, *fake.notification(paid, timestamp="17x3")) == "malformed"
    assert rejected(provider, *fake.notification(paid, timestamp="-1700000000")) == "malformed"

    headers, body = fake.notification(paid)
    assert rejected(provider, {**headers, "Wechatpay-Timestamp": " 1"}, body) == "malformed"
    no_signature = {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}
    assert rejected(provider, no_signature, body) == "malformed"
    other_type = {**headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}
    assert rejected(provider, other_type, body) == "malformed"

    # garbage that WeChat's key did sign
    for garbage in (b"not json at all", b"[1, 2]", b'{"resource_type": "encrypt-resource"}'):
        assert rejected(provider, fake.sign_notification(garbage), garbage) == "malformed"
    assert rejected(provider, headers, b"\xff\xfe not utf-8") == "malformed"


def test_a_resource_that_does_not_decrypt(
    fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str
) -> None:
    envelope = json.loads(fake.notification(paid)[1])
    envelope["resource"] = fake.encrypt_resource('{"out_trade_no": "A2611210040"}', key="k" * 32)
    body = json.dumps(envelope).encode()
    assert rejected(provider, fake.sign_notification(body), body) == "malformed"


def test_a_signed_notice_of_another_kind(
    fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str
) -> None:
    envelope = json.loads(fake.notification(paid)[1])
    envelope["event_type"] = "REFUND.SUCCESS"
    body = json.dumps(envelope).encode()
    with pytest.raises(NotificationRejected) as caught:
        provider.parse_notice(fake.sign_notification(body), body, datetime.now(UTC))
    assert (caught.value.reason, caught.value.detail) == (
        "malformed",
        "unsupported event_type 'REFUND.SUCCESS'",
    )


def test_answers(provider: WeChatPayProvider) -> None:
    assert provider.answer(True) == Answer(200, "text/plain; charset=utf-8", b"")
    assert provider.answer(False) == Answer(
        500,
        "application/json; charset=utf-8",
        '{"code": "FAIL", "message": "失败"}'.encode(),
    )


def test_deliver_posts_the_notice_over_http(
    fake: FakeWeChatPay, provider: WeChatPayProvider, paid: str
) -> None:
    received: list[Notice | str] = []

    class Merchant(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                received.append(provider.parse_notice(self.headers, body, datetime.now(UTC)))
                answer = provider.answer(True)
            except NotificationRejected as exc:
                received.append(exc.reason)
                answer = provider.answer(False)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Merchant)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/notify/wechatpay"
        assert fake.deliver(paid, url) == 200
        assert fake.deliver(paid, url, wrong_key=True) == 500
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(received[0], Notice)
    assert (received[0].out_trade_no, received[0].amount_fen) == (paid, 1234)
    assert received[1:] == ["forged"]
    assert fake.deliveries == [(url, 200), (url, 500)]


# --- bills -----------------------------------------------------------------------------------


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI)


def test_bill_lists_the_days_payments_and_refunds(
    fake: FakeWeChatPay, provider: WeChatPayProvider
) -> None:
    day = date(2026, 1, 1)
    for no, fen in (("B001", 1234), ("B002", 1234), ("B003", 5000), ("B004", 88)):
        start(provider, f"A26010100{no}", fen)
    # paid the evening before (Beijing): on that day's bill, not this one
    fake.pay("A26010100B001", when=at(day, 0) - timedelta(seconds=1))
    # paid at Beijing midnight, given in UTC
    fake.pay("A26010100B002", when=datetime(2025, 12, 31, 16, 0, 0, tzinfo=UTC))
    fake.pay("A26010100B003", when=at(day, 12, 30, 5))
    # B004 is never paid

    fake.clock = lambda: at(day, 9, 15)
    provider.refund(RefundRequest("A26010100B001", "A26010100B001R1", 1234, 1234))
    fake.clock = lambda: at(day, 13)
    provider.refund(RefundRequest("A26010100B003", "A26010100B003R1", 1, 5000))
    fake.clock = lambda: at(day + timedelta(days=1), 8)
    provider.refund(RefundRequest("A26010100B002", "A26010100B002R1", 34, 1234))

    t = fake.trades
    assert provider.bill(day) == [
        BillRow(
            "payment",
            "A26010100B002",
            1234,
            t["A26010100B002"].transaction_id,
            at=at(day, 0),
            extra={"trade_type": "NATIVE", "fee_fen": "7"},
        ),
        BillRow(
            "refund",
            "A26010100B001",
            1234,
            t["A26010100B001"].transaction_id,
            out_refund_no="A26010100B001R1",
            at=at(day, 9, 15),
            extra={
                "trade_type": "NATIVE",
                "fee_fen": "-7",
                "provider_refund_id": t["A26010100B001"].refunds[0].refund_id,
            },
        ),
        BillRow(
            "payment",
            "A26010100B003",
            5000,
            t["A26010100B003"].transaction_id,
            at=at(day, 12, 30, 5),
            extra={"trade_type": "NATIVE", "fee_fen": "30"},
        ),
        BillRow(
            "refund",
            "A26010100B003",
            1,
            t["A26010100B003"].transaction_id,
            out_refund_no="A26010100B003R1",
            at=at(day, 13),
            extra={
                "trade_type": "NATIVE",
                "fee_fen": "0",
                "provider_refund_id": t["A26010100B003"].refunds[0].refund_id,
            },
        ),
    ]
    previous = provider.bill(day - timedelta(days=1))
    assert [(r.kind, r.out_trade_no, r.amount_fen) for r in previous] == [
        ("payment", "A26010100B001", 1234)
    ]
    following = provider.bill(day + timedelta(days=1))
    assert [(r.kind, r.out_refund_no, r.amount_fen) for r in following] == [
        ("refund", "A26010100B002R1", 34)
    ]
    assert provider.bill(day + timedelta(days=2)) == []  # NO_STATEMENT_EXIST: nothing that day


def test_bill_with_a_wrong_hash_is_refused(keys: dict[str, Any]) -> None:
    class BadHash(FakeWeChatPay):
        def _tradebill(self, query: dict[str, str]) -> dict[str, Any]:
            answer = super()._tradebill(query)
            return {**answer, "hash_value": "0" * 40}

    with BadHash(**keys) as fake:
        provider = WeChatPayProvider(name="wechatpay", **merchant_options(fake))
        start(provider, "A2611210050", 1234)
        fake.pay("A2611210050")
        with pytest.raises(WeChatPayError) as caught:
            provider.bill(datetime.now(SHANGHAI).date())
        assert (caught.value.code, caught.value.message) == ("BAD_BILL", "bill hash mismatch")


def test_yuan_to_fen_is_exact() -> None:
    assert [yuan_to_fen(v) for v in ("12.34", "0.01", "0.1", "100", "-0.07", "99999999.99")] == [
        1234,
        1,
        10,
        10000,
        -7,
        9999999999,
    ]
    for bad in ("1.234", "1e3", "", "12,34", " 1.00", "NaN", "１２"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)


def test_parse_trade_bill_reads_quotes_and_a_bom() -> None:
    text = (
        "\ufeff交易时间,微信订单号,商户订单号,交易类型,交易状态,订单金额,微信退款单号,商户退款单号,"
        "申请退款金额,退款状态\r\n"
        "`2026-01-02 10:00:00,`4200001,`A1,`NATIVE,`SUCCESS,`12.34,`0,`0,`0.00,`\r\n"
        "`2026-01-02 11:00:00,`4200002,`A2,`NATIVE,`REVOKED,`1.00,`0,`0,`0.00,`\r\n"
        "`2026-01-02 12:00:00,`4200001,`A1,`NATIVE,`REFUND,`12.34,`503,`A1R,`2.00,`PROCESSING\r\n"
        '`2026-01-02 13:00:00,`4200001,`A1,`NATIVE,`REFUND,`12.34,`504,`A1S,"`2.30",`SUCCESS\r\n'
        "\r\n总交易单数,应结订单总金额\r\n`4,`12.34\r\n"
    )
    assert parse_trade_bill(text) == [
        BillRow(
            "payment",
            "A1",
            1234,
            "4200001",
            at=datetime(2026, 1, 2, 10, tzinfo=SHANGHAI),
            extra={"trade_type": "NATIVE"},
        ),
        BillRow(
            "refund",
            "A1",
            230,
            "4200001",
            out_refund_no="A1S",
            at=datetime(2026, 1, 2, 13, tzinfo=SHANGHAI),
            extra={"trade_type": "NATIVE", "provider_refund_id": "504"},
        ),
    ]


# --- authentication and transport ------------------------------------------------------------


def test_the_fake_rejects_a_request_signed_with_another_key(fake: FakeWeChatPay) -> None:
    options = {**merchant_options(fake), "private_key": private_pem(impostor_key())}
    provider = WeChatPayProvider(name="wechatpay", **options)
    with pytest.raises(WeChatPayError) as caught:
        start(provider, "A2611210060", 1234)
    assert (caught.value.status, caught.value.code) == (401, "SIGN_ERROR")
    with pytest.raises(ProviderError):
        provider.query("A2611210060")
    assert fake.trades == {}
    assert [r[2] for r in fake.requests] == [401, 401]


def test_a_response_not_signed_by_wechat_is_refused(fake: FakeWeChatPay) -> None:
    # the adapter trusts another WeChat Pay key than the one the fake signs with
    options = {**merchant_options(fake), "public_key": public_pem(impostor_key())}
    provider = WeChatPayProvider(name="wechatpay", **options)
    with pytest.raises(WeChatPayError) as caught:
        start(provider, "A2611210061", 1234)
    assert (caught.value.status, caught.value.code) == (0, "SDK_ERROR")
    assert caught.value.message == "failed to verify the signature"
    assert fake.requests == [("POST", "/v3/pay/transactions/native", 200)]


def test_an_unreachable_gateway(keys: dict[str, Any]) -> None:
    fake = FakeWeChatPay(**keys).start()
    options = merchant_options(fake)
    fake.stop()
    provider = WeChatPayProvider(name="wechatpay", **{**options, "timeout": 2})
    with pytest.raises(WeChatPayError) as caught:
        provider.query("A2611210062")
    assert (caught.value.status, caught.value.code) == (0, "UNREACHABLE")
