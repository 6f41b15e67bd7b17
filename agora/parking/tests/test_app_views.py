"""The shopper's parking pages (agora/parking/views/app.py) through Django's test client on the
SMALL demo district: the parking home, a car park's page, find my car, paying by plate, my
vehicles (plates, frictionless, reservations, shared spaces) and the live parking strip of
the mall, life and kiosk pages.

Numbers are compared with what the selectors and services say; UI strings with their zh-Hans
translation as the running catalog has it (``zh``), so the tests hold before and after the
.po fragment is merged. Plates and phones here are used by no other test (粤B7K3xx, 1390000074x).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from agora.accounts.actor import Actor
from agora.accounts.models import User
from agora.checkout.models import Order, PaymentAgreement, SandboxTrade
from agora.checkout.services.sandbox import sandbox_pay
from agora.district.models import Floor, Shop
from agora.lib.money import format_fen
from agora.lib.timeutil import SHANGHAI
from agora.members.services.membership import member_ensure
from agora.navigation.selectors import default_district
from agora.parking.models import (
    CarPark,
    ParkingSession,
    Reservation,
    SessionDiscount,
    SessionPayment,
    Space,
    SpaceShare,
    Vehicle,
)
from agora.parking.selectors import availability_of, district_parking
from agora.parking.services import charging
from agora.parking.services.ingest import event_ingest
from agora.points.selectors import points_balance
from agora.points.services.ledger import points_adjust

pytestmark = pytest.mark.django_db

CP = "mixc-p"
SURFACE = "coco-park-p"
PLATE = "粤B7K301"  # parked by these tests only
OTHER_PLATE = "粤B7K302"
PHONE = "13900000741"
OTHER_PHONE = "13900000742"


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def text(response: Any) -> str:
    return str(response.content.decode())


def shopper(phone: str) -> User:
    return User.objects.create_user(username=f"pk{phone}", phone=phone)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def car_park(code: str = CP) -> CarPark:
    return CarPark.objects.get(code=code)


def park(plate: str, *, minutes_ago: int, space: str = "", tag: str = "t") -> ParkingSession:
    """A car drives in at mixc-p's entry (and onto ``space``), through the ingest path."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    result = event_ingest(
        payload={
            "event_id": f"pk-app-{tag}-in",
            "type": "plate",
            "car_park": CP,
            "gate": "E1",
            "plate": plate,
            "confidence": 0.98,
            "at": at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        },
        topic=None,
        via="simulator",
    )
    assert result.outcome == "applied", result
    if space:
        result = event_ingest(
            payload={
                "event_id": f"pk-app-{tag}-occ",
                "type": "occupancy",
                "car_park": CP,
                "space": space,
                "occupied": True,
                "plate": plate,
                "at": (at + timedelta(minutes=2)).astimezone(SHANGHAI).isoformat(),
            },
            topic=None,
            via="simulator",
        )
        assert result.outcome == "applied", result
    return ParkingSession.objects.get(car_park__code=CP, plate=plate, status="parked")


def free_space(kind: str = "standard") -> Space:
    space = (
        Space.objects.filter(car_park__code=CP, occupied=False, kind=kind, in_service=True)
        .order_by("code")
        .first()
    )
    assert space is not None
    return space


