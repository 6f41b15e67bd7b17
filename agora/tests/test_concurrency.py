"""Real concurrent clients on PostgreSQL: counters and claims use conditional UPDATEs and
unique constraints, so racing writers never double-book (convention 5)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from agora.district.models import District, MerchantApplication, Shop, ShopUnit, Zone
from agora.testing.personas import anonymous, as_persona, mall_id_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 8


@pytest.fixture(autouse=True)
def _postgres_with_demo() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (the SQLite run serialises writers)")
    if not District.objects.exists():  # a previous transactional test flushed the session demo
        from agora.district.demo import SMALL, build_demo

        build_demo(seed=42, config=SMALL)


def _race(fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = [None] * WORKERS

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_one_application_is_approved_once() -> None:
    mall_id = mall_id_of("mall-ops-1")
    unit = Zone.objects.filter(
        floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True
    ).first()
    assert unit is not None
    app = MerchantApplication.objects.create(
        mall_id=mall_id,
        shop_name="并发测试店",
        category="food",
        unit=unit,
        contact_name="赵六",
        contact_phone="13933334444",
        licence_number="91440300MA5F000001",
    )
    clients = [as_persona("mall-ops-1") for _ in range(WORKERS)]
    statuses = _race(
        lambda i: clients[i].post(f"/merchant-applications/{app.pk}/approve", {}).status
    )
    assert sorted(statuses) == [201] + [409] * (WORKERS - 1)
    assert Shop.objects.filter(name="并发测试店").count() == 1
    assert ShopUnit.objects.filter(zone=unit).count() == 1


def test_racing_shop_creations_claim_a_unit_once() -> None:
    mall_id = mall_id_of("mall-ops-1")
    unit = Zone.objects.filter(
        floor__mall_id=mall_id, kind="shop_unit", occupancy__isnull=True
    ).first()
    assert unit is not None
    clients = [as_persona("mall-ops-1") for _ in range(WORKERS)]
    body = {"category": "food", "unit_ids": [unit.pk], "opens_at": "10:00", "closes_at": "22:00"}
    statuses = _race(
        lambda i: clients[i].post(f"/malls/{mall_id}/shops", {**body, "name": f"抢铺{i}"}).status
    )
    assert sorted(statuses) == [201] + [409] * (WORKERS - 1)
    assert ShopUnit.objects.filter(zone=unit).count() == 1
    assert Shop.objects.filter(name__startswith="抢铺").count() == 1


def test_same_idempotency_key_under_concurrency_makes_one_application() -> None:
    mall_id = mall_id_of("mall-ops-1")
    body = {
        "shop_name": "幂等并发",
        "category": "kids",
        "contact_name": "孙七",
        "contact_phone": "13955556666",
        "licence_number": "91440300MA5F000002",
    }
    headers = {"Idempotency-Key": "race-key-1"}
    clients = [anonymous() for _ in range(WORKERS)]
    results = _race(
        lambda i: clients[i].post(f"/malls/{mall_id}/merchant-applications", body, headers=headers)
    )
    assert {r.status for r in results} == {201}
    assert len({r.body["id"] for r in results}) == 1
    assert MerchantApplication.objects.filter(shop_name="幂等并发").count() == 1
