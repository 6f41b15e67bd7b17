"""An order paid with Alipay through the real ``python-alipay-sdk`` against the local fake
Alipay gateway: precreate QR, the shopper pays, Alipay's RSA2-signed form notification reaches
Agora's notify URL; a forged one is answered "failure" and changes nothing; a barcode scanned at
the till settles at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from agora.checkout.models import Order, PaymentNotice
from agora.checkout.providers import reset_providers
from agora.testing.fake_alipay import FakeAlipay
from agora.testing.personas import as_persona, shop_id_of

pytestmark = pytest.mark.django_db

CASHIER = "shop-cashier-1"


@pytest.fixture
def alipay(settings: Any) -> Iterator[FakeAlipay]:
    with FakeAlipay() as fake:
        settings.PAYMENT_PROVIDERS = {
            **settings.PAYMENT_PROVIDERS,
            "alipay": {
                "class": "agora.checkout.providers.alipay.AlipayProvider",
                **fake.provider_options(),
            },
        }
        settings.PAYMENT_ROUTES = {**settings.PAYMENT_ROUTES, "alipay": "alipay"}
        reset_providers()
        yield fake
    reset_providers()


def _notify(headers: dict[str, str], body: bytes) -> Any:
    return Client().generic(
        "POST",
        "/pay/notify/alipay/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def _submit(payment: dict[str, Any], key: str) -> dict[str, Any]:
    till = as_persona(CASHIER)
    order = till.post(
        f"/shops/{shop_id_of(CASHIER)}/orders",
        {"lines": [{"name": "星冰乐", "quantity": 3, "unit_price_fen": 4133}]},
    ).body
    r = till.post(
        f"/orders/{order['id']}/submit", {"payments": [payment]}, headers={"Idempotency-Key": key}
    )
    assert r.status == 200, r.body
    return r.body


def test_alipay_qr_paid_by_notification(alipay: FakeAlipay) -> None:
    order = _submit({"method": "alipay", "amount_fen": 12399}, "ali-1")
    [payment] = order["payments"]
    assert payment["provider"] == "alipay" and payment["status"] == "pending"
    assert payment["code_url"]
    alipay.scan(payment["number"])
    alipay.pay(payment["number"])
    forged = _notify(*alipay.notification(payment["number"], wrong_key=True))
    assert (forged.status_code, forged.content) == (200, b"failure")
    assert Order.objects.get(pk=order["id"]).status == "pending"
    ok = _notify(*alipay.notification(payment["number"]))
    assert (ok.status_code, ok.content) == (200, b"success")
    paid = Order.objects.get(pk=order["id"])
    assert (paid.status, paid.paid_fen) == ("paid", 12399)
    verdicts = list(
        PaymentNotice.objects.filter(provider="alipay")
        .order_by("id")
        .values_list("verdict", flat=True)
    )
    assert verdicts == ["forged", "applied"]


def test_alipay_barcode_scanned_at_the_till_settles_at_once(alipay: FakeAlipay) -> None:
    order = _submit(
        {"method": "alipay", "amount_fen": 12399, "auth_code": "286612345678901234"}, "ali-2"
    )
    assert order["status"] == "paid"
    assert order["payments"][0]["status"] == "paid"
