"""Alipay (支付宝) adapter, through the ``python-alipay-sdk`` package (import name ``alipay``).

The SDK signs every request with the app's RSA2 key, sends it to the open-platform gateway and
verifies the ``sign`` of the synchronous answer with Alipay's public key; its ``verify`` checks
the asynchronous notifications. This module only translates: Agora's integer fen to Alipay's
yuan strings and back (exactly, with ``Decimal``), Alipay's result codes to Agora's states, and
the daily trade bill (a zip of GBK CSV files) to ``BillRow`` objects.

Network: the SDK (3.4.0) calls ``urlopen(url, timeout=config.timeout)`` for every API call, so
the adapter hands it ``AliPayConfig(timeout=...)``; the bill file is fetched here with the same
timeout and a size cap. No process-wide socket default is touched. The timeout bounds every
blocking socket operation (connect, each read), not the call as a whole.

Options (``settings.PAYMENT_PROVIDERS``)::

    "alipay": {
        "class": "agora.checkout.providers.alipay.AlipayProvider",
        "appid": "2021...",
        "app_private_key": "-----BEGIN PRIVATE KEY-----...",   # PEM, or the bare base64
        "alipay_public_key": "-----BEGIN PUBLIC KEY-----...",  # from the open platform
        "gateway": None,          # None: the SDK's production gateway
        "timeout": 5,             # seconds, per socket operation
        "max_age_seconds": 86400, # older notifications are refused as stale
    }
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from http.client import HTTPException
from typing import Any
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

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
    State,
    Status,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SUCCESS = "10000"
WAITING = "10003"  # alipay.trade.pay: the payer still has to confirm on the phone

#: notifications larger than this are garbage, not Alipay's
MAX_NOTICE_BYTES = 64 * 1024
#: a notification dated this far in the future is refused
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: the bill zip and the CSV inside it are refused beyond this size
MAX_BILL_BYTES = 64 * 1024 * 1024

#: ACQ.* codes that do not say the refund failed: the outcome is unknown, retry the same request
_REFUND_UNKNOWN = frozenset({"ACQ.SYSTEM_ERROR"})

_YUAN = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
_HUNDRED = Decimal(100)

_QUERY_STATES: dict[str, State] = {
    "WAIT_BUYER_PAY": "pending",
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "TRADE_CLOSED": "closed",
}

_BILL_KINDS = {"交易": "payment", "退款": "refund"}
_COL_TXN = "支付宝交易号"
_COL_OUT_TRADE_NO = "商户订单号"
_COL_KIND = "业务类型"
_COL_DONE = "完成时间"
_COL_AMOUNT = "订单金额（元）"
_COL_REFUND_NO = "退款批次号/请求号"
_BILL_REQUIRED = (_COL_TXN, _COL_OUT_TRADE_NO, _COL_KIND, _COL_DONE, _COL_AMOUNT, _COL_REFUND_NO)
_BILL_EXTRA = ("商家实收（元）", "服务费（元）")


def fen_to_yuan(fen: int) -> str:
    """1234 → "12.34", exactly."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amount in fen must be an int, not {fen!r}")
    return f"{Decimal(fen).scaleb(-2):.2f}"


def yuan_to_fen(text: str) -> int:
    """ "12.34" → 1234, exactly; ValueError for anything that is not a whole number of fen."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text.strip()):
        raise ValueError(f"not an amount in yuan: {text!r}")
    fen = Decimal(text.strip()) * _HUNDRED
    if fen != fen.to_integral_value():
        raise ValueError(f"not a whole number of fen: {text!r}")
    return int(fen)


def _shanghai_time(text: str) -> datetime:
    """Alipay's "yyyy-MM-dd HH:mm:ss", Beijing time → aware datetime."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=SHANGHAI)


def _key_material(text: str) -> str | bytes:
    """A PEM key as is; the bare base64 the open platform shows, as DER bytes."""
    if "-----BEGIN" in text:
        return text
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError("an Alipay key must be PEM or base64 DER") from exc


class AlipayError(ProviderError):
    """Alipay refused a request (or answered something unusable)."""

    def __init__(self, api: str, code: str, sub_code: str = "", sub_msg: str = "") -> None:
        detail = f"{sub_code}: {sub_msg}" if sub_code else sub_msg
        super().__init__(f"alipay {api}: code {code} {detail}".rstrip())
        self.api = api
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg


