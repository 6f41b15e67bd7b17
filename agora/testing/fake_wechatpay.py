"""A local fake of WeChat Pay API v3 that speaks the signed protocol, for tests and demos.

``FakeWeChatPay`` is a real HTTP server on 127.0.0.1 (a free port, a daemon thread). It checks
every request's ``Authorization: WECHATPAY2-SHA256-RSA2048 ...`` against the merchant's public
key (401 SIGN_ERROR otherwise) and signs every JSON response with its platform key in "WeChat
Pay public key" mode, so the ``wechatpayv3`` SDK's response check passes. All keys are made in
memory when the fake is built; nothing is ever written to disk.

Endpoints: Native order, query by out_trade_no, close, domestic refund, trade bill and the bill
download. Test hooks: ``pay`` (the shopper scanned and paid), ``notification`` /
``sign_notification`` / ``deliver`` (WeChat's encrypted, signed payment notification),
``trades`` and ``requests`` for inspection, ``clock`` for business times.

    with FakeWeChatPay() as fake:
        provider = WeChatPayProvider(name="wechatpay", **fake.merchant_options())
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import http.client
import io
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SHANGHAI = ZoneInfo("Asia/Shanghai")
MCHID = "1900000109"
APPID = "wx8888888888888888"
PUBLIC_KEY_ID = "PUB_KEY_ID_0000000000000024000000000000"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
BILL_HEADER = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]
BILL_SUMMARY_HEADER = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
]
_OUT_NO = re.compile(r"[0-9A-Za-z_\-|*@]{6,32}")
_AUTH = re.compile(r"WECHATPAY2-SHA256-RSA2048 (.+)")
_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# --- keys --------------------------------------------------------------------------------


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@cache
def impostor_key() -> rsa.RSAPrivateKey:
    """A key nobody trusts, shared by all fakes of a test run (generating one costs time)."""
    return generate_key()


def _sign(key: rsa.RSAPrivateKey, message: str) -> str:
    raw = key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def _nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


# --- state -------------------------------------------------------------------------------


@dataclass
class FakeRefund:
    out_refund_no: str
    refund_id: str
    refund_fen: int
    status: str  # SUCCESS, PROCESSING, ABNORMAL, CLOSED
    created_at: datetime
    success_time: datetime | None = None
    reason: str = ""
    notify_url: str = ""


@dataclass
class FakeTrade:
    out_trade_no: str
    description: str
    total_fen: int
    notify_url: str
    code_url: str
    created_at: datetime
    time_expire: datetime | None = None
    trade_state: str = "NOTPAY"  # NOTPAY, SUCCESS, CLOSED, REFUND
    transaction_id: str = ""
    success_time: datetime | None = None
    openid: str = ""
    refunds: list[FakeRefund] = field(default_factory=list)

    @property
    def refunded_fen(self) -> int:
        return sum(r.refund_fen for r in self.refunds if r.status in ("SUCCESS", "PROCESSING"))


class WeChatPayFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# --- the fake ----------------------------------------------------------------------------


class FakeWeChatPay:
    """WeChat Pay for one direct merchant. ``start()`` before use, ``stop()`` after."""

    def __init__(
        self,
        *,
        mchid: str = MCHID,
        appid: str = APPID,
        apiv3_key: str | None = None,
        public_key_id: str = PUBLIC_KEY_ID,
        platform_key: rsa.RSAPrivateKey | None = None,
        merchant_key: rsa.RSAPrivateKey | None = None,
        merchant_public_key: str | None = None,
        merchant_serial_no: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.mchid = mchid
        self.appid = appid
        self.apiv3_key = apiv3_key or _nonce(32)
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("apiv3_key must be 32 bytes")
        self.public_key_id = public_key_id
        self.platform_key = platform_key or generate_key()
        # the merchant's key pair: given in full, only its public half, or made here
        if merchant_public_key is not None and merchant_key is None:
            self.merchant_key: rsa.RSAPrivateKey | None = None
            loaded = serialization.load_pem_public_key(merchant_public_key.encode())
            if not isinstance(loaded, rsa.RSAPublicKey):
                raise ValueError("merchant_public_key is not an RSA key")
            self.merchant_public_key: rsa.RSAPublicKey = loaded
        else:
            self.merchant_key = merchant_key or generate_key()
            self.merchant_public_key = self.merchant_key.public_key()
        self.merchant_serial_no = merchant_serial_no or secrets.token_hex(20).upper()
        #: business time (payments, refunds, bills); request signatures use the real time
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(SHANGHAI))
        #: status of a new refund: SUCCESS at once, or PROCESSING / ABNORMAL / CLOSED
        self.refund_status = "SUCCESS"
        self.max_skew_seconds = 300
        self.trades: dict[str, FakeTrade] = {}
        #: (method, path, HTTP status) of every request served
        self.requests: list[tuple[str, str, int]] = []
        #: (url, HTTP status or 0 if unreachable) of every delivered notification
        self.deliveries: list[tuple[str, int]] = []
        self._bills: dict[str, bytes] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seq = 0

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeWeChatPay:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeWeChatPay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def merchant_options(self) -> dict[str, Any]:
        """The keyword options for ``WeChatPayProvider`` (without ``name``)."""
        if self.merchant_key is None:
            raise RuntimeError("the fake was given only the merchant's public key")
        return {
            "mchid": self.mchid,
            "appid": self.appid,
            "cert_serial_no": self.merchant_serial_no,
            "private_key": private_pem(self.merchant_key),
            "apiv3_key": self.apiv3_key,
            "public_key": public_pem(self.platform_key),
            "public_key_id": self.public_key_id,
            "gateway": self.url,
        }

    # --- test hooks ----------------------------------------------------------------------

    def _next(self, prefix: str, width: int) -> str:
        with self._lock:
            self._seq += 1
            seq = self._seq
        stamp = self.clock().astimezone(SHANGHAI).strftime("%Y%m%d")
        return f"{prefix}{stamp}{seq:0{width}d}"

    def pay(self, out_trade_no: str, when: datetime | None = None) -> FakeTrade:
        """The shopper scans the QR code and pays in full."""
        with self._lock:
            trade = self.trades[out_trade_no]
            when = (when or self.clock()).astimezone(SHANGHAI)
            if trade.trade_state != "NOTPAY":
                raise ValueError(f"trade {out_trade_no} is {trade.trade_state}")
            if trade.time_expire is not None and when > trade.time_expire:
                raise ValueError(f"trade {out_trade_no} expired at {trade.time_expire}")
            trade.trade_state = "SUCCESS"
            trade.transaction_id = self._next("4200001", 11)
            trade.success_time = when.replace(microsecond=0)
            trade.openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
            return trade

    def sign_notification(
        self,
        body: bytes,
        *,
        timestamp: int | str | None = None,
        wrong_key: bool = False,
    ) -> dict[str, str]:
        """The headers WeChat Pay sends with ``body`` (signed by the platform key, or by a key
        nobody trusts if ``wrong_key``)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = _nonce(32)
        key = impostor_key() if wrong_key else self.platform_key
        message = f"{stamp}\n{nonce}\n{body.decode('utf-8')}\n"
        return {
            "Content-Type": "application/json",
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature": _sign(key, message),
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
            "Wechatpay-Timestamp": stamp,
        }

    def encrypt_resource(
        self, plaintext: str, associated_data: str = "transaction", key: str | None = None
    ) -> dict[str, str]:
        nonce = _nonce(12)
        aead = AESGCM((key or self.apiv3_key).encode("utf-8"))
        sealed = aead.encrypt(nonce.encode(), plaintext.encode("utf-8"), associated_data.encode())
        return {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(sealed).decode("ascii"),
            "associated_data": associated_data,
            "nonce": nonce,
        }

    def notification(
        self,
        out_trade_no: str,
        *,
        timestamp: int | str | None = None,
        tamper: bool = False,
        wrong_key: bool = False,
    ) -> tuple[dict[str, str], bytes]:
        """WeChat Pay's TRANSACTION.SUCCESS notification for a paid trade: (headers, body).
        ``tamper`` changes the body after signing; ``wrong_key`` signs with an untrusted key."""
        with self._lock:
            trade = self.trades[out_trade_no]
            if not trade.transaction_id:
                raise ValueError(f"trade {out_trade_no} is not paid")
            transaction = self._transaction(trade)
        transaction["trade_state"] = "SUCCESS"
        transaction["trade_state_desc"] = "支付成功"
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": _rfc3339(self.clock()),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": self.encrypt_resource(json.dumps(transaction, ensure_ascii=False)),
        }
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        headers = self.sign_notification(body, timestamp=timestamp, wrong_key=wrong_key)
        if tamper:
            envelope["id"] = str(uuid.uuid4())
            body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        return headers, body

    def deliver(
        self,
        out_trade_no: str,
        notify_url: str | None = None,
        *,
        timestamp: int | str | None = None,
        tamper: bool = False,
        wrong_key: bool = False,
    ) -> int:
        """POST the notification to the trade's notify_url (loopback only, 5 s timeout);
        returns the HTTP status, 0 if the URL could not be reached."""
        with self._lock:
            url = notify_url or self.trades[out_trade_no].notify_url
        headers, body = self.notification(
            out_trade_no, timestamp=timestamp, tamper=tamper, wrong_key=wrong_key
        )
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the fake only delivers to http://127.0.0.1, not {url!r}")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=5)
        try:
            connection.request("POST", target, body=body, headers=headers)
            status = connection.getresponse().status
        except OSError:
            status = 0
        finally:
            connection.close()
        with self._lock:
            self.deliveries.append((url, status))
        return status

    # --- protocol ------------------------------------------------------------------------

    def _verify_authorization(self, method: str, target: str, headers: Any, body: bytes) -> None:
        match = _AUTH.fullmatch(headers.get("Authorization", "") or "")
        if not match:
            raise WeChatPayFailure(401, "SIGN_ERROR", "Authorization 缺失或格式错误")
        params = dict(_AUTH_PARAM.findall(match.group(1)))
        if params.get("mchid") != self.mchid:
            raise WeChatPayFailure(401, "SIGN_ERROR", "商户号与签名不匹配")
        if params.get("serial_no") != self.merchant_serial_no:
            raise WeChatPayFailure(401, "SIGN_ERROR", "商户证书序列号有误")
        stamp = params.get("timestamp", "")
        if not stamp.isascii() or not stamp.isdigit():
            raise WeChatPayFailure(401, "SIGN_ERROR", "时间戳格式错误")
        if abs(time.time() - int(stamp)) > self.max_skew_seconds:
            raise WeChatPayFailure(401, "SIGN_ERROR", "请求时间戳超出有效期")
        try:
            text = body.decode("utf-8")
            signature = base64.b64decode(params.get("signature", ""), validate=True)
        except ValueError as exc:
            raise WeChatPayFailure(401, "SIGN_ERROR", "签名格式错误") from exc
        message = f"{method}\n{target}\n{stamp}\n{params.get('nonce_str', '')}\n{text}\n"
        try:
            self.merchant_public_key.verify(
                signature, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature as exc:
            raise WeChatPayFailure(401, "SIGN_ERROR", "签名错误") from exc

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        """Serve one request: (status, body, content type)."""
        try:
            self._verify_authorization(method, target, headers, body)
            parts = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with self._lock:
                status, payload = self._route(method, parts.path, query, body)
        except WeChatPayFailure as failure:
            status, payload = failure.status, {"code": failure.code, "message": failure.message}
        if isinstance(payload, bytes):
            return status, payload, "application/octet-stream"
        if payload is None:
            return status, b"", ""
        return status, json.dumps(payload, ensure_ascii=False).encode(), "application/json"

    def sign_response(self, body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        nonce = _nonce(32)
        message = f"{stamp}\n{nonce}\n{body.decode('utf-8')}\n"
        return {
            "Request-ID": uuid.uuid4().hex,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature": _sign(self.platform_key, message),
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
            "Wechatpay-Timestamp": stamp,
        }

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        data: dict[str, Any] = {}
        if method == "POST":
            try:
                loaded = json.loads(body or b"{}")
            except ValueError as exc:
                raise WeChatPayFailure(400, "PARAM_ERROR", "请求体不是合法的JSON") from exc
            if not isinstance(loaded, dict):
                raise WeChatPayFailure(400, "PARAM_ERROR", "请求体不是JSON对象")
            data = loaded
        if method == "POST" and path == "/v3/pay/transactions/native":
            return 200, self._native(data)
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", path)
        if method == "GET" and match:
            if query.get("mchid") != self.mchid:
                raise WeChatPayFailure(400, "PARAM_ERROR", "mchid 与请求商户不一致")
            return 200, self._transaction(self._trade(match.group(1)))
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)/close", path)
        if method == "POST" and match:
            self._close(match.group(1), data)
            return 204, None
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return 200, self._refund(data)
        if method == "GET" and path == "/v3/bill/tradebill":
            return 200, self._tradebill(query)
        if method == "GET" and path == "/v3/billdownload/file":
            content = self._bills.get(query.get("token", ""))
            if content is None:
                raise WeChatPayFailure(400, "INVALID_REQUEST", "下载地址无效或已过期")
            return 200, content
        raise WeChatPayFailure(404, "NOT_FOUND", f"no such API: {method} {path}")

    def _trade(self, out_trade_no: str) -> FakeTrade:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            raise WeChatPayFailure(404, "ORDER_NOT_EXIST", "订单不存在")
        return trade

    def _native(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("appid") != self.appid or data.get("mchid") != self.mchid:
            raise WeChatPayFailure(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        out_trade_no = data.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not _OUT_NO.fullmatch(out_trade_no):
            raise WeChatPayFailure(400, "PARAM_ERROR", "out_trade_no 格式错误")
        description = data.get("description")
        if not isinstance(description, str) or not description:
            raise WeChatPayFailure(400, "PARAM_ERROR", "description 不能为空")
        notify_url = data.get("notify_url")
        if not isinstance(notify_url, str) or not notify_url.startswith(("http://", "https://")):
            raise WeChatPayFailure(400, "PARAM_ERROR", "notify_url 格式错误")
        amount = data.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            raise WeChatPayFailure(400, "PARAM_ERROR", "amount.total 必须为正整数（分）")
        if isinstance(amount, dict) and amount.get("currency", "CNY") != "CNY":
            raise WeChatPayFailure(400, "PARAM_ERROR", "currency 只支持 CNY")
        time_expire = None
        if data.get("time_expire") is not None:
            try:
                time_expire = datetime.fromisoformat(str(data["time_expire"]))
            except ValueError as exc:
                raise WeChatPayFailure(400, "PARAM_ERROR", "time_expire 格式错误") from exc
            if time_expire.tzinfo is None:
                raise WeChatPayFailure(400, "PARAM_ERROR", "time_expire 缺少时区")
        existing = self.trades.get(out_trade_no)
        if existing is not None:
            if existing.trade_state in ("SUCCESS", "REFUND"):
                raise WeChatPayFailure(400, "ORDERPAID", "该订单已支付")
            if existing.trade_state == "CLOSED":
                raise WeChatPayFailure(400, "ORDER_CLOSED", "当前订单已关闭，请重新下单")
            if (existing.total_fen, existing.description) != (total, description):
                raise WeChatPayFailure(400, "INVALID_REQUEST", "商户订单号重复且参数不一致")
            return {"code_url": existing.code_url}
        trade = FakeTrade(
            out_trade_no=out_trade_no,
            description=description,
            total_fen=total,
            notify_url=notify_url,
            code_url=f"weixin://wxpay/bizpayurl?pr={_nonce(7)}",
            created_at=self.clock(),
            time_expire=time_expire,
        )
        self.trades[out_trade_no] = trade
        return {"code_url": trade.code_url}

    def _transaction(self, trade: FakeTrade) -> dict[str, Any]:
        descriptions = {
            "NOTPAY": "订单未支付",
            "SUCCESS": "支付成功",
            "CLOSED": "订单已关闭",
            "REFUND": "转入退款",
        }
        out: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": trade.out_trade_no,
            "trade_state": trade.trade_state,
            "trade_state_desc": descriptions.get(trade.trade_state, ""),
            "amount": {"payer_currency": "CNY"},
        }
        if trade.transaction_id and trade.success_time is not None:
            out.update(
                {
                    "transaction_id": trade.transaction_id,
                    "trade_type": "NATIVE",
                    "bank_type": "OTHERS",
                    "attach": "",
                    "success_time": _rfc3339(trade.success_time),
                    "payer": {"openid": trade.openid},
                    "amount": {
                        "total": trade.total_fen,
                        "payer_total": trade.total_fen,
                        "currency": "CNY",
                        "payer_currency": "CNY",
                    },
                }
            )
        return out

    def _close(self, out_trade_no: str, data: dict[str, Any]) -> None:
        if data.get("mchid") != self.mchid:
            raise WeChatPayFailure(400, "PARAM_ERROR", "mchid 与请求商户不一致")
        trade = self._trade(out_trade_no)
        if trade.trade_state in ("SUCCESS", "REFUND"):
            raise WeChatPayFailure(400, "ORDERPAID", "订单已支付，不能关闭")
        trade.trade_state = "CLOSED"

    def _refund(self, data: dict[str, Any]) -> dict[str, Any]:
        out_refund_no = data.get("out_refund_no")
        if not isinstance(out_refund_no, str) or not _OUT_NO.fullmatch(out_refund_no):
            raise WeChatPayFailure(400, "PARAM_ERROR", "out_refund_no 格式错误")
        if "out_trade_no" in data:
            trade = self.trades.get(str(data["out_trade_no"]))
        else:
            txn = data.get("transaction_id")
            trade = next((t for t in self.trades.values() if t.transaction_id == txn), None)
        if trade is None:
            raise WeChatPayFailure(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        amount = data.get("amount")
        if not isinstance(amount, dict):
            raise WeChatPayFailure(400, "PARAM_ERROR", "amount 不能为空")
        refund_fen, total = amount.get("refund"), amount.get("total")
        for value in (refund_fen, total):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise WeChatPayFailure(400, "PARAM_ERROR", "退款金额必须为正整数（分）")
        assert isinstance(refund_fen, int) and isinstance(total, int)
        if amount.get("currency", "CNY") != "CNY":
            raise WeChatPayFailure(400, "PARAM_ERROR", "currency 只支持 CNY")
        if trade.trade_state not in ("SUCCESS", "REFUND"):
            raise WeChatPayFailure(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != trade.total_fen:
            raise WeChatPayFailure(400, "INVALID_REQUEST", "订单金额与原订单不一致")
        existing = next((r for r in trade.refunds if r.out_refund_no == out_refund_no), None)
        if existing is None and any(
            r.out_refund_no == out_refund_no for t in self.trades.values() for r in t.refunds
        ):
            raise WeChatPayFailure(400, "INVALID_REQUEST", "商户退款单号已被其他订单使用")
        if existing is not None:
            if existing.refund_fen != refund_fen:
                raise WeChatPayFailure(400, "INVALID_REQUEST", "退款单号重复且金额不一致")
            return self._refund_json(trade, existing)
        if refund_fen > trade.total_fen - trade.refunded_fen:
            raise WeChatPayFailure(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        now = self.clock().astimezone(SHANGHAI).replace(microsecond=0)
        refund = FakeRefund(
            out_refund_no=out_refund_no,
            refund_id=self._next("50000000", 14),
            refund_fen=refund_fen,
            status=self.refund_status,
            created_at=now,
            success_time=now if self.refund_status == "SUCCESS" else None,
            reason=str(data.get("reason") or ""),
            notify_url=str(data.get("notify_url") or ""),
        )
        trade.refunds.append(refund)
        trade.trade_state = "REFUND"
        return self._refund_json(trade, refund)

    def _refund_json(self, trade: FakeTrade, refund: FakeRefund) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": trade.transaction_id,
            "out_trade_no": trade.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": _rfc3339(refund.created_at),
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": trade.total_fen,
                "refund": refund.refund_fen,
                "payer_total": trade.total_fen,
                "payer_refund": refund.refund_fen,
                "settlement_refund": refund.refund_fen,
                "settlement_total": trade.total_fen,
                "discount_refund": 0,
                "currency": "CNY",
                "refund_fee": 0,
            },
        }
        if refund.success_time is not None:
            out["success_time"] = _rfc3339(refund.success_time)
        return out

    def _tradebill(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            day = date.fromisoformat(query.get("bill_date", ""))
        except ValueError as exc:
            raise WeChatPayFailure(400, "PARAM_ERROR", "bill_date 格式错误") from exc
        bill_type = query.get("bill_type", "ALL")
        if bill_type not in ("ALL", "SUCCESS", "REFUND"):
            raise WeChatPayFailure(400, "PARAM_ERROR", "bill_type 不支持")
        tar_type = query.get("tar_type", "")
        if tar_type not in ("", "GZIP"):
            raise WeChatPayFailure(400, "PARAM_ERROR", "tar_type 只支持 GZIP")
        content = self.bill_csv(day, bill_type)
        if content is None:
            raise WeChatPayFailure(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        token = secrets.token_urlsafe(16)
        self._bills[token] = gzip.compress(content, mtime=0) if tar_type else content
        return {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(content, usedforsecurity=False).hexdigest(),
            "download_url": f"{self.url}/v3/billdownload/file?token={token}",
        }

    def bill_csv(self, day: date, bill_type: str = "ALL") -> bytes | None:
        """The trade bill of ``day`` (Asia/Shanghai), None if nothing happened that day."""
        rows: list[tuple[datetime, list[str]]] = []
        paid_total = refund_total = fee_total = 0
        for trade in self.trades.values():
            if trade.success_time is None:
                continue
            paid_day = trade.success_time.astimezone(SHANGHAI).date()
            if paid_day == day and bill_type in ("ALL", "SUCCESS"):
                fee = (trade.total_fen * 6 + 500) // 1000  # 0.6 %
                paid_total += trade.total_fen
                fee_total += fee
                rows.append((trade.success_time, self._bill_line(trade, None, fee)))
            for refund in trade.refunds:
                if refund.success_time is None or bill_type not in ("ALL", "REFUND"):
                    continue
                if refund.success_time.astimezone(SHANGHAI).date() != day:
                    continue
                fee = -((refund.refund_fen * 6 + 500) // 1000)
                refund_total += refund.refund_fen
                fee_total += fee
                rows.append((refund.success_time, self._bill_line(trade, refund, fee)))
        if not rows:
            return None
        rows.sort(key=lambda r: r[0])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(BILL_HEADER)
        for _, line in rows:
            writer.writerow(["`" + cell for cell in line])
        writer.writerow(BILL_SUMMARY_HEADER)
        summary = [str(len(rows)), _yuan(paid_total), _yuan(refund_total), "0.00"]
        summary += [_yuan(fee_total), _yuan(paid_total), _yuan(refund_total)]
        writer.writerow(["`" + cell for cell in summary])
        return out.getvalue().encode("utf-8")

    def _bill_line(self, trade: FakeTrade, refund: FakeRefund | None, fee: int) -> list[str]:
        moment = refund.success_time if refund is not None else trade.success_time
        assert moment is not None
        return [
            moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            self.appid,
            self.mchid,
            "0",
            "",
            trade.transaction_id,
            trade.out_trade_no,
            trade.openid,
            "NATIVE",
            "REFUND" if refund is not None else "SUCCESS",
            "OTHERS",
            "CNY",
            _yuan(trade.total_fen),
            "0.00",
            refund.refund_id if refund is not None else "0",
            refund.out_refund_no if refund is not None else "0",
            _yuan(refund.refund_fen) if refund is not None else "0.00",
            "0.00",
            "ORIGINAL" if refund is not None else "",
            refund.status if refund is not None else "",
            trade.description,
            "",
            _yuan(fee),
            "0.60%",
            _yuan(trade.total_fen),
            _yuan(refund.refund_fen) if refund is not None else "0.00",
            "",
        ]


def merchant_options(fake: FakeWeChatPay) -> dict[str, Any]:
    """The keyword options for ``WeChatPayProvider`` talking to the (started) fake."""
    return fake.merchant_options()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeWeChatPay/1.0"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake: FakeWeChatPay = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, content_type = fake.handle(method, self.path, self.headers, body)
        with fake._lock:
            fake.requests.append((method, self.path, status))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if content_type != "application/octet-stream":
            for name, value in fake.sign_response(payload).items():
                self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return
