"""WeChat Pay API v3 adapter (direct merchant, Native QR payments).

Requests are signed and responses verified by the ``wechatpayv3`` package in its "WeChat Pay
public key" mode (``public_key`` + ``public_key_id``), so no platform certificate is ever
downloaded. This module adds what the package leaves to its caller: the mapping to Agora's
provider interface, integer fen at the edge, a freshness check on notifications, and the
parsing of the daily trade bill.

Options (``settings.PAYMENT_PROVIDERS["wechatpay"]``): ``mchid``, ``appid``,
``cert_serial_no`` (the merchant API certificate's serial), ``private_key`` (the merchant's PEM
private key), ``apiv3_key`` (32 characters), ``public_key`` (WeChat Pay's PEM public key),
``public_key_id`` (``PUB_KEY_ID_...``), ``gateway`` (base URL; default: the package's own),
``timeout`` (seconds per HTTP request, default 5) and ``max_age_seconds`` (how far a
notification's ``Wechatpay-Timestamp`` may be from now, default 300)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import load_public_key, rsa_verify

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

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# WeChat's rule for merchant numbers (out_trade_no, out_refund_no); also keeps paths clean
_OUT_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_YUAN = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")
_NOTICE_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
_TRADE_STATES = {
    "SUCCESS": "paid",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "closed",
    "REFUND": "refunded",
}
_REFUND_STATES = {"SUCCESS": "succeeded", "PROCESSING": "processing"}
# the row after the last data row of a trade bill starts the summary section
_SUMMARY_FIRST_COLUMN = "总交易单数"


class WeChatPayError(ProviderError):
    """WeChat Pay answered with an error (``status`` is the HTTP status, 0 if unreachable)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"wechatpay {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class WeChatPayProvider(Provider):
    name = "wechatpay"
    methods = ("wechat",)

    def __init__(
        self,
        *,
        name: str = "wechatpay",
        mchid: str,
        appid: str,
        cert_serial_no: str,
        private_key: str,
        apiv3_key: str,
        public_key: str,
        public_key_id: str,
        gateway: str | None = None,
        timeout: float = 5,
        max_age_seconds: int = 300,
    ) -> None:
        if len(apiv3_key.encode()) != 32:
            raise ValueError("apiv3_key must be 32 bytes")
        if not public_key_id:
            raise ValueError("public_key_id is required")
        self.name = name
        self.mchid = mchid
        self.appid = appid
        self.public_key_id = public_key_id
        self.max_age_seconds = max_age_seconds
        self._platform_key = load_public_key(public_key)
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=mchid,
            private_key=private_key,
            cert_serial_no=cert_serial_no,
            appid=appid,
            apiv3_key=apiv3_key,
            timeout=timeout,
            public_key=public_key,
            public_key_id=public_key_id,
        )
        if gateway:
            # the package hard-codes its gateway; a test or a proxy sets another one here
            self._pay._core._gate_way = gateway.rstrip("/")

    @property
    def gateway(self) -> str:
        return str(self._pay._core._gate_way)

    # --- calls ---------------------------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
        """Call the package; transport and response-signature failures become ProviderError."""
        try:
            status, content = fn(*args, **kwargs)
        except requests.RequestException as exc:
            raise WeChatPayError(0, "UNREACHABLE", str(exc) or repr(exc)) from exc
        except Exception as exc:  # the package raises bare Exception (bad signature etc.)
            raise WeChatPayError(0, "SDK_ERROR", str(exc) or repr(exc)) from exc
        return int(status), content

    @staticmethod
    def _error(status: int, content: Any) -> WeChatPayError:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        code, message = "HTTP_ERROR", (text or "")[:200]
        try:
            data = json.loads(text or "")
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = str(data.get("code") or code)
            message = str(data.get("message") or message)
        return WeChatPayError(status, code, message)

    def _json(self, status: int, content: Any) -> dict[str, Any]:
        if not 200 <= status < 300:
            raise self._error(status, content)
        try:
            data = json.loads(content)
        except (TypeError, ValueError) as exc:
            raise WeChatPayError(status, "BAD_RESPONSE", "response is not JSON") from exc
        if not isinstance(data, dict):
            raise WeChatPayError(status, "BAD_RESPONSE", "response is not a JSON object")
        return data

    # --- the interface -------------------------------------------------------------------

    def start(self, request: StartRequest) -> Started:
        if request.auth_code:
            raise ProviderError("micropay not supported")
        _check_out_no(request.out_trade_no)
        if request.expires_at.tzinfo is None:
            raise ValueError("expires_at must be aware")
        status, content = self._call(
            self._pay.pay,
            description=request.description,
            out_trade_no=request.out_trade_no,
            amount={"total": request.amount_fen, "currency": "CNY"},
            time_expire=request.expires_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
            notify_url=request.notify_url,
            pay_type=WeChatPayType.NATIVE,
        )
        data = self._json(status, content)
        code_url = data.get("code_url")
        if not isinstance(code_url, str) or not code_url:
            raise WeChatPayError(status, "BAD_RESPONSE", "no code_url")
        return Started(code_url=code_url)

    def query(self, out_trade_no: str) -> Status:
        _check_out_no(out_trade_no)
        status, content = self._call(self._pay.query, out_trade_no=out_trade_no)
        if status == 404:
            error = self._error(status, content)
            if error.code == "ORDER_NOT_EXIST":
                return Status("unknown")
            raise error
        data = self._json(status, content)
        trade_state = data.get("trade_state")
        state = _TRADE_STATES.get(str(trade_state))
        if state is None:
            raise WeChatPayError(status, "BAD_RESPONSE", f"unknown trade_state {trade_state!r}")
        if state not in ("paid", "refunded"):
            return Status(state)  # type: ignore[arg-type]
        try:
            amount = _fen_int(data["amount"]["total"])
            txn_id = str(data["transaction_id"])
            paid_at = _rfc3339(data["success_time"])
        except (KeyError, TypeError, ValueError) as exc:
            raise WeChatPayError(status, "BAD_RESPONSE", f"ill-formed transaction: {exc}") from exc
        return Status(state, provider_txn_id=txn_id, amount_fen=amount, paid_at=paid_at)  # type: ignore[arg-type]

    def close(self, out_trade_no: str) -> None:
        _check_out_no(out_trade_no)
        status, content = self._call(self._pay.close, out_trade_no=out_trade_no)
        if not 200 <= status < 300:
            raise self._error(status, content)

    def refund(self, request: RefundRequest) -> RefundResult:
        _check_out_no(request.out_trade_no)
        _check_out_no(request.out_refund_no)
        status, content = self._call(
            self._pay.refund,
            out_refund_no=request.out_refund_no,
            amount={"refund": request.refund_fen, "total": request.total_fen, "currency": "CNY"},
            out_trade_no=request.out_trade_no,
            reason=request.reason or None,
            notify_url=request.notify_url or None,
        )
        data = self._json(status, content)
        refund_status = str(data.get("status", ""))
        return RefundResult(
            state=_REFUND_STATES.get(refund_status, "failed"),  # type: ignore[arg-type]
            provider_refund_id=str(data.get("refund_id", "")),
            detail=refund_status,
        )

    def parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        if now.tzinfo is None:
            raise ValueError("now must be aware")
        picked = _pick_headers(headers)
        missing = [h for h in _NOTICE_HEADERS[:4] if not picked.get(h)]
        if missing:
            raise NotificationRejected("malformed", f"missing header(s) {', '.join(missing)}")
        timestamp = picked["Wechatpay-Timestamp"]
        if not _DIGITS.fullmatch(timestamp):
            raise NotificationRejected("malformed", "Wechatpay-Timestamp is not digits")
        signature_type = picked.setdefault("Wechatpay-Signature-Type", SIGNATURE_TYPE)
        if signature_type != SIGNATURE_TYPE:
            raise NotificationRejected("malformed", f"signature type {signature_type!r}")
        if picked["Wechatpay-Serial"] != self.public_key_id:
            # never let the package look the serial up (it would download certificates)
            raise NotificationRejected("forged", "signed with an unknown key serial")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotificationRejected("malformed", "body is not UTF-8") from exc
        if not rsa_verify(
            timestamp,
            picked["Wechatpay-Nonce"],
            text,
            picked["Wechatpay-Signature"],
            self._platform_key,
        ):
            raise NotificationRejected("forged", "bad signature")
        age = abs(now.timestamp() - int(timestamp))
        if age > self.max_age_seconds:
            raise NotificationRejected("stale", f"timestamp is {int(age)} s from now")
        try:
            data = self._pay.callback(picked, text)
        except Exception as exc:  # the package raises on ill-formed JSON or resource
            raise NotificationRejected("malformed", f"cannot decode: {exc}") from exc
        if not isinstance(data, dict):
            # the signature is good, so it is the resource that could not be decrypted
            raise NotificationRejected("malformed", "resource cannot be decrypted")
        return self._notice(data)

    def _notice(self, data: dict[str, Any]) -> Notice:
        event_type = data.get("event_type")
        if event_type != "TRANSACTION.SUCCESS":
            raise NotificationRejected("malformed", f"unsupported event_type {event_type!r}")
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise NotificationRejected("malformed", "resource is not an object")
        if resource.get("mchid") != self.mchid:
            raise NotificationRejected("malformed", "notification for another merchant")
        if resource.get("trade_state") != "SUCCESS":
            raise NotificationRejected("malformed", "trade_state is not SUCCESS")
        try:
            out_trade_no = resource["out_trade_no"]
            txn_id = resource["transaction_id"]
            if not isinstance(out_trade_no, str) or not isinstance(txn_id, str):
                raise TypeError("out_trade_no and transaction_id must be strings")
            amount = _fen_int(resource["amount"]["total"])
            paid_at = _rfc3339(resource["success_time"])
        except (KeyError, TypeError, ValueError) as exc:
            raise NotificationRejected("malformed", f"ill-formed transaction: {exc}") from exc
        return Notice(
            out_trade_no=out_trade_no,
            state="paid",
            amount_fen=amount,
            provider_txn_id=txn_id,
            paid_at=paid_at,
            event_id=str(data.get("id", "")),
        )

    def answer(self, accepted: bool) -> Answer:
        if accepted:
            return Answer(status=200, content_type="text/plain; charset=utf-8", body=b"")
        body = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False)
        return Answer(
            status=500,
            content_type="application/json; charset=utf-8",
            body=body.encode("utf-8"),
        )

    def bill(self, day: date) -> list[BillRow]:
        status, content = self._call(
            self._pay.trade_bill, bill_date=day.isoformat(), bill_type="ALL", tar_type="GZIP"
        )
        if status == 400 and self._error(status, content).code == "NO_STATEMENT_EXIST":
            return []  # no transaction at all that day
        data = self._json(status, content)
        url = data.get("download_url")
        if not isinstance(url, str) or not url.startswith(self.gateway + "/"):
            # the package would send our signed request wherever it points
            raise WeChatPayError(status, "BAD_RESPONSE", "download_url outside the gateway")
        status, content = self._call(self._pay.download_bill, url)
        if not 200 <= status < 300:
            raise self._error(status, content)
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise WeChatPayError(status, "BAD_BILL", "bill is not gzip") from exc
        hash_type = str(data.get("hash_type", "SHA1")).upper()
        if hash_type != "SHA1":
            raise WeChatPayError(status, "BAD_BILL", f"unsupported hash_type {hash_type}")
        digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        if digest != str(data.get("hash_value", "")).lower():
            raise WeChatPayError(status, "BAD_BILL", "bill hash mismatch")
        try:
            return parse_trade_bill(raw.decode("utf-8-sig"))
        except ValueError as exc:
            raise WeChatPayError(status, "BAD_BILL", str(exc)) from exc


