"""Every write operation in openapi.json answers bad input with a 4xx problem+json and leaves
the database exactly as it was (no 500, no half-written row)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings

from agora.accounts.actor import Actor
from agora.accounts.models import ApiKey, User
from agora.checkout.services.orders import LineSpec, order_create
from agora.checkout.services.payments import PaymentSpec, order_submit
from agora.coupons.models import Coupon, CouponTemplate
from agora.district.models import Facility, Floor, MerchantApplication, Shop, Zone
from agora.members.models import Member, PhysicalCard
from agora.navigation.services.closures import closure_create
from agora.parking.models import ParkingSession, ReviewItem, SpaceShare, Vehicle
from agora.parking.services.ingest import event_ingest
from agora.points.models import EarningRule, ExchangeItem, LedgerTransaction
from agora.testing.personas import as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db

SPEC = json.loads((Path(settings.BASE_DIR) / "openapi.json").read_text(encoding="utf-8"))
WRITES = [
    (method.upper(), path, op)
    for path, ops in SPEC["paths"].items()
    for method, op in ops.items()
    if method in {"post", "put", "patch", "delete"}
]


def _fingerprint() -> list[Any]:
    """Every row of every Agora table (the SMALL demo keeps this cheap)."""
    out = []
    for model in apps.get_models():
        if model._meta.app_label in {
            "core",
            "accounts",
            "district",
            "members",
            "coupons",
            "points",
            "checkout",
            "navigation",
            "parking",
        }:
            out.append((model._meta.label, list(model.objects.order_by("pk").values())))
    return out


def _wrong(schema: dict[str, Any]) -> Any:
    """A value of the wrong type for a JSON-schema property."""
    if "$ref" in schema or "allOf" in schema or "anyOf" in schema:
        return {"nested": "wrong"}
    kind = schema.get("type")
    return {
        "string": ["not", "a", "string"],
        "integer": "abc",
        "number": "abc",
        "boolean": "maybe",
        "array": "abc",
        "object": 5,
    }.get(kind)


def _bodies(op: dict[str, Any]) -> list[Any]:
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    props = SPEC["components"]["schemas"][ref].get("properties", {})
    return ["{not json", [], "a string", {k: _wrong(v) for k, v in props.items()}]


@pytest.fixture
def ids() -> dict[str, Any]:
    mall_id = mall_id_of("mall-ops-1")
    shop_id = shop_id_of("shop-owner-1")
    key = as_persona("mall-ops-1").post(
        "/api-keys", {"name": "k", "scopes": ["shops:read"], "mall_id": mall_id}
    )
    app = MerchantApplication.objects.create(
        mall_id=mall_id,
        shop_name="x",
        category="food",
        contact_name="x",
        contact_phone="13911112222",
        licence_number="91440300MA5F000000",
    )
    order = order_create(
        actor=None, shop=Shop.objects.get(pk=shop_id), lines=[LineSpec("拿铁", 1, 3600)]
    )
    paid = order_create(
        actor=None, shop=Shop.objects.get(pk=shop_id), lines=[LineSpec("拿铁", 1, 3600)]
    )
    order_submit(actor=None, order=paid, payments=[PaymentSpec("cash", 3600)], key="bad-input")
    floor = Floor.objects.filter(mall_id=mall_id).order_by("level").last()
    assert floor is not None
    closure = closure_create(
        actor=Actor(user=User.objects.get(username="admin"), is_admin=True),
        zone_id=Zone.objects.filter(floor=floor, kind="corridor").first().pk,  # type: ignore[union-attr]
        reason="bad-input sweep",
    )
    t = "2026-11-02T10:00:00+08:00"
    event_ingest(
        payload={"event_id": "bad-in", "plate": "粤S40404", "at": t},
        topic="agora/parking/mixc-p/gate/E1/plate",
        via="http",
    )
    event_ingest(
        payload={"event_id": "bad-out", "plate": "粤S50505", "at": t},
        topic="agora/parking/mixc-p/gate/X1/plate",
        via="http",
    )
    session = ParkingSession.objects.get(plate="粤S40404")
    admin = User.objects.get(username="admin")
    vehicle = Vehicle.objects.create(user=admin, plate="粤S40404", created_at=session.entered_at)
    return {
        "car_park_id": session.car_park_id,
        "session_id": session.pk,
        "vehicle_id": vehicle.pk,
        "review_id": ReviewItem.objects.get(plate="粤S50505").pk,
        "share_id": SpaceShare.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "reservation_id": 999999,
        "mall_id": mall_id,
        "shop_id": shop_id,
        "floor_id": floor.pk,
        "zone_id": Zone.objects.filter(floor=floor).first().pk,  # type: ignore[union-attr]
        "facility_id": Facility.objects.filter(floor__mall_id=mall_id).first().pk,  # type: ignore[union-attr]
        "application_id": app.pk,
        "api_key_id": ApiKey.objects.get(pk=key.body["id"]).pk,
        "purpose": "marketing_messages",
        "district_id": floor.mall.district_id,
        "member_id": Member.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "card_id": PhysicalCard.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "tag": "vip",
        "item_id": ExchangeItem.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "transaction_id": LedgerTransaction.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "rule_id": EarningRule.objects.filter(active=True).first().pk,  # type: ignore[union-attr]
        "template_id": CouponTemplate.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "coupon_id": Coupon.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "order_id": paid.pk,
        "number": order.number,
        "payment_id": paid.payments.get().pk,
        "closure_id": closure.pk,
        "code": "mixc-1f",
    }


WITH_BODY = [w for w in WRITES if "requestBody" in w[2]]
WITH_IDS = [w for w in WRITES if "{" in w[1]]


@pytest.mark.parametrize(
    ("method", "path", "op"), WITH_BODY, ids=[f"{m} {p}" for m, p, _ in WITH_BODY]
)
def test_bad_bodies_are_4xx_problems_and_change_nothing(
    method: str, path: str, op: dict[str, Any], ids: dict[str, Any]
) -> None:
    bodies = _bodies(op)
    url = path.removeprefix("/api/v1").format(**ids)
    client = as_persona("admin")
    client.get("/me")  # the token's last use is recorded now, not during the calls below
    before = _fingerprint()
    for body in bodies:
        response = client.call(method, url, body)
        assert 400 <= response.status < 500, (method, url, body, response.status, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.body["status"] == response.status
        assert response.body["code"]
    assert _fingerprint() == before


@pytest.mark.parametrize(
    ("method", "path", "op"), WITH_IDS, ids=[f"{m} {p}" for m, p, _ in WITH_IDS]
)
def test_non_numeric_ids_are_4xx(
    method: str, path: str, op: dict[str, Any], ids: dict[str, Any]
) -> None:
    url = path.removeprefix("/api/v1").format(**{k: "abc" for k in ids})
    client = as_persona("admin")
    client.get("/me")
    before = _fingerprint()
    response = client.call(method, url, {})
    assert 400 <= response.status < 500, (method, url, response.status, response.body)
    assert _fingerprint() == before