class _Client(AliPay):  # type: ignore[misc]
    """The SDK's client with two corrections: the gateway can point elsewhere (the fake in
    tests), and the request ``timestamp`` is Beijing time, as the gateway expects, whatever
    the server's local time zone (the SDK uses the naive local time)."""

    def __init__(self, *, gateway: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if gateway:
            self._gateway = gateway

    def build_body(
        self, method: str, biz_content: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        data: dict[str, Any] = super().build_body(method, biz_content, **kwargs)
        data["timestamp"] = datetime.now(SHANGHAI).strftime(TIME_FORMAT)
        return data


def _describe_sdk_error(exc: AliPayException) -> tuple[str, str, str]:
    """(code, sub_code, sub_msg) from the SDK's exception, which keeps the raw answer."""
    code = str(getattr(exc, "_AliPayException__code", "") or "")
    raw = getattr(exc, "_AliPayException__message", "")
    try:
        answer = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        for value in answer.values():
            if isinstance(value, dict) and "code" in value:
                return (
                    str(value.get("code", code)),
                    str(value.get("sub_code", "")),
                    str(value.get("sub_msg", value.get("msg", ""))),
                )
    return code or "?", "", str(raw)[:200]


class AlipayProvider(Provider):
    """Alipay face-to-face payment (当面付): a QR the shopper scans (precreate) or the
    shopper's payment code scanned at the till (pay)."""

    name = "alipay"
    methods = ("alipay",)

    def __init__(
        self,
        *,
        name: str = "alipay",
        appid: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway: str | None = None,
        timeout: float = 5,
        max_age_seconds: int = 86400,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_age_seconds <= 0:
            raise ValueError("max_age_seconds must be positive")
        self.name = name
        self.appid = str(appid)
        self.timeout = float(timeout)
        self.max_age = timedelta(seconds=max_age_seconds)
        self._client = _Client(
            gateway=gateway,
            appid=self.appid,
            app_private_key_string=_key_material(app_private_key),
            alipay_public_key_string=_key_material(alipay_public_key),
            sign_type="RSA2",
            config=AliPayConfig(timeout=self.timeout),
        )

    # --- calls -----------------------------------------------------------------------------

    def _call(self, api: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One SDK call; every way it can go wrong becomes a ProviderError."""
        try:
            result = fn(*args, **kwargs)
        except AliPayValidationError as exc:
            raise AlipayError(api, "?", "", "the answer's signature did not verify") from exc
        except AliPayException as exc:
            raise AlipayError(api, *_describe_sdk_error(exc)) from exc
        except (OSError, HTTPException) as exc:  # URLError, timeouts, refused connections
            raise ProviderError(f"alipay {api}: transport failure: {exc!r}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # garbled answer
            raise ProviderError(f"alipay {api}: unreadable answer: {exc!r}") from exc
        if not isinstance(result, dict) or "code" not in result:
            raise ProviderError(f"alipay {api}: unreadable answer: {result!r}"[:300])
        result["code"] = str(result["code"])
        return result

    @staticmethod
    def _refused(api: str, result: Mapping[str, Any]) -> AlipayError:
        return AlipayError(
            api,
            str(result.get("code", "")),
            str(result.get("sub_code", "")),
            str(result.get("sub_msg", result.get("msg", ""))),
        )

    @staticmethod
    def _amount(api: str, result: Mapping[str, Any], key: str) -> int:
        try:
            return yuan_to_fen(result[key])
        except (KeyError, ValueError) as exc:
            raise ProviderError(f"alipay {api}: malformed {key}: {result.get(key)!r}") from exc

    # --- Provider --------------------------------------------------------------------------

    def start(self, request: StartRequest) -> Started:
        if request.amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        now = datetime.now(SHANGHAI)
        expires = request.expires_at.astimezone(SHANGHAI)
        if expires <= now:
            raise ValueError("the payment has already expired")
        # time_expire wins where Alipay supports it; timeout_express (whole minutes, rounded
        # down so the trade never outlives expires_at) covers the rest
        minutes = max(1, int((expires - now).total_seconds()) // 60)
        biz: dict[str, Any] = {
            "total_amount": fen_to_yuan(request.amount_fen),
            "time_expire": expires.strftime(TIME_FORMAT),
            "timeout_express": f"{minutes}m",
        }
        subject = (request.description or request.out_trade_no)[:256]
        if request.auth_code:
            api = "alipay.trade.pay"
            result = self._call(
                api,
                self._client.api_alipay_trade_pay,
                request.out_trade_no,
                "bar_code",
                request.auth_code,
                subject,
                notify_url=request.notify_url or None,
                **biz,
            )
            trade_no = str(result.get("trade_no", ""))
            if result["code"] == WAITING:
                return Started(provider_ref=trade_no)
            if result["code"] != SUCCESS:
                raise self._refused(api, result)
            # the pay answer has no trade_status: code 10000 means settled; if one is given
            # it must agree, and so must the amount
            if result.get("trade_status", "TRADE_SUCCESS") != "TRADE_SUCCESS":
                raise ProviderError(f"alipay {api}: trade_status {result['trade_status']!r}")
            if "total_amount" in result and (
                self._amount(api, result, "total_amount") != request.amount_fen
            ):
                raise ProviderError(f"alipay {api}: paid {result['total_amount']} yuan")
            if not trade_no:
                raise ProviderError(f"alipay {api}: settled without a trade_no")
            return Started(provider_ref=trade_no, paid=True, provider_txn_id=trade_no)
        api = "alipay.trade.precreate"
        result = self._call(
            api,
            self._client.api_alipay_trade_precreate,
            subject,
            request.out_trade_no,
            biz.pop("total_amount"),
            notify_url=request.notify_url or None,
            **biz,
        )
        if result["code"] != SUCCESS:
            raise self._refused(api, result)
        qr_code = str(result.get("qr_code", ""))
        if not qr_code:
            raise ProviderError(f"alipay {api}: no qr_code in the answer")
        return Started(code_url=qr_code)

    def query(self, out_trade_no: str) -> Status:
        api = "alipay.trade.query"
        result = self._call(api, self._client.api_alipay_trade_query, out_trade_no=out_trade_no)
        if result["code"] != SUCCESS:
            if result.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                # also what Alipay says about a precreated QR nobody has scanned yet
                return Status(state="unknown")
            raise self._refused(api, result)
        trade_status = str(result.get("trade_status", ""))
        if trade_status not in _QUERY_STATES:
            raise ProviderError(f"alipay {api}: unexpected trade_status {trade_status!r}")
        state = _QUERY_STATES[trade_status]
        paid_at = None
        if state == "paid" and result.get("send_pay_date"):
            try:
                paid_at = _shanghai_time(str(result["send_pay_date"]))
            except ValueError as exc:
                raise ProviderError(f"alipay {api}: malformed send_pay_date") from exc
        return Status(
            state=state,
            provider_txn_id=str(result.get("trade_no", "")),
            amount_fen=self._amount(api, result, "total_amount"),
            paid_at=paid_at,
        )

    def close(self, out_trade_no: str) -> None:
        api = "alipay.trade.close"
        result = self._call(api, self._client.api_alipay_trade_close, out_trade_no=out_trade_no)
        if result["code"] == SUCCESS:
            return
        sub_code = result.get("sub_code")
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            # nobody scanned the QR: there is no trade to close; the time_expire sent with it
            # stops a later payment
            return
        if sub_code == "ACQ.TRADE_STATUS_ERROR" and self.query(out_trade_no).state == "closed":
            return  # closed already
        raise self._refused(api, result)

    def refund(self, request: RefundRequest) -> RefundResult:
        if request.refund_fen <= 0:
            raise ValueError("refund_fen must be positive")
        api = "alipay.trade.refund"
        extra = {"refund_reason": request.reason[:256]} if request.reason else {}
        result = self._call(
            api,
            self._client.api_alipay_trade_refund,
            fen_to_yuan(request.refund_fen),
            out_trade_no=request.out_trade_no,
            out_request_no=request.out_refund_no,
            **extra,
        )
        if result["code"] != SUCCESS:
            sub_code = str(result.get("sub_code", ""))
            if sub_code.startswith("ACQ.") and sub_code not in _REFUND_UNKNOWN:
                return RefundResult(
                    state="failed",
                    detail=f"{sub_code}: {result.get('sub_msg', '')}"[:200],
                )
            raise self._refused(api, result)
        trade_no = str(result.get("trade_no", ""))
        if result.get("fund_change") == "Y":
            return RefundResult(state="succeeded", provider_refund_id=trade_no)
        # fund_change N: no money moved by *this* call, typically because the same
        # out_request_no already succeeded. Alipay's advice: ask the refund query.
        return self._refund_outcome(request, trade_no)

    def _refund_outcome(self, request: RefundRequest, trade_no: str) -> RefundResult:
        api = "alipay.trade.fastpay.refund.query"
        result = self._call(
            api,
            self._client.api_alipay_trade_fastpay_refund_query,
            request.out_refund_no,
            out_trade_no=request.out_trade_no,
        )
        if result["code"] != SUCCESS:
            raise self._refused(api, result)
        if result.get("refund_status") != "REFUND_SUCCESS":
            return RefundResult(state="processing", provider_refund_id=trade_no)
        refunded = self._amount(api, result, "refund_amount")
        if refunded != request.refund_fen:
            raise ProviderError(
                f"alipay {api}: {request.out_refund_no} refunded {refunded} fen, "
                f"not {request.refund_fen}"
            )
        return RefundResult(
            state="succeeded", provider_refund_id=str(result.get("trade_no", trade_no))
        )

    # --- notifications ---------------------------------------------------------------------

    def parse_notice(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        if now.tzinfo is None:
            raise ValueError("now must be aware")
        fields = self._form(body)
        signature = fields.pop("sign", "")
        if not signature or "sign_type" not in fields:
            raise NotificationRejected("malformed", "no sign or sign_type")
        if fields["sign_type"] != "RSA2":
            raise NotificationRejected("forged", f"sign_type {fields['sign_type']!r}")
        try:
            # the SDK drops sign_type, sorts the rest and checks RSA2 with Alipay's key
            genuine = bool(self._client.verify(dict(fields), signature))
        except (AliPayException, ValueError, TypeError) as exc:
            raise NotificationRejected("forged", f"unverifiable sign: {exc}") from exc
        if not genuine:
            raise NotificationRejected("forged", "the signature does not match")
        if fields.get("app_id") != self.appid:
            raise NotificationRejected("forged", f"for another app: {fields.get('app_id')!r}")

        missing = [
            key
            for key in ("notify_time", "notify_id", "out_trade_no", "trade_status", "total_amount")
            if not fields.get(key)
        ]
        if missing:
            raise NotificationRejected("malformed", f"missing {', '.join(missing)}")
        try:
            notified_at = _shanghai_time(fields["notify_time"])
            amount_fen = yuan_to_fen(fields["total_amount"])
            refund_fen = yuan_to_fen(fields["refund_fee"]) if fields.get("refund_fee") else 0
            paid_at = _shanghai_time(fields["gmt_payment"]) if fields.get("gmt_payment") else None
        except ValueError as exc:
            raise NotificationRejected("malformed", str(exc)) from exc
        if notified_at < now - self.max_age:
            raise NotificationRejected("stale", f"notify_time {fields['notify_time']}")
        if notified_at > now + MAX_CLOCK_SKEW:
            raise NotificationRejected("stale", f"notify_time {fields['notify_time']} ahead")

        trade_status = fields["trade_status"]
        state: State
        if trade_status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            state = "paid"
        elif trade_status == "TRADE_CLOSED":
            # a trade is closed either unpaid (timeout, close) or after a full refund
            state = "refunded" if refund_fen > 0 else "closed"
        elif trade_status == "WAIT_BUYER_PAY":
            state = "pending"
        else:
            raise NotificationRejected("malformed", f"trade_status {trade_status!r}")
        trade_no = fields.get("trade_no", "")
        if state in ("paid", "refunded") and not trade_no:
            raise NotificationRejected("malformed", "missing trade_no")
        return Notice(
            out_trade_no=fields["out_trade_no"],
            state=state,
            amount_fen=amount_fen,
            provider_txn_id=trade_no,
            paid_at=paid_at,
            event_id=fields["notify_id"],
        )

    @staticmethod
    def _form(body: bytes) -> dict[str, str]:
        if not body or len(body) > MAX_NOTICE_BYTES:
            raise NotificationRejected("malformed", "empty or oversized body")
        try:
            text = body.decode("utf-8")
            pairs = urllib.parse.parse_qsl(
                text, keep_blank_values=True, strict_parsing=True, max_num_fields=200
            )
        except ValueError as exc:  # also UnicodeDecodeError
            raise NotificationRejected("malformed", f"not a form: {exc}") from exc
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise NotificationRejected("malformed", "a field is repeated")
        return fields

    def answer(self, accepted: bool) -> Answer:
        # Alipay retries (for about 25 hours) on anything but the exact text "success"
        return Answer(
            status=200, content_type="text/plain", body=b"success" if accepted else b"failure"
        )

    # --- bills -----------------------------------------------------------------------------

    def bill(self, day: date) -> list[BillRow]:
        api = "alipay.data.dataservice.bill.downloadurl.query"
        # python-alipay-sdk 3.4.0 has no dedicated method for this API: server_api is its
        # generic signed call (same signing, verification and timeout)
        result = self._call(
            api,
            self._client.server_api,
            api,
            {"bill_type": "trade", "bill_date": day.isoformat()},
        )
        if result["code"] != SUCCESS:
            raise self._refused(api, result)
        url = str(result.get("bill_download_url", ""))
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ProviderError(f"alipay {api}: unusable bill_download_url {url!r}")
        return parse_trade_bill(self._download(url))

    def _download(self, url: str) -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                data: bytes = response.read(MAX_BILL_BYTES + 1)
        except (OSError, HTTPException) as exc:
            raise ProviderError(f"alipay bill download: transport failure: {exc!r}") from exc
        if len(data) > MAX_BILL_BYTES:
            raise ProviderError("alipay bill download: the file is too large")
        return data


def _member_name(info: zipfile.ZipInfo) -> str:
    """Alipay names the files in GBK without the zip's UTF-8 flag; Python then reads them as
    cp437. Undo that."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def parse_trade_bill(data: bytes) -> list[BillRow]:
    """The rows of the 业务明细 CSV in Alipay's trade bill zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [
            info for info in archive.infolist() if _member_name(info).endswith("_业务明细.csv")
        ]
        if len(members) != 1:
            raise ProviderError(f"alipay bill: {len(members)} 业务明细 files in the zip")
        if members[0].file_size > MAX_BILL_BYTES:
            raise ProviderError("alipay bill: the CSV is too large")
        text = archive.read(members[0]).decode("gb18030")
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ProviderError(f"alipay bill: unreadable file: {exc}") from exc

    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.reader(lines)
    header = [cell.strip() for cell in next(reader, [])]
    missing = [column for column in _BILL_REQUIRED if column not in header]
    if missing:
        raise ProviderError(f"alipay bill: no column {', '.join(missing)}")
    index = {column: header.index(column) for column in header}

    rows: list[BillRow] = []
    for number, raw in enumerate(reader, start=2):
        cells = [cell.strip() for cell in raw]  # Alipay pads ids with a tab
        if len(cells) < len(header):
            raise ProviderError(f"alipay bill: line {number} is short")

        def cell(column: str, cells: list[str] = cells) -> str:
            return cells[index[column]]

        kind = _BILL_KINDS.get(cell(_COL_KIND))
        if kind is None:
            raise ProviderError(f"alipay bill: line {number}: 业务类型 {cell(_COL_KIND)!r}")
        try:
            amount_fen = yuan_to_fen(cell(_COL_AMOUNT))
            at = _shanghai_time(cell(_COL_DONE)) if cell(_COL_DONE) else None
        except ValueError as exc:
            raise ProviderError(f"alipay bill: line {number}: {exc}") from exc
        if kind == "refund":
            amount_fen = abs(amount_fen)  # refunds are listed negative
        if amount_fen <= 0 or not cell(_COL_OUT_TRADE_NO):
            raise ProviderError(f"alipay bill: line {number} has no amount or order")
        rows.append(
            BillRow(
                kind="payment" if kind == "payment" else "refund",
                out_trade_no=cell(_COL_OUT_TRADE_NO),
                amount_fen=amount_fen,
                provider_txn_id=cell(_COL_TXN),
                out_refund_no=cell(_COL_REFUND_NO) if kind == "refund" else "",
                at=at,
                extra={column: cell(column) for column in _BILL_EXTRA if column in index},
            )
        )
    return rows