# --- helpers -----------------------------------------------------------------------------


def _check_out_no(value: str) -> None:
    if not _OUT_NO.fullmatch(value):
        raise ValueError(f"not a WeChat Pay merchant number: {value!r}")


def _pick_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The notification headers, whatever the spelling (Django's request.headers or META)."""
    wanted = {h.lower(): h for h in _NOTICE_HEADERS}
    picked: dict[str, str] = {}
    for key, value in headers.items():
        k = key.lower().replace("_", "-")
        k = k.removeprefix("http-")
        if k in wanted:
            picked[wanted[k]] = str(value)
    return picked


def _fen_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"amount {value!r} is not a whole number of fen")
    return value


def _rfc3339(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("time is not a string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return parsed


def yuan_to_fen(value: str) -> int:
    """ "12.34" -> 1234, exactly (Decimal); anything else raises ValueError."""
    if not _YUAN.fullmatch(value):
        raise ValueError(f"not a yuan amount: {value!r}")
    return int(Decimal(value).scaleb(2))


def parse_trade_bill(text: str) -> list[BillRow]:
    """WeChat Pay's trade bill (``bill_type=ALL``): a header row, data rows whose fields each
    start with a backtick, then a summary section. Successful payments and successful refunds
    become ``BillRow``s; money in fen."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError("empty bill")
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    out: list[BillRow] = []
    for row in rows[1:]:
        if row[0].strip().lstrip("`") == _SUMMARY_FIRST_COLUMN:
            break
        if len(row) != len(header):
            raise ValueError(f"bill row has {len(row)} fields, header has {len(header)}")
        cells = dict(zip(header, (c.strip().removeprefix("`") for c in row), strict=True))
        parsed = _bill_row(cells)
        if parsed is not None:
            out.append(parsed)
    return out


def _bill_row(cells: dict[str, str]) -> BillRow | None:
    try:
        at = datetime.strptime(cells["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        trade_state = cells["交易状态"]
        out_trade_no = cells["商户订单号"]
        txn_id = cells["微信订单号"]
    except KeyError as exc:
        raise ValueError(f"bill has no column {exc}") from exc
    extra = {"trade_type": cells["交易类型"]} if cells.get("交易类型") else {}
    if cells.get("手续费"):
        extra["fee_fen"] = str(yuan_to_fen(cells["手续费"]))
    if trade_state == "SUCCESS":
        amount = cells.get("订单金额") or cells.get("应结订单金额")
        if not amount:
            raise ValueError("bill has no order amount column")
        return BillRow(
            "payment",
            out_trade_no,
            yuan_to_fen(amount),
            provider_txn_id=txn_id,
            at=at,
            extra=extra,
        )
    if trade_state == "REFUND":
        if cells.get("退款状态") != "SUCCESS":
            return None
        amount = cells.get("申请退款金额") or cells.get("退款金额")
        if not amount:
            raise ValueError("bill has no refund amount column")
        extra["provider_refund_id"] = cells.get("微信退款单号", "")
        return BillRow(
            "refund",
            out_trade_no,
            yuan_to_fen(amount),
            provider_txn_id=txn_id,
            out_refund_no=cells.get("商户退款单号", ""),
            at=at,
            extra=extra,
        )
    return None
