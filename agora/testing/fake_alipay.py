"""A local stand-in for Alipay's open-platform gateway, speaking its RSA2-signed protocol.

``FakeAlipay`` is a real HTTP server on 127.0.0.1 (any free port, daemon thread). Like the
gateway it verifies the RSA2 ``sign`` of every request with the app's public key (code 40002
``isv.invalid-signature`` otherwise), answers ``{"<method>_response": {...}, "sign": "..."}``
signed with Alipay's private key over the exact JSON text of the response object, and serves
the daily trade bill as a zip of GBK CSV files whose names are GBK too. Its signing is written
here with ``cryptography``, independently of the SDK the adapter uses.

Modelled the way Alipay behaves: a precreated QR is unknown to ``alipay.trade.query`` and
``alipay.trade.close`` (ACQ.TRADE_NOT_EXIST) until the shopper scans it; a full refund closes
the trade; a repeated refund request (same out_request_no) answers fund_change "N".

Test hooks: ``scan``, ``pay``, ``notification``, ``deliver``, ``trades``, ``calls``, ``clock``
(business time: payments, refunds, closes, notify_time, which bills exist). Keys are generated
in memory (``AlipayKeys.generate()``), never written anywhere::

    with FakeAlipay() as fake:
        provider = AlipayProvider(name="alipay", **fake.provider_options())
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
APPID = "2021000000000001"
SELLER_ID = "2088000000000001"
#: how far a request's timestamp may be from the gateway's clock
TIMESTAMP_TOLERANCE = timedelta(minutes=15)
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_AMOUNT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")

BILL_HEADER = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
]
FEE_RATE = Decimal("0.006")


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _pem_public(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def rsa2_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    """RSA2: SHA256withRSA (PKCS#1 v1.5) over the UTF-8 text, base64."""
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa2_verify(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            message.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_content(params: dict[str, str], *, exclude: tuple[str, ...]) -> str:
    """Alipay's string to sign: every other parameter, sorted by name, as k=v joined by &."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in exclude)


def yuan(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


def fen(text: str) -> int:
    if not _AMOUNT.fullmatch(text or ""):
        raise ValueError(text)
    return int(Decimal(text) * 100)


@dataclass(frozen=True)
class AlipayKeys:
    """The app's key pair (the merchant signs requests) and Alipay's (it signs answers and
    notifications), plus a stranger's key for forgeries."""

    app_private: rsa.RSAPrivateKey
    alipay_private: rsa.RSAPrivateKey
    stranger_private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, bits: int = 2048) -> AlipayKeys:
        def new() -> rsa.RSAPrivateKey:
            return rsa.generate_private_key(public_exponent=65537, key_size=bits)

        return cls(app_private=new(), alipay_private=new(), stranger_private=new())

    @property
    def app_private_pem(self) -> str:
        return _pem_private(self.app_private)

    @property
    def app_public_pem(self) -> str:
        return _pem_public(self.app_private.public_key())

    @property
    def alipay_public_pem(self) -> str:
        return _pem_public(self.alipay_private.public_key())

    @property
    def stranger_private_pem(self) -> str:
        return _pem_private(self.stranger_private)

    @property
    def stranger_public_pem(self) -> str:
        return _pem_public(self.stranger_private.public_key())


@dataclass
class FakeRefund:
    out_request_no: str
    amount_fen: int
    at: datetime


@dataclass
class FakeTrade:
    out_trade_no: str
    total_fen: int
    subject: str
    notify_url: str
    created_at: datetime
    expires_at: datetime | None
    qr_code: str = ""
    auth_code: str = ""
    trade_no: str = ""
    #: "" until the shopper scans the QR (Alipay does not know the trade yet), then
    #: WAIT_BUYER_PAY, TRADE_SUCCESS or TRADE_CLOSED
    status: str = ""
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    refunds: dict[str, FakeRefund] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        return sum(r.amount_fen for r in self.refunds.values())


class AlipayFailure(Exception):
    """A business answer other than success, raised inside the fake's dispatch."""

    def __init__(self, code: str, msg: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_code)
        self.body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _business(sub_code: str, sub_msg: str) -> AlipayFailure:
    return AlipayFailure("40004", "Business Failed", sub_code, sub_msg)


def _invalid(sub_code: str, sub_msg: str) -> AlipayFailure:
    return AlipayFailure("40002", "Invalid Arguments", sub_code, sub_msg)


class FakeAlipay:
    def __init__(self, *, keys: AlipayKeys | None = None, appid: str = APPID) -> None:
        self.keys = keys or AlipayKeys.generate()
        self.appid = appid
        self.trades: dict[str, FakeTrade] = {}
        #: every gateway call: (method, biz_content dict, answer code)
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        #: every notification delivered: (url, status, body text)
        self.deliveries: list[tuple[str, int, str]] = []
        self.clock: Callable[[], datetime] = lambda: datetime.now(SHANGHAI)
        self._bills: dict[str, bytes] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serial = 0

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeAlipay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, self.path.partition("?")[2])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1_000_000)).decode("utf-8", "replace")
                fake._handle(self, body or self.path.partition("?")[2])

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAlipay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAlipay is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The gateway URL (what AlipayProvider takes as ``gateway``)."""
        return f"{self.base_url}/gateway.do"

    def provider_options(self) -> dict[str, Any]:
        """Keyword arguments for AlipayProvider talking to this fake."""
        return {
            "appid": self.appid,
            "app_private_key": self.keys.app_private_pem,
            "alipay_public_key": self.keys.alipay_public_pem,
            "gateway": self.url,
        }

    # --- test hooks ------------------------------------------------------------------------

    def scan(self, out_trade_no: str) -> FakeTrade:
        """The shopper scans the QR: Alipay now knows the trade (WAIT_BUYER_PAY)."""
        with self._lock:
            trade = self._trade(out_trade_no)
            self._expire(trade)
            if trade.status == "":
                trade.status = "WAIT_BUYER_PAY"
                trade.trade_no = self._trade_no()
            elif trade.status != "WAIT_BUYER_PAY":
                raise ValueError(f"{out_trade_no} is {trade.status}, it cannot be scanned")
            return trade

    def pay(self, out_trade_no: str, when: datetime | None = None) -> FakeTrade:
        """The shopper pays (scanning first if need be) at ``when`` (default: the clock)."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if trade.status == "TRADE_SUCCESS":
                raise ValueError(f"{out_trade_no} is paid already")
            self.scan(out_trade_no)
            trade.status = "TRADE_SUCCESS"
            trade.paid_at = (when or self.clock()).astimezone(SHANGHAI).replace(microsecond=0)
            return trade

    def notification(
        self,
        out_trade_no: str,
        *,
        notify_time: datetime | None = None,
        tamper: bool = False,
        wrong_key: bool = False,
        status: str = "TRADE_SUCCESS",
        app_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The asynchronous notification Alipay posts for the trade: form fields signed
        (sorted k=v&..., without sign and sign_type) with Alipay's key, or a stranger's
        (``wrong_key``); ``tamper`` raises total_amount by 1 yuan after signing."""
        with self._lock:
            trade = self._trade(out_trade_no)
            if status in ("TRADE_SUCCESS", "TRADE_FINISHED") and trade.paid_at is None:
                raise ValueError(f"{out_trade_no} is not paid")
            if not trade.trade_no:
                raise ValueError(f"{out_trade_no} was never scanned")
            total = yuan(trade.total_fen)
            when = (notify_time or self.clock()).astimezone(SHANGHAI)
            params: dict[str, str] = {
                "gmt_create": trade.created_at.strftime(TIME_FORMAT),
                "charset": "utf-8",
                "seller_email": "merchant@example.com",
                "subject": trade.subject,
                "buyer_id": "2088102177846880",
                "invoice_amount": total,
                "notify_id": self._notify_id(trade, status),
                "fund_bill_list": json.dumps(
                    [{"amount": total, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
                ),
                "notify_type": "trade_status_sync",
                "trade_status": status,
                "receipt_amount": total,
                "app_id": app_id or self.appid,
                "buyer_pay_amount": total,
                "seller_id": SELLER_ID,
                "notify_time": when.strftime(TIME_FORMAT),
                "version": "1.0",
                "out_trade_no": trade.out_trade_no,
                "total_amount": total,
                "trade_no": trade.trade_no,
                "auth_app_id": app_id or self.appid,
                "buyer_logon_id": "158****1562",
                "point_amount": "0.00",
            }
            if trade.paid_at:
                params["gmt_payment"] = trade.paid_at.strftime(TIME_FORMAT)
            if trade.refunds:
                last = max(trade.refunds.values(), key=lambda r: r.at)
                params["refund_fee"] = yuan(trade.refunded_fen)
                params["gmt_refund"] = last.at.strftime(TIME_FORMAT) + ".000"
                params["out_biz_no"] = last.out_request_no
            if status == "TRADE_CLOSED" and trade.closed_at:
                params["gmt_close"] = trade.closed_at.strftime(TIME_FORMAT)
            key = self.keys.stranger_private if wrong_key else self.keys.alipay_private
            params["sign"] = rsa2_sign(key, sign_content(params, exclude=("sign", "sign_type")))
            params["sign_type"] = "RSA2"
            if tamper:
                params["total_amount"] = yuan(trade.total_fen + 100)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return headers, urllib.parse.urlencode(params).encode()

    def deliver(
        self, out_trade_no: str, notify_url: str | None = None, **options: Any
    ) -> tuple[int, str]:
        """POST the notification to ``notify_url`` (default: the one given at precreate/pay),
        which must be on this machine; returns (HTTP status, body text)."""
        url = notify_url or self._trade(out_trade_no).notify_url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOCAL_HOSTS:
            raise ValueError(f"FakeAlipay only delivers to this machine, not {url!r}")
        headers, body = self.notification(out_trade_no, **options)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                result = (response.status, response.read(4096).decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            result = (exc.code, exc.read(4096).decode("utf-8", "replace"))
        with self._lock:
            self.deliveries.append((url, *result))
        return result

    # --- HTTP ------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        path = urllib.parse.urlsplit(handler.path).path
        if path == "/downloadBillFile.resource":
            token = dict(urllib.parse.parse_qsl(query)).get("token", "")
            with self._lock:
                data = self._bills.get(token)
            if data is None:
                self._send(handler, 404, "text/plain", b"no such bill")
            else:
                self._send(handler, 200, "application/octet-stream", data)
            return
        if path != "/gateway.do":
            self._send(handler, 404, "text/plain", b"not found")
            return
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        method = params.get("method", "")
        response_key = method.replace(".", "_") + "_response" if method else "error_response"
        biz: dict[str, Any] = {}
        try:
            self._authenticate(params)
            try:
                biz = json.loads(params.get("biz_content") or "{}")
            except ValueError:
                raise _invalid("isv.invalid-parameter", "biz_content 不是合法的JSON") from None
            if not isinstance(biz, dict):
                raise _invalid("isv.invalid-parameter", "biz_content 不是JSON对象")
            action = self._methods().get(method)
            if action is None:
                response_key = "error_response"
                raise _invalid("isv.invalid-method", "不存在的方法名")
            with self._lock:
                answer = {"code": "10000", "msg": "Success", **action(params, biz)}
        except AlipayFailure as failure:
            answer = failure.body
        with self._lock:
            self.calls.append((method, biz, str(answer["code"])))
        inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        if answer.get("sub_code") == "isv.invalid-app-id":
            # no app, so no key to sign with: the gateway answers unsigned
            text = f'{{"{response_key}":{inner}}}'
        else:
            signature = rsa2_sign(self.keys.alipay_private, inner)
            text = f'{{"{response_key}":{inner},"sign":"{signature}"}}'
        self._send(handler, 200, "text/html;charset=utf-8", text.encode())

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _authenticate(self, params: dict[str, str]) -> None:
        for name in ("app_id", "method", "charset", "sign_type", "sign", "timestamp", "version"):
            if not params.get(name):
                raise _invalid(f"isv.missing-{name.replace('_', '-')}", f"缺少{name}参数")
        if params["app_id"] != self.appid:
            raise _invalid("isv.invalid-app-id", "无效的AppID参数")
        if params["sign_type"] != "RSA2":
            raise _invalid("isv.invalid-signature-type", "无效的签名类型参数")
        if params["charset"].lower() != "utf-8":
            raise _invalid("isv.invalid-charset", "字符集错误")
        content = sign_content(params, exclude=("sign",))
        if not rsa2_verify(self.keys.app_private.public_key(), content, params["sign"]):
            raise _invalid(
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
            )
        try:
            sent = datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=SHANGHAI)
        except ValueError:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数") from None
        if abs(sent - datetime.now(SHANGHAI)) > TIMESTAMP_TOLERANCE:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数")

    def _methods(self) -> dict[str, Callable[[dict[str, str], dict[str, Any]], dict[str, Any]]]:
        return {
            "alipay.trade.precreate": self._precreate,
            "alipay.trade.pay": self._barcode_pay,
            "alipay.trade.query": self._query,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.data.dataservice.bill.downloadurl.query": self._bill_url,
        }

    # --- the trade model -------------------------------------------------------------------

    def _trade(self, out_trade_no: str) -> FakeTrade:
        try:
            return self.trades[out_trade_no]
        except KeyError:
            raise KeyError(f"FakeAlipay has no trade {out_trade_no!r}") from None

    def _trade_no(self) -> str:
        self._serial += 1
        return f"{self.clock():%Y%m%d}2200140{self._serial:013d}"

    def _notify_id(self, trade: FakeTrade, status: str) -> str:
        seed = f"{trade.trade_no}|{status}|{trade.refunded_fen}"
        return "2026" + hashlib.sha256(seed.encode()).hexdigest()[:30]

    def _expire(self, trade: FakeTrade) -> None:
        """Past its deadline an unpaid trade is closed (if scanned) or simply gone."""
        if trade.expires_at and self.clock() >= trade.expires_at:
            if trade.status == "WAIT_BUYER_PAY":
                trade.status = "TRADE_CLOSED"
                trade.closed_at = trade.expires_at
            elif trade.status == "":
                raise ValueError(f"{trade.out_trade_no} has expired")

    def _visible(self, biz: dict[str, Any]) -> FakeTrade:
        trade = self.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None and biz.get("trade_no"):
            trade = next((t for t in self.trades.values() if t.trade_no == biz["trade_no"]), None)
        if trade is not None:
            try:
                self._expire(trade)
            except ValueError:
                trade = None
        if trade is None or trade.status == "":
            raise _business("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def _new_trade(self, params: dict[str, str], biz: dict[str, Any]) -> FakeTrade:
        out_trade_no = str(biz.get("out_trade_no", ""))
        subject = str(biz.get("subject", ""))
        if not out_trade_no or len(out_trade_no) > 64 or not subject:
            raise _invalid("isv.missing-parameter", "缺少必选参数")
        try:
            total_fen = fen(str(biz.get("total_amount", "")))
        except ValueError:
            raise _business("ACQ.INVALID_PARAMETER", "参数无效 total_amount") from None
        if not 1 <= total_fen <= 100_000_000_00:
            raise _business("ACQ.TOTAL_FEE_EXCEED", "订单金额超过限额")
        now = self.clock().replace(microsecond=0)
        expires_at = None
        try:
            if biz.get("time_expire"):
                expires_at = datetime.strptime(str(biz["time_expire"]), TIME_FORMAT)
                expires_at = expires_at.replace(tzinfo=SHANGHAI)
            elif biz.get("timeout_express"):
                minutes = int(str(biz["timeout_express"]).removesuffix("m"))
                expires_at = now + timedelta(minutes=minutes)
        except ValueError:
            raise _business("ACQ.INVALID_PARAMETER", "参数无效 time_expire") from None
        existing = self.trades.get(out_trade_no)
        if existing is not None:
            if existing.status == "TRADE_SUCCESS":
                raise _business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if existing.status == "TRADE_CLOSED":
                raise _business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if existing.total_fen != total_fen:
                raise _business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            return existing
        trade = FakeTrade(
            out_trade_no=out_trade_no,
            total_fen=total_fen,
            subject=subject,
            notify_url=params.get("notify_url", ""),
            created_at=now,
            expires_at=expires_at,
        )
        self.trades[out_trade_no] = trade
        return trade

    def _precreate(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._new_trade(params, biz)
        if not trade.qr_code:
            trade.qr_code = f"{self.base_url}/qr/bax0{secrets.token_hex(10)}"
        return {"out_trade_no": trade.out_trade_no, "qr_code": trade.qr_code}

    def _barcode_pay(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        """auth_code: 28… pays at once; 2899… waits for the shopper's password (10003);
        anything else is not an Alipay payment code."""
        auth_code = str(biz.get("auth_code", ""))
        if biz.get("scene") not in ("bar_code", "wave_code"):
            raise _business("ACQ.INVALID_PARAMETER", "参数无效 scene")
        if not re.fullmatch(r"2[5-9][0-9]{14,22}", auth_code):
            raise _business("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        trade = self._new_trade(params, biz)
        trade.auth_code = auth_code
        if trade.status == "":
            trade.status = "WAIT_BUYER_PAY"
            trade.trade_no = self._trade_no()
        total = yuan(trade.total_fen)
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "158****1562",
            "total_amount": total,
        }
        if auth_code.startswith("2899"):
            return {**answer, "code": "10003", "msg": " order success pay inprocess"}
        trade.status = "TRADE_SUCCESS"
        trade.paid_at = self.clock().replace(microsecond=0)
        return {
            **answer,
            "receipt_amount": total,
            "buyer_pay_amount": total,
            "invoice_amount": total,
            "point_amount": "0.00",
            "gmt_payment": trade.paid_at.strftime(TIME_FORMAT),
            "fund_bill_list": [{"fund_channel": "ALIPAYACCOUNT", "amount": total}],
            "buyer_user_id": "2088102177846880",
        }

    def _query(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._visible(biz)
        total = yuan(trade.total_fen)
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "158****1562",
            "trade_status": trade.status,
            "total_amount": total,
            "buyer_pay_amount": total if trade.paid_at else "0.00",
            "invoice_amount": total if trade.paid_at else "0.00",
            "receipt_amount": total if trade.paid_at else "0.00",
            "point_amount": "0.00",
            "buyer_user_id": "2088102177846880",
        }
        if trade.paid_at:
            answer["send_pay_date"] = trade.paid_at.strftime(TIME_FORMAT)
        return answer

    def _close(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._visible(biz)
        if trade.status != "WAIT_BUYER_PAY":
            raise _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = "TRADE_CLOSED"
        trade.closed_at = self.clock().replace(microsecond=0)
        return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def _refund(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._visible(biz)
        try:
            amount = fen(str(biz.get("refund_amount", "")))
        except ValueError:
            raise _business("ACQ.INVALID_PARAMETER", "参数无效 refund_amount") from None
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        answer = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "158****1562",
            "buyer_user_id": "2088102177846880",
        }
        done = trade.refunds.get(request_no)
        if done is not None:  # the same request again: nothing moves
            if done.amount_fen != amount:
                raise _business("ACQ.INVALID_PARAMETER", "退款请求号对应的退款金额不一致")
            return {**answer, "fund_change": "N", "refund_fee": yuan(trade.refunded_fen)}
        if trade.paid_at is None or trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED"):
            raise _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if amount <= 0 or trade.refunded_fen + amount > trade.total_fen:
            raise _business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        now = self.clock().replace(microsecond=0)
        trade.refunds[request_no] = FakeRefund(request_no, amount, now)
        if trade.refunded_fen == trade.total_fen:
            trade.status = "TRADE_CLOSED"  # Alipay closes a fully refunded trade
            trade.closed_at = now
        return {
            **answer,
            "fund_change": "Y",
            "refund_fee": yuan(trade.refunded_fen),
            "gmt_refund_pay": now.strftime(TIME_FORMAT),
            "send_back_fee": yuan(amount),
        }

    def _refund_query(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._visible(biz)
        request_no = str(biz.get("out_request_no", ""))
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "out_request_no": request_no,
        }
        done = trade.refunds.get(request_no)
        if done is None:  # Alipay: no refund fields means not received (or failed)
            return answer
        return {
            **answer,
            "total_amount": yuan(trade.total_fen),
            "refund_amount": yuan(done.amount_fen),
            "refund_status": "REFUND_SUCCESS",
            "gmt_refund_pay": done.at.strftime(TIME_FORMAT),
        }

    # --- bills -----------------------------------------------------------------------------

    def _bill_url(self, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        if biz.get("bill_type") != "trade":
            raise _invalid("isv.invalid-parameter", "参数无效 bill_type")
        try:
            day = date.fromisoformat(str(biz.get("bill_date", "")))
        except ValueError:
            raise _invalid("isv.invalid-parameter", "参数无效 bill_date") from None
        if day >= self.clock().date():
            raise _business("isp.bill_not_exist", "账单不存在")
        token = secrets.token_hex(16)
        self._bills[token] = self.bill_zip(day)
        query = urllib.parse.urlencode(
            {
                "bizType": "trade",
                "userId": SELLER_ID,
                "fileType": "csv.zip",
                "bizDates": f"{day:%Y%m%d}",
                "downloadFileName": f"{SELLER_ID}_{day:%Y%m%d}.csv.zip",
                "token": token,
            }
        )
        return {"bill_download_url": f"{self.base_url}/downloadBillFile.resource?{query}"}

    def bill_rows(self, day: date) -> list[list[str]]:
        """The 业务明细 rows for ``day`` in Alipay's column order."""
        events: list[tuple[datetime, list[str]]] = []
        for trade in self.trades.values():
            if trade.paid_at and trade.paid_at.date() == day:
                total = Decimal(trade.total_fen).scaleb(-2)
                fee = (total * FEE_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
                events.append((trade.paid_at, self._bill_row(trade, "交易", total, -fee, "")))
            for refund in trade.refunds.values():
                if refund.at.date() == day:
                    amount = Decimal(refund.amount_fen).scaleb(-2)
                    fee = (amount * FEE_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    row = self._bill_row(
                        trade, "退款", -amount, fee, refund.out_request_no, refund.at
                    )
                    events.append((refund.at, row))
        return [row for _, row in sorted(events, key=lambda event: event[0])]

    @staticmethod
    def _bill_row(
        trade: FakeTrade,
        kind: str,
        amount: Decimal,
        fee: Decimal,
        request_no: str,
        done_at: datetime | None = None,
    ) -> list[str]:
        done = done_at or trade.paid_at
        assert done is not None
        return [
            f"{trade.trade_no}\t",
            f"{trade.out_trade_no}\t",
            kind,
            trade.subject,
            trade.created_at.strftime(TIME_FORMAT),
            done.strftime(TIME_FORMAT),
            "",
            "",
            "",
            "",
            "158****1562",
            f"{amount:.2f}",
            f"{amount:.2f}",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00",
            "0.00",
            f"{request_no}\t" if request_no else "",
            f"{fee:.2f}",
            "0.00",
            "",
        ]

    def bill_zip(self, day: date) -> bytes:
        """Alipay's trade bill: a zip of two GBK CSVs (detail and summary) with GBK names."""
        rows = self.bill_rows(day)
        stamp = f"{day:%Y年%m月%d日} 00:00:00"
        end = f"{day + timedelta(days=1):%Y年%m月%d日} 00:00:00"
        detail = io.StringIO()
        detail.write("#支付宝业务明细查询\r\n")
        detail.write(f"#账号：[{SELLER_ID}0156]\r\n")
        detail.write(f"#起始日期：[{stamp}]   终止日期：[{end}]\r\n")
        detail.write("#-----------------------------------------业务明细列表----------------\r\n")
        writer = csv.writer(detail, lineterminator="\r\n")
        writer.writerow(BILL_HEADER)
        writer.writerows(rows)
        detail.write("#-----------------------------------------业务明细列表结束------------\r\n")
        payments = [r for r in rows if r[2] == "交易"]
        refunds = [r for r in rows if r[2] == "退款"]
        paid = sum((Decimal(r[11]) for r in payments), Decimal(0))
        refunded = sum((Decimal(r[11]) for r in refunds), Decimal(0))
        detail.write(f"#交易合计：{len(payments)}笔，商家实收：{paid:.2f}元\r\n")
        detail.write(f"#退款合计：{len(refunds)}笔，商家实收：{refunded:.2f}元\r\n")
        detail.write(f"#导出时间：[{self.clock():%Y年%m月%d日 %H:%M:%S}]\r\n")
        summary = (
            "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,"
            f"订单金额（元）\r\n合计,,{len(payments)},{len(refunds)},{paid + refunded:.2f}\r\n"
        )
        prefix = f"{SELLER_ID}0156_{day:%Y%m%d}"
        files = [
            (f"{prefix}_业务明细.csv", detail.getvalue()),
            (f"{prefix}_业务明细(汇总).csv", summary),
        ]
        return _gbk_zip(files)


def _gbk_zip(files: list[tuple[str, str]]) -> bytes:
    """A zip whose member names are GBK bytes without the UTF-8 flag, as Alipay's are.

    zipfile writes non-ASCII names as UTF-8 (and sets the flag), so each name is written as
    an ASCII placeholder of the same byte length and swapped for its GBK bytes afterwards
    (names are outside the CRC)."""
    buffer = io.BytesIO()
    swaps: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (name, text) in enumerate(files):
            gbk = name.encode("gbk")
            placeholder = f"~{number}~".encode().ljust(len(gbk), b"_")
            swaps.append((placeholder, gbk))
            archive.writestr(placeholder.decode(), text.encode("gbk", "replace"))
    data = buffer.getvalue()
    for placeholder, gbk in swaps:
        assert data.count(placeholder) == 2  # local header and central directory
        data = data.replace(placeholder, gbk)
    return data
