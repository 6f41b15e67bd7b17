"""Sessions from plate and occupancy events, fees, discounts, paying (app, exit QR,
frictionless), misreads and the review queue, the HTTP ingest API, paging and car finding —
through ``event_ingest`` (the path every transport ends in) and the public API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.selectors import actor_for_user
from agora.accounts.services.credentials import api_key_create
from agora.accounts.sms import LocmemSmsBackend
from agora.checkout.models import Order, SandboxTrade
from agora.checkout.services.sandbox import sandbox_pay
from agora.lib.timeutil import SHANGHAI
from agora.parking.models import (
    CarPark,
    IngestCounter,
    PageDelivery,
    ParkingEvent,
    ParkingSession,
    ReviewItem,
    SessionPayment,
    Space,
    Vehicle,
)
from agora.parking.services import charging
from agora.parking.services.ingest import event_ingest
from agora.testing.personas import anonymous, as_persona, user


def driver(plate: str) -> str:
    """The phone of the demo shopper who bound ``plate``."""
    return str(Vehicle.objects.select_related("user").get(plate=plate).user.phone)


pytestmark = pytest.mark.django_db

CP = "mixc-p"
TOPIC = f"agora/parking/{CP}"


def _weekday_morning() -> datetime:
    """10:00 on the last Wednesday at least a week ago (a working day, tariff v1 in force)."""
    today = timezone.now().astimezone(SHANGHAI).date() - timedelta(days=7)
    while today.weekday() != 2:
        today -= timedelta(days=1)
    return datetime(today.year, today.month, today.day, 10, 0, tzinfo=SHANGHAI)


def plate_event(eid: str, plate: str, at: datetime, gate: str = "E1", conf: float = 0.97) -> Any:
    return event_ingest(
        payload={"event_id": eid, "plate": plate, "confidence": conf, "at": at.isoformat()},
        topic=f"{TOPIC}/gate/{gate}/plate",
        via="mqtt",
    )


def occupancy(eid: str, space: str, occupied: bool, at: datetime, plate: str = "") -> Any:
    return event_ingest(
        payload={"event_id": eid, "occupied": occupied, "plate": plate, "at": at.isoformat()},
        topic=f"{TOPIC}/space/{space}/occupancy",
        via="mqtt",
    )


def _free_space() -> Space:
    space = Space.objects.filter(car_park__code=CP, occupied=False, kind="standard").first()
    assert space is not None
    return space


def test_entry_space_exit_and_fee() -> None:
    t0 = _weekday_morning()
    space = _free_space()
    free_before = CarPark.objects.get(code=CP).availability_version
    assert plate_event("s1-in", "粤S12345", t0).outcome == "applied"
    assert occupancy("s1-occ", space.code, True, t0 + timedelta(minutes=2), "粤S12345").outcome == (
        "applied"
    )
    session = ParkingSession.objects.get(plate="粤S12345")
    assert (session.status, session.space_id, session.floor_id) == (
        "parked",
        space.pk,
        space.zone.floor_id,
    )
    assert CarPark.objects.get(code=CP).availability_version == free_before + 2
    # 2 h 10 min on a Wednesday: 9 started 15-minute units at ¥2 = ¥18
    result = plate_event("s1-out", "粤S12345", t0 + timedelta(hours=2, minutes=10), "X1")
    assert result.outcome == "applied"
    session.refresh_from_db()
    assert (session.status, session.fee_fen, session.match_score) == ("awaiting_payment", 1800, 1.0)
    quote = charging.session_quote(session=session)
    assert (quote.stay_minutes, quote.gross_fen, quote.due_fen) == (130, 1800, 1800)


def test_free_minutes_leave_at_once() -> None:
    t0 = _weekday_morning()
    plate_event("s2-in", "粤S22222", t0)
    plate_event("s2-out", "粤S22222", t0 + timedelta(minutes=14), "X1")
    session = ParkingSession.objects.get(plate="粤S22222")
    assert (session.status, session.fee_fen) == ("closed", 0)


def test_duplicates_change_nothing_twice() -> None:
    t0 = _weekday_morning()
    first = plate_event("s3-in", "粤S33333", t0)
    again = plate_event("s3-in", "粤S33333", t0)
    assert (first.outcome, again.outcome) == ("applied", "duplicate")
    assert ParkingSession.objects.filter(plate="粤S33333").count() == 1
    assert ParkingEvent.objects.filter(event_id="s3-in").count() == 1
    assert IngestCounter.objects.get(via="mqtt", outcome="duplicate").count == 1


def test_occupancy_out_of_order_keeps_the_newest() -> None:
    t0 = _weekday_morning()
    space = _free_space()
    assert occupancy("s4-b", space.code, False, t0 + timedelta(minutes=10)).outcome == "applied"
    late = occupancy("s4-a", space.code, True, t0 + timedelta(minutes=5))
    assert late.outcome == "stale"
    space.refresh_from_db()
    assert (space.occupied, space.state_at) == (False, t0 + timedelta(minutes=10))


@pytest.mark.parametrize(
    ("entry", "read", "score"),
    [
        ("粤S8B123", "粤SB8123", None),  # two characters differ: no match → review
        ("粤S80123", "粤SB0123", 0.85),  # 8 read as B
        ("粤S10D23", "粤S10023", 0.85),  # D read as 0
        ("粤S12345", "湘S12345", 0.9),  # province character
        ("粤S12345", "粤S12349", 0.7),  # any one character
    ],
)
def test_misread_exits(entry: str, read: str, score: float | None) -> None:
    t0 = _weekday_morning()
    plate_event("m-in", entry, t0)
    result = plate_event("m-out", read, t0 + timedelta(minutes=5), "X1", conf=1.0)
    session = ParkingSession.objects.get(plate=entry)
    if score is None:
        assert result.outcome == "review"
        assert session.status == "parked"
        review = ReviewItem.objects.get(event__event_id="m-out")
        assert (review.kind, review.plate) == ("exit_without_entry", read)
    else:
        assert result.outcome == "applied"
        assert (session.status, session.exit_plate, session.match_score) == ("closed", read, score)


def test_ambiguous_exit_goes_to_review_and_an_operator_matches_it() -> None:
    t0 = _weekday_morning()
    plate_event("a-in1", "粤S55551", t0)
    plate_event("a-in2", "粤S55552", t0 + timedelta(minutes=1))
    result = plate_event("a-out", "粤S55553", t0 + timedelta(hours=1), "X1")
    assert result.outcome == "review"
    review = ReviewItem.objects.get(event__event_id="a-out")
    first = ParkingSession.objects.get(plate="粤S55551")
    second = ParkingSession.objects.get(plate="粤S55552")
    assert review.kind == "ambiguous"
    assert sorted(c[0] for c in review.candidates) == sorted([first.pk, second.pk])
    ops = as_persona("mall-ops-1")
    other = as_persona("mall-ops-2")
    denied = other.post(f"/parking/ops/reviews/{review.pk}/match", {"session_id": first.pk})
    assert denied.status == 404
    assert ReviewItem.objects.get(pk=review.pk).status == "open"
    answer = ops.post(f"/parking/ops/reviews/{review.pk}/match", {"session_id": first.pk})
    assert answer.status == 200, answer.body
    # 1 h on a Wednesday: 4 units at ¥2
    assert (answer.body["status"], answer.body["fee_fen"]) == ("awaiting_payment", 800)
    again = ops.post(f"/parking/ops/reviews/{review.pk}/match", {"session_id": second.pk})
    assert again.problem_code == "review_closed"
    assert ParkingSession.objects.get(pk=second.pk).status == "parked"


def test_exit_before_its_entry_arrives_is_closed_when_the_entry_does() -> None:
    t0 = _weekday_morning()
    assert plate_event("o-out", "粤S66666", t0 + timedelta(hours=1), "X1").outcome == "review"
    assert plate_event("o-in", "粤S66666", t0).outcome == "applied"
    session = ParkingSession.objects.get(plate="粤S66666")
    assert (session.status, session.exited_at, session.fee_fen) == (
        "awaiting_payment",
        t0 + timedelta(hours=1),
        800,
    )
    review = ReviewItem.objects.get(event__event_id="o-out")
    assert (review.status, review.session_id) == ("matched", session.pk)
    assert ParkingEvent.objects.get(event_id="o-out").outcome == "applied"


def test_pay_in_app_then_leave_within_grace_and_after_it() -> None:
    now = timezone.now().astimezone(SHANGHAI).replace(microsecond=0)
    t0 = now - timedelta(hours=1, minutes=50)
    plate_event("p-in", "粤S77777", t0)
    session = ParkingSession.objects.get(plate="粤S77777")
    due = charging.session_quote(session=session, at=now).due_fen
    assert due > 0
    answer = anonymous().post(
        "/parking/pay",
        {"car_park": CP, "plate": "粤S77777", "channel": "app", "method": "wechat", "key": "k1"},
    )
    assert answer.status == 201, answer.body
    assert (answer.body["amount_fen"], answer.body["status"]) == (
        charging.session_quote(session=session).due_fen,
        "pending",
    )
    amount = answer.body["amount_fen"]
    order = Order.objects.get(number=answer.body["order_number"])
    assert (order.source, order.shop_id) == ("parking", CarPark.objects.get(code=CP).shop_id)
    trade = SandboxTrade.objects.get(out_trade_no=order.payments.get().number)
    sandbox_pay(token=trade.token, duplicate=False, late=False)
    session.refresh_from_db()
    payment = SessionPayment.objects.get(order=order)
    assert (session.paid_fen, payment.paid) == (amount, True)
    assert session.pay_by == payment.covers_until + timedelta(minutes=15)
    # out within the grace period: the barrier opens, nothing more to pay
    plate_event("p-out", "粤S77777", payment.covers_until + timedelta(minutes=10), "X1")
    session.refresh_from_db()
    assert session.status == "closed"


def test_frictionless_member_is_charged_at_the_exit() -> None:
    t0 = _weekday_morning()
    plate_event("f-in", "粤B8D6K2", t0)  # bound by a demo shopper with a sandbox agreement
    session = ParkingSession.objects.get(plate="粤B8D6K2", entry_event="f-in")
    assert session.user == user(driver("粤B8D6K2"))
    plate_event("f-out", "粤B8D6K2", t0 + timedelta(hours=3), "X1")
    session.refresh_from_db()
    payment = SessionPayment.objects.get(session=session)
    assert (session.status, session.fee_fen, session.paid_fen) == ("closed", 2400, 2400)
    assert (payment.channel, payment.paid, payment.order.status) == ("frictionless", True, "paid")


def test_points_and_coupon_hours_through_the_api() -> None:
    t0 = _weekday_morning()
    plate_event("d-in", "粤B3N7Q8", t0)  # bound by a demo shopper
    session = ParkingSession.objects.get(plate="粤B3N7Q8", entry_event="d-in")
    client = as_persona(driver("粤B3N7Q8"))
    quote = client.get(f"/parking/me/sessions/{session.pk}/quote")
    assert quote.status == 200
    from agora.points.services.ledger import balance_of, member_account, points_adjust

    member = user(driver("粤B3N7Q8")).member
    points_adjust(
        actor=Actor(user=user("admin"), is_admin=True),
        member=member,
        points=1000,
        reason="test",
        mall_id=None,
        key="t-park-points",
    )
    before = balance_of(member_account(member=member))
    used = client.post(f"/parking/me/sessions/{session.pk}/points", {"hours": 2, "key": "x1"})
    assert used.status == 200, used.body
    twice = client.post(f"/parking/me/sessions/{session.pk}/points", {"hours": 2, "key": "x1"})
    assert twice.status == 200
    assert balance_of(member_account(member=member)) == before - 400
    assert used.body["discount_minutes"] == 120
    too_many = client.post(f"/parking/me/sessions/{session.pk}/points", {"hours": 3, "key": "x2"})
    assert too_many.status == 422 and too_many.field_names() == ["hours"]
    assert balance_of(member_account(member=member)) == before - 400
    # somebody else's stay is not found
    assert (
        as_persona(driver("粤B8D6K2")).get(f"/parking/me/sessions/{session.pk}/quote").status == 404
    )


def test_http_ingest_needs_a_scoped_key_of_the_mall() -> None:
    ops_user = user("mall-ops-1")
    actor = actor_for_user(ops_user)
    mall_id = CarPark.objects.get(code=CP).mall_id
    _, secret = api_key_create(
        actor=actor, name="gate cameras", scopes=["parking:ingest"], shop_id=None, mall_id=mall_id
    )
    from agora.testing.personas import ApiClient

    device = ApiClient(api_key=secret)
    t0 = _weekday_morning()
    body = {"type": "plate", "car_park": CP, "gate": "E1", "event_id": "h1", "plate": "粤S88888"}
    ok = device.post("/parking/events", {**body, "at": t0.isoformat()})
    assert ok.status == 202 and ok.body["outcome"] == "applied"
    dup = device.post("/parking/events", {**body, "at": t0.isoformat()})
    assert dup.body["outcome"] == "duplicate"
    bad = device.post("/parking/events", {**body, "event_id": "h2", "at": "yesterday"})
    assert bad.status == 422 and bad.field_names() == ["at"]
    other = device.post(
        "/parking/events",
        {**body, "event_id": "h3", "car_park": "coco-park-p", "at": t0.isoformat()},
    )
    assert other.status == 422 and other.field_names() == ["car_park"]
    assert not ParkingEvent.objects.filter(event_id__in=["h2", "h3"]).exists()
    assert ParkingSession.objects.filter(plate="粤S88888").count() == 1
    shopper = as_persona(driver("粤B3N7Q8"))
    assert (
        shopper.post("/parking/events", {**body, "event_id": "h4", "at": t0.isoformat()}).status
        == 403
    )


def test_paging_by_app_and_sms_is_logged() -> None:
    plate_event("pg-in", "粤BF12345", timezone.now() - timedelta(hours=1))  # a demo shopper's car
    ops = as_persona("mall-ops-1")
    car_park = CarPark.objects.get(code=CP)
    answer = ops.post(
        f"/parking/ops/{car_park.pk}/pages", {"plate": "粤BF12345", "reason": "lights_on"}
    )
    assert answer.status == 201, answer.body
    assert sorted((d["channel"], d["status"]) for d in answer.body["deliveries"]) == [
        ("app", "sent"),
        ("sms", "sent"),
    ]
    assert LocmemSmsBackend.outbox == [
        (driver("粤BF12345"), "【Agora停车】" + answer.body["text"]),
    ]
    assert "粤BF12345" in answer.body["text"] and "车灯未关" in answer.body["text"]
    denied = as_persona("mall-ops-2").post(
        f"/parking/ops/{car_park.pk}/pages", {"plate": "粤BF12345", "reason": "lights_on"}
    )
    assert denied.status == 404
    assert PageDelivery.objects.count() == 2


def test_find_my_car_with_a_route() -> None:
    t0 = timezone.now() - timedelta(hours=1)
    space = _free_space()
    plate_event("fc-in", "粤S90909", t0)
    occupancy("fc-occ", space.code, True, t0 + timedelta(minutes=1), "粤S90909")
    from agora.district.models import Shop

    shop = Shop.objects.filter(mall__code="mixc", unit_links__zone__floor__level=1).first()
    assert shop is not None
    answer = anonymous().get(f"/parking/find?plate=粤S90909&origin=shop:{shop.pk}")
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["space"], body["level"], body["exact"]) == (space.code, "B1", True)
    route = body["route"]
    assert route["floors"][-1] == space.zone.floor_id
    assert route["destination"]
    missing = anonymous().get("/parking/find?plate=粤S00000")
    assert missing.status == 404


OPS_CALLS = [
    ("GET", "/parking/ops/{cp}/sessions", None),
    ("GET", "/parking/ops/{cp}/reviews", None),
    ("GET", "/parking/ops/{cp}/tariffs", None),
    ("GET", "/parking/ops/{cp}/pages", None),
    (
        "POST",
        "/parking/ops/{cp}/tariffs",
        {
            "valid_from": "2030-01-01T00:00:00+08:00",
            "free_minutes": 15,
            "unit_minutes": 60,
            "day_unit_fen": 500,
        },
    ),
    ("POST", "/parking/ops/{cp}/pages", {"plate": "粤S12121", "reason": "alarm"}),
]


@pytest.mark.parametrize("outsider", ["mall-ops-2", "gov", "13800000001"])
@pytest.mark.parametrize(("method", "path", "body"), OPS_CALLS)
def test_other_malls_and_government_see_no_car_park(
    outsider: str, method: str, path: str, body: Any
) -> None:
    from agora.parking.models import PageMessage, Tariff

    car_park = CarPark.objects.get(code=CP)
    before = (Tariff.objects.count(), PageMessage.objects.count())
    client = as_persona(outsider)
    missing = client.call(method, path.format(cp=999999), body)
    answer = client.call(method, path.format(cp=car_park.pk), body)
    assert (answer.status, answer.problem_code) == (missing.status, missing.problem_code)
    assert answer.status in (403, 404)
    assert (Tariff.objects.count(), PageMessage.objects.count()) == before