def local_input(when: datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def at_minute(when: datetime) -> datetime:
    return timezone.localtime(when).replace(second=0, microsecond=0)


# --- the parking home ---------------------------------------------------------------------
@pytest.mark.parametrize("who", ["anonymous", "shopper"])
def test_home_lists_every_car_park_with_its_free_spaces(who: str) -> None:
    client = signed_in(shopper(PHONE)) if who == "shopper" else Client()
    response = client.get("/parking/")
    body = text(response)
    assert response.status_code == 200
    rows = district_parking(district_id=default_district().pk)
    assert [r["car_park"] for r in rows] == [CP, SURFACE]
    for row in rows:
        a = availability_of(car_park_id=row["id"])
        assert row["free"] == a["free"]
        assert f'<strong class="pk-num" data-free="{row["car_park"]}">{a["free"]}</strong>' in body
        assert f'<span data-total="{row["car_park"]}">{a["total"]}</span>' in body
        assert f'<a class="pk-name" href="/parking/{row["car_park"]}/">{row["name"]}</a>' in body
        assert f'data-car-park="{row["car_park"]}" data-full="false"' in body
    # live: the district stream, from the version the page shows
    version = sum(r["version"] for r in rows)
    assert (
        f'data-parking-live="/parking/live/" data-event="district" data-version="{version}"' in body
    )
    assert '<script src="/static/parking/parking.js" defer></script>' in body
    assert 'data-overflow="' not in body  # nothing is full
    assert f"<h1>{zh('Parking')}</h1>" in body


def test_a_full_car_park_is_flagged_with_the_nearest_car_parks_with_room() -> None:
    mixc = car_park()
    Space.objects.filter(car_park=mixc).exclude(kind="reserved").update(occupied=True)
    a = availability_of(car_park_id=mixc.pk)
    assert a["free"] == 0 and a["full"] is True
    coco = availability_of(car_park_id=car_park(SURFACE).pk)
    assert a["overflow"] == [
        {
            "car_park": SURFACE,
            "name": coco["name"],
            "mall": coco["mall"],
            "free": coco["free"],
            "total": coco["total"],
            "distance_m": a["overflow"][0]["distance_m"],
            "latitude": a["overflow"][0]["latitude"],
            "longitude": a["overflow"][0]["longitude"],
        }
    ]
    for url in ("/parking/", f"/parking/{CP}/"):
        body = text(Client().get(url))
        assert f'<strong class="pk-num" data-free="{CP}">0</strong>' in body
        advice = re.search(
            rf'<div class="pk-overflow" role="note" data-overflow="{CP}">.*?</div>', body, re.S
        )
        assert advice is not None, url
        assert (
            f'<li data-overflow-to="{SURFACE}"><a href="/parking/{SURFACE}/">{coco["name"]}</a>'
            in (advice.group(0))
        )
        with translation.override("zh-hans"):
            line = translation.gettext("%(free)s free · %(distance)s m away") % {
                "free": coco["free"],
                "distance": a["overflow"][0]["distance_m"],
            }
        assert line in advice.group(0)
    assert f'data-car-park="{CP}" data-full="true"' in text(Client().get("/parking/"))


def test_search_by_kind_counts_free_spaces_per_car_park_and_zone() -> None:
    body = text(Client().get("/parking/", {"kind": "ev"}))
    assert 'data-section="kind-search" data-kind="ev"' in body
    for row in district_parking(district_id=default_district().pk):
        a = availability_of(car_park_id=row["id"])
        ev = a["kinds"]["ev"]
        assert (
            f'<strong class="pk-num" data-kind-result="{row["car_park"]}">{ev["free"]}</strong> / {ev["total"]}'
            in body
        )
    # mixc-p: its one zone on B1
    assert '<tr data-kind-zone="B1-A"><td>B1</td><td>B1 A区</td><td><strong>' in body
    # the refresh keeps the search
    assert 'data-refresh="/parking/?partial=1&amp;kind=ev" data-kind="ev"' in body
    # another value is no search (and no error)
    other = Client().get("/parking/", {"kind": "reserved"})
    assert other.status_code == 200
    assert 'data-section="kind-search"' not in text(other)


# --- one car park ------------------------------------------------------------------------------
def test_car_park_page_shows_free_spaces_by_level_zone_and_kind_and_the_plan() -> None:
    mixc = car_park()
    a = availability_of(car_park_id=mixc.pk)
    response = Client().get(f"/parking/{CP}/")
    body = text(response)
    assert response.status_code == 200
    assert f"<h1>{mixc.name}</h1>" in body
    assert f'<strong class="pk-num" data-free="{CP}">{a["free"]}</strong>' in body
    assert (
        f'data-parking-live="/parking/live/{CP}/" data-event="availability"\n'
        f'           data-version="{a["version"]}" data-refresh="/parking/{CP}/?partial=1"'
    ) in body
    [level] = a["levels"]
    assert f'<strong data-level-free="B1">{level["free"]}</strong> / {level["total"]}' in body
    for zone in a["zones"]:
        assert (
            f'<strong data-zone-free="{zone["code"]}">{zone["free"]}</strong> / {zone["total"]}'
            in body
        )
    for kind, counts in a["kinds"].items():
        assert (
            f'<strong data-kind-free="{kind}">{counts["free"]}</strong> / {counts["total"]}' in body
        )
    # the plan of B1: every space, coloured by its state
    spaces = Space.objects.filter(car_park=mixc)
    assert body.count('<rect class="pk-space') == spaces.count() == 44
    assert body.count('data-state="free"') == a["free"]
    assert body.count('data-state="occupied"') == spaces.filter(occupied=True).count()
    assert (
        body.count('data-state="private"') == spaces.filter(kind="reserved", occupied=False).count()
    )
    b1 = Floor.objects.get(mall__code="mixc", name="B1")
    assert f'<figure class="card pk-plan" data-plan-floor="{b1.pk}">' in body
    taken = spaces.filter(occupied=True).order_by("code").first()
    assert taken is not None
    assert f'data-space="{taken.code}" data-state="occupied" data-kind="{taken.kind}"' in body
    # the partial the live script fetches: no page around it
    partial = text(Client().get(f"/parking/{CP}/", {"partial": "1"}))
    assert "<html" not in partial
    assert f'data-free="{CP}">{a["free"]}<' in partial


def test_a_surface_lot_has_zones_but_no_plan_and_unknown_codes_are_404() -> None:
    a = availability_of(car_park_id=car_park(SURFACE).pk)
    body = text(Client().get(f"/parking/{SURFACE}/"))
    for zone in a["zones"]:
        assert f'<strong data-zone-free="{zone["code"]}">{zone["free"]}</strong>' in body
    assert "pk-plan-svg" not in body
    assert 'data-level-free="' not in body
    assert Client().get("/parking/no-such-car-park/").status_code == 404


# --- find my car -------------------------------------------------------------------------------
def test_find_my_car_shows_its_space_and_the_route_from_a_shop() -> None:
    space = free_space()
    session = park(PLATE, minutes_ago=40, space=space.code, tag="find")
    b1 = Floor.objects.get(mall__code="mixc", name="B1")
    shop = Shop.objects.filter(mall__code="mixc", status="open", units__floor__level=1).first()
    assert shop is not None
    # the plate as typed: lower case, with the middle dot
    response = Client().get("/parking/find/", {"plate": "粤b·7k301"})
    body = text(response)
    assert response.status_code == 200
    assert f'data-result="found" data-plate="{PLATE}"' in body
    assert f'<dd data-found="car-park">{session.car_park.name}</dd>' in body
    assert '<dd data-found="level">B1</dd>' in body
    assert '<dd data-found="zone">B1 A区</dd>' in body
    assert f'<strong class="pk-space-code" data-found="space">{space.code}</strong>' in body
    # the picker: guide screens, lift lobbies and the mall's shops
    assert '<select id="pk-from" name="from" data-field="from" required>' in body
    assert f'<option value="shop:{shop.pk}">{shop.name}</option>' in body
    assert '<option value="kiosk:mixc-1f">' in body
    assert 'id="route-steps"' not in body  # no start yet

    routed = text(Client().get("/parking/find/", {"plate": PLATE, "from": f"shop:{shop.pk}"}))
    assert f'<option value="shop:{shop.pk}" selected>{shop.name}</option>' in routed
    steps = re.findall(r'<li data-kind="(\w+)">([^<]+)</li>', routed)
    kinds = [k for k, _t in steps]
    assert kinds[0] == "start" and kinds[-1] == "arrive"
    down = [t for k, t in steps if k in ("stairs", "lift", "escalator")]
    assert down and all("B1" in t for t in down)
    with translation.override("zh-hans"):
        car = translation.gettext("Your car (%(space)s)") % {"space": space.code}
    assert car in steps[-1][1]
    # drawn with the navigation module's map partial: 1F then B1, the car marked on B1
    floors = re.findall(r'<section class="nav-floor" data-floor-id="(\d+)"', routed)
    assert floors[-1] == str(b1.pk) and len(floors) == 2
    b1_map = routed[routed.index(f'data-floor-id="{b1.pk}"') :]
    line = re.search(r'<polyline class="route-line" points="([^"]+)"/>', b1_map)
    assert line is not None and len(line.group(1).split()) >= 2
    assert '<text class="marker-label"' in b1_map and car in b1_map


def test_unknown_plate_says_so_and_shows_nothing_else() -> None:
    for plate in ("粤A99999", "not a plate"):
        response = Client().get("/parking/find/", {"plate": plate, "from": "kiosk:mixc-1f"})
        body = text(response)
        assert response.status_code == 200
        assert 'data-result="missing"' in body
        assert 'data-result="found"' not in body
        assert 'name="from" data-field="from"' not in body  # no picker
        assert 'id="route-steps"' not in body


def test_a_bad_start_is_a_message_not_a_500() -> None:
    park(PLATE, minutes_ago=30, space=free_space().code, tag="bad")
    response = Client().get("/parking/find/", {"plate": PLATE, "from": "shop:999999"})
    assert response.status_code == 200
    body = text(response)
    assert 'data-result="no-route"' in body
    assert 'id="route-steps"' not in body


def test_signed_in_shopper_picks_a_bound_plate() -> None:
    user = shopper(PHONE)
    Vehicle.objects.create(user=user, plate=OTHER_PLATE, created_at=timezone.now())
    body = text(signed_in(user).get("/parking/find/"))
    assert f'data-my-plate="{OTHER_PLATE}">{OTHER_PLATE}</a>' in body
    assert 'data-my-plate="' not in text(Client().get("/parking/find/"))


# --- paying ------------------------------------------------------------------------------------
def pay_page(client: Client, plate: str = PLATE) -> str:
    response = client.get("/parking/pay/", {"car_park": CP, "plate": plate})
    assert response.status_code == 200
    return text(response)


def test_pay_by_plate_then_leave_before_the_grace_time() -> None:
    session = park(PLATE, minutes_ago=95, tag="pay")
    client = Client()
    body = pay_page(client)
    quote = charging.session_quote(session=session)
    assert quote.due_fen > 0
    assert f'<dd data-pay="plate">{PLATE}</dd>' in body
    entered = timezone.localtime(session.entered_at).strftime("%Y-%m-%d %H:%M")
    assert f'<dd data-pay="entered">{entered}</dd>' in body
    assert f'<td class="num" data-pay="gross">{format_fen(quote.gross_fen)}</td>' in body
    assert f'<strong data-pay="due">{format_fen(quote.due_fen)}</strong>' in body
    assert 'data-pay-state="due"' in body
    key = re.search(r'<input type="hidden" name="key" value="([0-9a-f-]{36})">', body)
    assert key is not None

    form = {"action": "pay", "car_park": CP, "plate": PLATE, "key": key.group(1)}
    response = client.post("/parking/pay/", form)
    assert response.status_code == 303
    assert response["Location"] == "/parking/pay/?car_park=mixc-p&plate=%E7%B2%A4B7K301"
    payment = SessionPayment.objects.select_related("order").get(session=session)
    assert (payment.channel, payment.amount_fen, payment.paid) == ("app", quote.due_fen, False)
    assert payment.order.status == "pending"
    # the same form again: the same payment
    assert client.post("/parking/pay/", form).status_code == 303
    assert SessionPayment.objects.filter(session=session).count() == 1

    pending = pay_page(client)
    assert 'data-pay-state="pending"' in pending
    assert (
        f'<strong class="pk-amount" data-pay="pending-amount">{format_fen(quote.due_fen)}</strong>'
        in pending
    )
    link = re.search(
        r'<a class="button primary" href="([^"]+)" target="_blank" rel="noopener" data-link="pay-now">',
        pending,
    )
    assert link is not None and "/sandbox/pay/" in link.group(1)
    assert (
        'hx-get="/parking/pay/status/?car_park=mixc-p&amp;plate=%E7%B2%A4B7K301" hx-trigger="every 2s"'
        in pending
    )

    trade = SandboxTrade.objects.get(out_trade_no=payment.order.payments.get().number)
    assert link.group(1).rstrip("/").endswith(trade.token)
    sandbox_pay(token=trade.token, duplicate=False, late=False)
    session.refresh_from_db()
    assert session.paid_fen == quote.due_fen and session.pay_by is not None
    paid = pay_page(client)
    leave = timezone.localtime(session.pay_by).strftime("%H:%M")
    with translation.override("zh-hans"):
        words = translation.gettext("Paid: please leave before %(time)s") % {"time": leave}
    assert f'<h2 class="pk-ok" data-pay="paid">{words}</h2>' in paid
    # the status poll says the same
    status = text(client.get("/parking/pay/status/", {"car_park": CP, "plate": PLATE}))
    assert "<html" not in status and 'data-pay-state="paid"' in status

    # paying again within the grace time is refused, and nothing is charged twice
    again = client.post("/parking/pay/", {**form, "key": "another-key"})
    assert again.status_code == 409
    assert zh("Nothing to pay now.") in text(again)
    assert SessionPayment.objects.filter(session=session).count() == 1


def test_pay_page_for_an_unknown_plate_or_car_park() -> None:
    orders = Order.objects.count()
    for params in ({"car_park": CP, "plate": "粤A99999"}, {"car_park": "nope", "plate": PLATE}):
        body = text(Client().get("/parking/pay/", params))
        assert 'data-result="missing"' in body
        assert "data-pay-state" not in body
    response = Client().post(
        "/parking/pay/", {"action": "pay", "car_park": CP, "plate": "粤A99999", "key": "k1"}
    )
    assert response.status_code == 404
    assert Order.objects.count() == orders
    # the empty form
    body = text(Client().get("/parking/pay/"))
    assert '<select id="pk-car-park" name="car_park" data-field="car_park">' in body


def test_coupons_and_points_only_for_the_plates_member() -> None:
    session = park(PLATE, minutes_ago=200, tag="perk")
    owner = shopper(PHONE)
    owner_client = signed_in(owner)
    assert owner_client.post("/parking/me/vehicles/", {"plate": PLATE}).status_code == 303
    session.refresh_from_db()
    assert session.user_id == owner.pk  # binding claims the car parked now
    member = member_ensure(user=owner, district_id=default_district().pk)
    admin = Actor(user=User.objects.get(username="admin"), is_admin=True)
    points_adjust(
        actor=admin, member=member, points=1000, reason="测试", mall_id=None, key="pk-app-pts"
    )

    # strangers: anonymous and another shopper see no tools and are refused
    assert 'data-section="member"' not in pay_page(Client())
    stranger = signed_in(shopper(OTHER_PHONE))
    assert 'data-section="member"' not in pay_page(stranger)
    for client in (Client(), stranger):
        response = client.post(
            "/parking/pay/",
            {"action": "points", "car_park": CP, "plate": PLATE, "hours": "1", "key": "x"},
        )
        assert response.status_code == 403
    assert SessionDiscount.objects.filter(session=session).count() == 0
    assert points_balance(member=member) == 1000

    body = pay_page(owner_client)
    assert 'data-section="member"' in body
    assert '<select id="pk-hours" name="hours" data-field="hours">' in body
    form = {"action": "points", "car_park": CP, "plate": PLATE, "hours": "1", "key": "pk-key-1"}
    assert owner_client.post("/parking/pay/", form).status_code == 303
    assert owner_client.post("/parking/pay/", form).status_code == 303  # the same key: once
    discount = SessionDiscount.objects.get(session=session)
    assert (discount.kind, discount.minutes, discount.points) == ("points", 60, 200)
    assert points_balance(member=member) == 800
    # more hours than the car park allows: said next to the field, nothing spent
    too_many = owner_client.post("/parking/pay/", {**form, "hours": "9", "key": "pk-key-2"})
    assert too_many.status_code == 400
    assert 'data-error-for="hours"' in text(too_many)
    assert SessionDiscount.objects.filter(session=session).count() == 1
    assert points_balance(member=member) == 800
    assert 'data-discount="points"' in pay_page(owner_client)


# --- my vehicles -------------------------------------------------------------------------------
def test_my_vehicles_needs_sign_in() -> None:
    response = Client().get("/parking/me/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/parking/me/"
    posted = Client().post("/parking/me/vehicles/", {"plate": PLATE})
    assert posted.status_code == 302 and posted["Location"] == "/login/?next=/parking/me/"
    assert not Vehicle.objects.filter(plate=PLATE).exists()


def test_bind_unbind_and_frictionless() -> None:
    user = shopper(PHONE)
    client = signed_in(user)
    assert client.get("/parking/me/").status_code == 200
    response = client.post("/parking/me/vehicles/", {"plate": "粤b·7k301", "colour": "green"})
    assert response.status_code == 303
    assert response["Location"] == "/parking/me/#vehicles"
    vehicle = Vehicle.objects.get(user=user)
    assert (vehicle.plate, vehicle.colour, vehicle.agreement_id) == (PLATE, "green", None)
    body = text(client.get("/parking/me/"))
    assert f'<li class="pk-vehicle" data-vehicle="{PLATE}" data-frictionless="off">' in body

    # a bad plate: said next to the field, nothing bound
    bad = client.post("/parking/me/vehicles/", {"plate": "ABC123"})
    assert bad.status_code == 400
    assert (
        f'<p class="pk-error" role="alert" data-error-for="plate">{zh("Enter a plate such as 粤B12345.")}</p>'
        in text(bad)
    )
    assert Vehicle.objects.filter(user=user).count() == 1

    # frictionless on: a sandbox agreement is signed and attached; off: detached
    on = client.post(f"/parking/me/vehicles/{vehicle.pk}/frictionless/", {"on": "1"})
    assert on.status_code == 303
    vehicle.refresh_from_db()
    agreement = PaymentAgreement.objects.get(user=user)
    assert (agreement.method, agreement.active, vehicle.agreement_id) == (
        "wechat",
        True,
        agreement.pk,
    )
    assert 'data-frictionless="on"' in text(client.get("/parking/me/"))
    assert (
        client.post(f"/parking/me/vehicles/{vehicle.pk}/frictionless/", {"on": "0"}).status_code
        == 303
    )
    vehicle.refresh_from_db()
    assert vehicle.agreement_id is None

    # someone else's vehicle: not found, nothing changes
    other = signed_in(shopper(OTHER_PHONE))
    assert other.post(f"/parking/me/vehicles/{vehicle.pk}/unbind/").status_code == 404
    assert (
        other.post(f"/parking/me/vehicles/{vehicle.pk}/frictionless/", {"on": "1"}).status_code
        == 404
    )
    vehicle.refresh_from_db()
    assert vehicle.agreement_id is None

    assert client.post(f"/parking/me/vehicles/{vehicle.pk}/unbind/").status_code == 303
    assert not Vehicle.objects.filter(user=user).exists()


def test_my_stays_link_to_paying_and_finding() -> None:
    user = shopper(PHONE)
    Vehicle.objects.create(user=user, plate=PLATE, created_at=timezone.now())
    space = free_space()
    park(PLATE, minutes_ago=50, space=space.code, tag="stay")
    body = text(signed_in(user).get("/parking/me/"))
    assert f'<li class="pk-stay-row" data-stay="{PLATE}">' in body
    assert 'href="/parking/pay/?car_park=mixc-p&amp;plate=%E7%B2%A4B7K301" data-link="pay"' in body
    assert 'href="/parking/find/?plate=%E7%B2%A4B7K301" data-link="find"' in body


def test_reserve_a_space_and_cancel_it() -> None:
    user = shopper(PHONE)
    client = signed_in(user)
    start = timezone.now() + timedelta(hours=1)
    form = {
        "car_park": CP,
        "kind": "ev",
        "plate": PLATE,
        "starts_at": local_input(start),
        "hours": "2",
        "key": "pk-res-1",
    }
    response = client.post("/parking/me/reservations/", form)
    assert response.status_code == 303
    assert response["Location"] == "/parking/me/#reservations"
    reservation = Reservation.objects.select_related("space", "car_park").get(user=user)
    assert (
        reservation.car_park.code,
        reservation.space.kind,
        reservation.plate,
        reservation.status,
        reservation.starts_at,
        reservation.ends_at,
        reservation.price_fen,
        reservation.key,
    ) == (
        CP,
        "ev",
        PLATE,
        "booked",
        at_minute(start),
        at_minute(start) + timedelta(hours=2),
        0,
        f"{user.pk}:pk-res-1",
    )
    assert client.post("/parking/me/reservations/", form).status_code == 303  # same key: once
    assert Reservation.objects.filter(user=user).count() == 1
    body = text(client.get("/parking/me/"))
    assert (
        f'<li class="pk-reservation" data-reservation="{reservation.pk}" data-status="booked">'
        in body
    )

    # in the past, or a bad plate: said next to the field, nothing booked
    past = client.post(
        "/parking/me/reservations/",
        {
            **form,
            "starts_at": local_input(timezone.now() - timedelta(hours=2)),
            "plate": "x",
            "key": "k2",
        },
    )
    assert past.status_code == 400
    page = text(past)
    assert 'data-error-for="starts_at"' in page and 'data-error-for="plate"' in page
    assert Reservation.objects.filter(user=user).count() == 1

    # someone else cannot cancel it
    other = signed_in(shopper(OTHER_PHONE))
    assert other.post(f"/parking/me/reservations/{reservation.pk}/cancel/").status_code == 404
    reservation.refresh_from_db()
    assert reservation.status == "booked"

    assert client.post(f"/parking/me/reservations/{reservation.pk}/cancel/").status_code == 303
    reservation.refresh_from_db()
    assert reservation.status == "cancelled"
    twice = client.post(f"/parking/me/reservations/{reservation.pk}/cancel/")
    assert twice.status_code == 409
    assert zh("This reservation can no longer be cancelled.") in text(twice)


def test_share_idle_hours_and_book_them() -> None:
    owner = shopper(PHONE)
    space = (
        Space.objects.filter(car_park__code=CP, kind="reserved", owner__isnull=True)
        .order_by("code")
        .first()
    )
    assert space is not None
    Space.objects.filter(pk=space.pk).update(owner=owner)
    owner_client = signed_in(owner)
    body = text(owner_client.get("/parking/me/"))
    assert f'<option value="{space.pk}">' in body  # the publish form lists the owner's space
    tomorrow = (timezone.localtime() + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    publish = {
        "space_id": str(space.pk),
        "starts_at": local_input(tomorrow),
        "ends_at": local_input(tomorrow + timedelta(hours=4)),
        "price": "6",
    }
    assert owner_client.post("/parking/me/shares/", publish).status_code == 303
    share = SpaceShare.objects.get(space=space, owner=owner)
    assert (share.starts_at, share.ends_at, share.price_fen_per_hour, share.withdrawn) == (
        tomorrow,
        tomorrow + timedelta(hours=4),
        600,
        False,
    )
    # a bad price: said next to the field, nothing shared
    bad = owner_client.post("/parking/me/shares/", {**publish, "price": "500"})
    assert bad.status_code == 400 and 'data-error-for="price"' in text(bad)
    assert SpaceShare.objects.filter(space=space).count() == 1

    booker = shopper(OTHER_PHONE)
    booker_client = signed_in(booker)
    page = text(booker_client.get("/parking/me/"))
    assert f'<li class="pk-share" data-share="{share.pk}">' in page
    booked = booker_client.post(
        "/parking/me/reservations/",
        {
            "share_id": str(share.pk),
            "plate": OTHER_PLATE,
            "starts_at": local_input(tomorrow + timedelta(hours=1)),
            "ends_at": local_input(tomorrow + timedelta(hours=3)),
            "key": "pk-share-1",
        },
    )
    assert booked.status_code == 303
    reservation = Reservation.objects.get(user=booker)
    assert (reservation.share_id, reservation.space_id, reservation.price_fen) == (
        share.pk,
        space.pk,
        1200,
    )

    # booked hours cannot be withdrawn
    refused = owner_client.post(f"/parking/me/shares/{share.pk}/withdraw/")
    assert refused.status_code == 409
    assert zh("Someone booked these hours: they cannot be withdrawn.") in text(refused)
    share.refresh_from_db()
    assert share.withdrawn is False
    assert (
        booker_client.post(f"/parking/me/reservations/{reservation.pk}/cancel/").status_code == 303
    )
    assert booker_client.post(f"/parking/me/shares/{share.pk}/withdraw/").status_code == 404
    assert owner_client.post(f"/parking/me/shares/{share.pk}/withdraw/").status_code == 303
    share.refresh_from_db()
    assert share.withdrawn is True


# --- the strip on the mall, life and kiosk pages ---------------------------------------------------
def test_mall_life_and_kiosk_pages_show_live_free_spaces_and_find_my_car() -> None:
    rows = {r["car_park"]: r for r in district_parking(district_id=default_district().pk)}
    version = sum(r["version"] for r in rows.values())
    live = f'<div class="pk-strip" data-parking-live="/parking/live/" data-event="district" data-version="{version}">'

    mall = text(Client().get("/m/mixc/"))
    section = re.search(
        r'<section class="app-section" data-section="parking">.*?</section>', mall, re.S
    )
    assert section is not None
    assert live in section.group(0)
    assert f'<strong class="pk-num" data-free="{CP}">{rows[CP]["free"]}</strong>' in section.group(
        0
    )
    assert f'data-free="{SURFACE}"' not in section.group(0)
    assert (
        '<a class="button pk-find-link" href="/parking/find/" data-parking-find>'
        in section.group(0)
    )
    assert 'data-placeholder="true"' not in section.group(0)
    # swapped into the home shell: it brings its script along
    part = text(Client().get("/m/mixc/", HTTP_HX_REQUEST="true"))
    assert '<script src="/static/parking/parking.js"></script>' in part

    life = text(Client().get("/life/"))
    for code, row in rows.items():
        assert f'<strong class="pk-num" data-free="{code}">{row["free"]}</strong>' in life
    assert life.count('<span class="badge soon" data-placeholder="true">') == 5  # the others stay

    kiosk = text(Client().get("/kiosk/mixc-1f/"))
    assert f'<strong class="pk-num" data-free="{CP}">{rows[CP]["free"]}</strong>' in kiosk
    assert 'href="/parking/find/?from=kiosk%3Amixc-1f" data-parking-find' in kiosk
    assert zh("Parking information coming soon") not in kiosk


def test_pages_are_chinese_first_and_english_on_the_switch() -> None:
    body = text(Client().get("/parking/find/"))
    assert f"<h1>{zh('Find my car')}</h1>" in body
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<h1>Find my car</h1>" in text(client.get("/parking/find/"))
