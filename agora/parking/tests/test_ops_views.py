"""The operators' parking pages, the gate displays and the government's overview through
Django's test client, on the SMALL demo district: who may open what (another mall's car park
is a 404 exactly like a missing one, and changes nothing), the review queue matched and
dismissed from the page, voiding a stay, publishing a tariff version with per-field errors,
paging a bound plate's owner (SMS in the test outbox), the analytics page and its CSV with
exact figures (the fixed day of ``test_analytics``), and the government page that shows no
plate and no money.

Stays are made through the device ingest with plates starting 粤S (the demo uses none)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from importlib.util import find_spec
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from agora.accounts.sms import LocmemSmsBackend
from agora.lib.timeutil import SHANGHAI
from agora.parking.choices import ReviewKind, ReviewStatus, SessionStatus
from agora.parking.models import (
    CarPark,
    PageDelivery,
    PageMessage,
    ParkingSession,
    ReviewItem,
    Tariff,
)
from agora.parking.plates import mask
from agora.parking.selectors import availability_of
from agora.parking.services.charging import session_quote
from agora.parking.services.shopper import vehicle_bind
from agora.parking.tests.test_analytics import (
    DAY1,
    at,
    build_scenario,
    expected_csv_rows,
    read,
)
from agora.testing.personas import user


def _served(name: str, urlconf: str | None = None) -> bool:
    try:
        reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return False
    return True


def _ops_urls_included() -> bool:
    return _served("parking-ops", urlconf="agora.urls")


# the pages under test (and the shopper's pay page the exit display links to), whether or not
# agora/urls.py includes them yet
urlpatterns = [path("", include("agora.urls"))]
if not _ops_urls_included():
    urlpatterns.append(path("", include("agora.parking.urls_ops")))
if not _served("parking-pay", urlconf="agora.urls") and find_spec("agora.parking.urls_app"):
    urlpatterns.append(path("", include("agora.parking.urls_app")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SHOPPER = "13800000001"


def as_user(login: str) -> Client:
    client = Client()
    client.force_login(user(login))
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def mixc() -> CarPark:
    return CarPark.objects.get(code="mixc-p")


def coco() -> CarPark:
    return CarPark.objects.get(code="coco-park-p")


def pages_of(cp_id: int) -> list[str]:
    return [
        f"/ops/parking/{cp_id}/",
        f"/ops/parking/{cp_id}/tariffs/",
        f"/ops/parking/{cp_id}/paging/",
        f"/ops/parking/{cp_id}/analytics/",
        f"/ops/parking/{cp_id}/analytics.csv",
    ]


def ambiguous_review() -> tuple[ReviewItem, ParkingSession, ParkingSession]:
    """Two stays 粤S20001 (08:00) and 粤S20007 (08:30); an exit read 粤S20004 at 10:00 could be
    either (one character off): the read waits for an operator."""
    assert read("E1", "粤S20001", at(DAY1, 8), "t-ov-r1-in") == "applied"
    assert read("E1", "粤S20007", at(DAY1, 8, 30), "t-ov-r2-in") == "applied"
    assert read("X1", "粤S20004", at(DAY1, 10), "t-ov-r-out") == "review"
    review = ReviewItem.objects.get(plate="粤S20004")
    assert review.kind == ReviewKind.AMBIGUOUS
    first = ParkingSession.objects.get(plate="粤S20001")
    second = ParkingSession.objects.get(plate="粤S20007")
    assert sorted(c[0] for c in review.candidates) == sorted([first.pk, second.pk])
    return review, first, second


# --- who may open what -------------------------------------------------------------------------
def test_anonymous_visitors_go_to_the_staff_sign_in() -> None:
    for url in ["/ops/parking/", *pages_of(mixc().pk), "/gov/parking/"]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/staff/login/"), url


def test_another_malls_car_park_is_a_404_like_a_missing_one() -> None:
    own, other = mixc(), coco()
    client = as_user("mall-ops-1")
    for url in pages_of(own.pk):
        assert client.get(url).status_code == 200, url
    missing = max(CarPark.objects.values_list("id", flat=True)) + 1000
    for theirs, nothing in zip(pages_of(other.pk), pages_of(missing), strict=True):
        assert client.get(theirs).status_code == 404, theirs
        assert client.get(nothing).status_code == 404, nothing
    assert client.get(f"/ops/parking/?car_park={other.pk}").status_code == 404
    assert as_user("mall-ops-2").get(pages_of(own.pk)[0]).status_code == 404
    # a district operator and an admin run both
    for login in ("district-ops", "admin"):
        for cp in (own, other):
            assert as_user(login).get(f"/ops/parking/{cp.pk}/").status_code == 200


def test_ops_home_goes_to_the_first_car_park_and_picks_another() -> None:
    response = as_user("mall-ops-2").get("/ops/parking/")
    assert (response.status_code, response["Location"]) == (302, f"/ops/parking/{coco().pk}/")
    picked = as_user("district-ops").get(f"/ops/parking/?car_park={coco().pk}")
    assert picked["Location"] == f"/ops/parking/{coco().pk}/"
    page = text(as_user("district-ops").get(f"/ops/parking/{mixc().pk}/"))
    assert 'data-testid="car-park-pick"' in page
    assert 'data-testid="car-park-pick"' not in text(
        as_user("mall-ops-1").get(f"/ops/parking/{mixc().pk}/")
    )


@pytest.mark.parametrize("login", ["shop-owner-1", "gov", SHOPPER])
def test_people_who_operate_nothing_get_403_and_404(login: str) -> None:
    client = as_user(login)
    assert client.get("/ops/parking/").status_code == 403
    for url in pages_of(mixc().pk):
        assert client.get(url).status_code == 404, url


# --- now: availability, stays, review queue ---------------------------------------------------
def test_live_page_shows_free_spaces_stays_and_fees() -> None:
    s = build_scenario()
    page = text(as_user("mall-ops-1").get(f"/ops/parking/{s.car_park.pk}/"))
    live = availability_of(car_park_id=s.car_park.pk)
    assert f'data-live-url="/parking/live/mixc-p/" data-version="{live["version"]}"' in page
    assert (
        f"<span data-free>{live['free']}</span> / <span data-total>{live['total']}</span>" in page
    )
    open_count = ParkingSession.objects.filter(
        car_park=s.car_park, status__in=[SessionStatus.PARKED, SessionStatus.AWAITING_PAYMENT]
    ).count()
    assert (
        f'<span class="num" id="stays-total" data-testid="stays-total">{open_count}</span>' in page
    )
    # D waits at the exit: 23:30–00:30, four night units of 0.50
    row = re.search(
        rf'<tr id="stay-{s.d.pk}" data-stay="{s.d.pk}" data-status="awaiting_payment">(.*?)</tr>',
        page,
        re.S,
    )
    assert row is not None
    assert '<span class="plate" data-plate>粤S10004</span>' in row.group(1)
    assert "<td data-where>B1</td>" in row.group(1)
    assert 'data-fee="200">¥2.00<' in row.group(1)
    assert 'data-due="200">¥2.00<' in row.group(1)
    assert f'data-stay="{s.e.pk}" data-status="parked"' in page
    for gone in (s.a, s.b, s.c):  # left: not in the car park
        assert f'data-stay="{gone.pk}"' not in page
    # the unmatched exit read is in the queue with no candidate
    review = ReviewItem.objects.get(plate="粤S19999")
    assert f'data-review="{review.pk}" data-kind="exit_without_entry"' in page
    assert '<span class="plate" data-read-plate>粤S19999</span>' in page


def test_a_stay_parked_now_shows_its_fee_so_far() -> None:
    entered = timezone.now() - timedelta(hours=2, minutes=7, seconds=30)
    assert read("E1", "粤S40001", entered.astimezone(SHANGHAI), "t-ov-now-in") == "applied"
    page = text(as_user("mall-ops-1").get(f"/ops/parking/{mixc().pk}/"))
    session = ParkingSession.objects.get(plate="粤S40001")
    quote = session_quote(session=session)
    assert quote.fee.total_fen > 0
    match = re.search(
        rf'data-stay="{session.pk}".*?data-fee="(\d+)".*?data-due="(\d+)"', page, re.S
    )
    assert match is not None
    assert (int(match.group(1)), int(match.group(2))) == (quote.fee.total_fen, quote.due_fen)


def test_matching_a_review_from_the_page_closes_the_stay_with_its_fee() -> None:
    review, first, second = ambiguous_review()
    client = as_user("mall-ops-1")
    page = text(client.get(f"/ops/parking/{mixc().pk}/"))
    assert f'data-testid="match-{review.pk}-{first.pk}"' in page
    assert f'data-testid="match-{review.pk}-{second.pk}"' in page
    assert page.count('<span class="badge" data-score>') >= 2
    response = client.post(
        f"/ops/parking/{mixc().pk}/reviews/{review.pk}/match/", {"session_id": first.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/ops/parking/{mixc().pk}/#reviews"
    first.refresh_from_db()
    review.refresh_from_db()
    # 08:00–10:00: eight 15-minute day units of 2.00; no member, so it waits to pay by QR
    assert (first.status, first.fee_fen, first.exit_plate) == (
        SessionStatus.AWAITING_PAYMENT,
        1600,
        "粤S20004",
    )
    assert first.exited_at == at(DAY1, 10)
    assert first.exit_gate is not None and first.exit_gate.code == "X1"
    assert (review.status, review.session_id) == (ReviewStatus.MATCHED, first.pk)
    second.refresh_from_db()
    assert (second.status, second.exited_at) == (SessionStatus.PARKED, None)
    after = text(client.get(response["Location"]))
    assert f'data-review="{review.pk}"' not in after
    assert "粤S20001" in after and "¥16.00" in after  # the success message


def test_matching_by_plate_and_the_mistakes_it_refuses() -> None:
    assert read("E1", "粤S20011", at(DAY1, 8), "t-ov-p-in") == "applied"
    assert read("X1", "", at(DAY1, 9), "t-ov-p-out") == "review"  # unreadable
    review = ReviewItem.objects.get(event__event_id="t-ov-p-out")
    client = as_user("mall-ops-1")
    url = f"/ops/parking/{mixc().pk}/reviews/{review.pk}/match/"
    nobody = client.post(url, {"plate": "粤S29999"})
    assert nobody.status_code == 400
    assert 'data-testid="review-error"' in text(nobody)
    empty = client.post(url, {})
    assert empty.status_code == 400
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN
    done = client.post(url, {"plate": "粤s 20011"})
    assert done.status_code == 302
    session = ParkingSession.objects.get(plate="粤S20011")
    assert (session.status, session.fee_fen) == (SessionStatus.AWAITING_PAYMENT, 800)
    again = client.post(url, {"plate": "粤S20011"})
    assert again.status_code == 400  # resolved: said on the page, nothing changes
    assert 'data-testid="page-error"' in text(again)


def test_other_mall_cannot_match_dismiss_or_void() -> None:
    review, first, _second = ambiguous_review()
    intruder = as_user("mall-ops-2")
    urls = [
        (f"/ops/parking/{mixc().pk}/reviews/{review.pk}/match/", {"session_id": first.pk}),
        (f"/ops/parking/{coco().pk}/reviews/{review.pk}/match/", {"session_id": first.pk}),
        (f"/ops/parking/{mixc().pk}/reviews/{review.pk}/dismiss/", {"note": "误识别"}),
        (f"/ops/parking/{coco().pk}/reviews/{review.pk}/dismiss/", {"note": "误识别"}),
        (f"/ops/parking/{mixc().pk}/stays/{first.pk}/void/", {"note": "幽灵车"}),
        (f"/ops/parking/{coco().pk}/stays/{first.pk}/void/", {"note": "幽灵车"}),
    ]
    for url, data in urls:
        assert intruder.post(url, data).status_code == 404, url
    review.refresh_from_db()
    first.refresh_from_db()
    assert (review.status, review.session_id, review.note) == (ReviewStatus.OPEN, None, "")
    assert (first.status, first.exited_at, first.note) == (SessionStatus.PARKED, None, "")


def test_dismissing_needs_a_note() -> None:
    review, _first, _second = ambiguous_review()
    client = as_user("district-ops")
    url = f"/ops/parking/{mixc().pk}/reviews/{review.pk}/dismiss/"
    refused = client.post(url, {"note": "  "})
    assert refused.status_code == 400
    assert re.search(
        rf'data-review="{review.pk}".*?data-testid="review-error"', text(refused), re.S
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN
    assert client.post(url, {"note": "车辆倒车，重复识别"}).status_code == 302
    review.refresh_from_db()
    assert (review.status, review.note, review.resolved_by) == (
        ReviewStatus.DISMISSED,
        "车辆倒车，重复识别",
        user("district-ops"),
    )
    twice = client.post(url, {"note": "again"})
    assert twice.status_code == 400
    assert 'data-testid="page-error"' in text(twice)


def test_voiding_a_stay() -> None:
    assert read("E1", "粤S20021", at(DAY1, 8), "t-ov-v-in") == "applied"
    session = ParkingSession.objects.get(plate="粤S20021")
    client = as_user("mall-ops-1")
    url = f"/ops/parking/{mixc().pk}/stays/{session.pk}/void/"
    refused = client.post(url, {"note": ""})
    assert refused.status_code == 400
    assert re.search(rf'data-stay="{session.pk}".*?data-testid="void-error"', text(refused), re.S)
    session.refresh_from_db()
    assert session.status == SessionStatus.PARKED
    assert client.post(url, {"note": "幽灵车牌"}).status_code == 302
    session.refresh_from_db()
    assert (session.status, session.note) == (SessionStatus.VOIDED, "幽灵车牌")
    assert f'data-stay="{session.pk}"' not in text(client.get(f"/ops/parking/{mixc().pk}/"))


# --- tariffs ----------------------------------------------------------------------------------
def tariff_form(**overrides: str) -> dict[str, str]:
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT00:00")
    data = {
        "valid_from": tomorrow,
        "free_minutes": "20",
        "unit_minutes": "30",
        "day_unit": "5.50",
        "day_cap": "60",
        "night_start": "22:00",
        "night_end": "07:00",
        "night_unit": "1",
        "night_cap": "10",
        "holiday_unit": "",
        "holiday_cap": "",
        "note": "节后调价",
    }
    data.update(overrides)
    return data


def test_publishing_a_tariff_version() -> None:
    cp = mixc()
    client = as_user("mall-ops-1")
    page = text(client.get(f"/ops/parking/{cp.pk}/tariffs/"))
    assert '<tr data-version="1" data-in-force="1">' in page
    response = client.post(f"/ops/parking/{cp.pk}/tariffs/", tariff_form())
    assert response.status_code == 302
    new = Tariff.objects.get(car_park=cp, version=2)
    assert (
        new.free_minutes,
        new.unit_minutes,
        new.day_unit_fen,
        new.day_cap_fen,
        new.night_unit_fen,
        new.night_cap_fen,
        new.holiday_unit_fen,
        new.note,
        new.created_by,
    ) == (20, 30, 550, 6000, 100, 1000, 0, "节后调价", user("mall-ops-1"))
    assert new.valid_from.astimezone(SHANGHAI).strftime("%H:%M") == "00:00"
    listed = text(client.get(response["Location"]))
    assert '<tr data-version="2">' in listed  # upcoming, not in force yet
    assert '<tr data-version="1" data-in-force="1">' in listed
    assert '<td class="num-cell" data-day-unit="550">¥5.50</td>' in listed
    old = Tariff.objects.get(car_park=cp, version=1)
    assert (old.day_unit_fen, old.free_minutes) == (200, 15)  # never edited


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"unit_minutes": "0", "day_unit": ""}, ["unit_minutes", "day_unit"]),
        ({"valid_from": "2020-01-01T00:00"}, ["valid_from"]),
        ({"night_end": ""}, ["night_end"]),
    ],
)
def test_tariff_errors_are_shown_per_field(overrides: dict[str, str], fields: list[str]) -> None:
    cp = mixc()
    response = as_user("mall-ops-1").post(
        f"/ops/parking/{cp.pk}/tariffs/", tariff_form(**overrides)
    )
    assert response.status_code == 400
    page = text(response)
    shown = re.findall(r'<div class="field has-error" data-field="(\w+)">', page)
    assert shown == fields
    assert Tariff.objects.filter(car_park=cp).count() == 1


def test_other_mall_cannot_publish() -> None:
    response = as_user("mall-ops-2").post(f"/ops/parking/{mixc().pk}/tariffs/", tariff_form())
    assert response.status_code == 404
    assert Tariff.objects.filter(car_park=mixc()).count() == 1


# --- paging -----------------------------------------------------------------------------------
def test_paging_a_bound_plate_sends_an_sms_and_logs_each_delivery() -> None:
    shopper = user(SHOPPER)
    vehicle_bind(user=shopper, plate="粤S30001")
    assert read("E1", "粤S30001", at(DAY1, 8), "t-ov-pg-in") == "applied"
    client = as_user("mall-ops-1")
    response = client.post(
        f"/ops/parking/{mixc().pk}/paging/",
        {"plate": "粤S30001", "reason": "lights_on", "text": ""},
    )
    assert response.status_code == 302
    page = PageMessage.objects.get(plate="粤S30001")
    assert (page.reason, page.sent_by) == ("lights_on", user("mall-ops-1"))
    assert LocmemSmsBackend.outbox == [(SHOPPER, f"【Agora停车】{page.text}")]
    assert "粤S30001" in page.text
    deliveries = {d.channel: d for d in PageDelivery.objects.filter(page=page)}
    assert deliveries["sms"].address == "138****0001"
    assert deliveries["sms"].status == "sent"
    log = text(client.get(response["Location"]))
    assert f'<tr data-page="{page.pk}">' in log
    assert re.search(
        r'<li data-delivery="sms" data-status="sent">.*?<code data-address>138\*\*\*\*0001</code>',
        log,
        re.S,
    )
    assert '<li data-delivery="app" data-status="sent">' in log


def test_paging_an_unbound_plate_is_logged_without_delivery() -> None:
    client = as_user("mall-ops-1")
    response = client.post(
        f"/ops/parking/{mixc().pk}/paging/", {"plate": "粤S30002", "reason": "blocking"}
    )
    assert response.status_code == 302
    page = PageMessage.objects.get(plate="粤S30002")
    assert not page.deliveries.exists()
    assert LocmemSmsBackend.outbox == []
    assert 'data-delivery="none"' in text(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"plate": "ABC", "reason": "alarm"}, "plate"),
        ({"plate": "粤S30001", "reason": "other", "text": ""}, "text"),
        ({"plate": "粤S30001", "reason": "party"}, "reason"),
    ],
)
def test_paging_mistakes_are_shown_per_field(data: dict[str, str], field: str) -> None:
    response = as_user("mall-ops-1").post(f"/ops/parking/{mixc().pk}/paging/", data)
    assert response.status_code == 400
    assert re.findall(r'<div class="field has-error" data-field="(\w+)">', text(response)) == [
        field
    ]
    assert not PageMessage.objects.exists()


def test_other_mall_cannot_page() -> None:
    vehicle_bind(user=user(SHOPPER), plate="粤S30001")
    response = as_user("mall-ops-2").post(
        f"/ops/parking/{mixc().pk}/paging/", {"plate": "粤S30001", "reason": "alarm"}
    )
    assert response.status_code == 404
    assert not PageMessage.objects.exists()
    assert LocmemSmsBackend.outbox == []


# --- analytics --------------------------------------------------------------------------------
def test_analytics_page_shows_the_days_figures() -> None:
    s = build_scenario()
    response = as_user("mall-ops-1").get(
        f"/ops/parking/{s.car_park.pk}/analytics/", {"from": "2026-06-09", "to": "2026-06-09"}
    )
    assert response.status_code == 200
    page = text(response)
    figures = dict(re.findall(r'data-figure="([\w-]+)"(?: data-fen="\d+")?>([^<]*)<', page))
    assert {
        k: figures[k]
        for k in (
            "capacity",
            "entries",
            "exits",
            "turnover",
            "stay-avg",
            "stay-median",
            "revenue",
            "reviews-open",
        )
    } == {
        "capacity": "44",
        "entries": "4",
        "exits": "3",
        "turnover": "0.09",
        "stay-avg": "113.3",
        "stay-median": "120.0",
        "revenue": "¥28.00",
        "reviews-open": "1",
    }
    ten = re.search(r'<tr data-hour="10">(.*?)</tr>', page, re.S)
    assert ten is not None
    cells = re.findall(r"data-(avg|avg-pct|peak|peak-pct)>([^<]*)<", ten.group(1))
    assert cells == [("avg", "2.17"), ("avg-pct", "4.9%"), ("peak", "3"), ("peak-pct", "6.8%")]
    assert '<td class="num-cell" data-channel="app" data-fen="400">¥4.00</td>' in page
    assert '<td class="num-cell" data-channel="exit_qr" data-fen="1600">¥16.00</td>' in page
    assert '<td class="num-cell" data-channel="frictionless" data-fen="800">¥8.00</td>' in page
    tier = re.search(r'<tr data-discount="tier">(.*?)</tr>', page, re.S)
    assert tier is not None
    assert re.findall(r"data-(count|minutes)>(\d+)<", tier.group(1)) == [
        ("count", "1"),
        ("minutes", "120"),
    ]
    assert re.findall(r'data-peak-hour="(\d+)"', page) == ["10", "9", "11"]
    assert 'data-chart="occupancy"' in page and 'id="parking-charts"' in page
    assert "parking/vendor/echarts/echarts.min.js" in page
    assert "?from=2026-06-09&amp;to=2026-06-09" in page  # the CSV link keeps the range


def test_analytics_defaults_to_the_last_seven_days_and_refuses_bad_ranges() -> None:
    client = as_user("mall-ops-1")
    url = f"/ops/parking/{mixc().pk}/analytics/"
    today = timezone.localdate()
    page = text(client.get(url))
    assert f'name="from" value="{(today - timedelta(days=6)).isoformat()}"' in page
    assert f'name="to" value="{today.isoformat()}"' in page
    bad = client.get(url, {"from": "2026-06-10", "to": "2026-06-01"})
    assert bad.status_code == 400
    assert 'data-testid="range-error"' in text(bad)
    csv_bad = client.get(f"/ops/parking/{mixc().pk}/analytics.csv", {"from": "x"})
    assert csv_bad.status_code == 400


def test_analytics_csv_is_exact_with_a_bom() -> None:
    s = build_scenario()
    response = as_user("mall-ops-1").get(
        f"/ops/parking/{s.car_park.pk}/analytics.csv", {"from": "2026-06-09", "to": "2026-06-09"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="parking-mixc-p-20260609-20260609.csv"'
    )
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == expected_csv_rows()


# --- gate displays ----------------------------------------------------------------------------
def test_entry_gate_shows_free_spaces_per_level() -> None:
    live = availability_of(car_park_id=mixc().pk)
    page = text(Client().get("/parking/gate/mixc-p/E1/"))
    assert 'data-live-url="/parking/live/mixc-p/"' in page
    assert 'data-full="0"' in page
    assert f'data-testid="gate-free">{live["free"]}</div>' in page
    (level,) = live["levels"]
    assert (
        f'<li data-level="B1" data-zero="0">B1 <strong data-level-free data-testid="gate-level-free">{level["free"]}</strong></li>'
        in page
    )


def test_entry_gate_of_a_full_car_park_sends_cars_elsewhere() -> None:
    CarPark.objects.filter(code="coco-park-p").update(full_threshold_pct=50)
    page = text(Client().get("/parking/gate/coco-park-p/E1/"))
    assert re.search(r'id="gate-board"[^>]*data-full="1"', page)
    match = re.search(r'<li data-overflow-car-park="mixc-p">(.*?)</li>', page, re.S)
    assert match is not None
    overflow = availability_of(car_park_id=coco().pk)["overflow"]
    assert [o["car_park"] for o in overflow] == ["mixc-p"]
    assert str(overflow[0]["free"]) in match.group(1)
    assert str(overflow[0]["distance_m"]) in match.group(1)


def test_exit_gate_shows_the_last_car_masked_and_its_fee() -> None:
    now = timezone.now()
    idle = text(Client().get("/parking/gate/mixc-p/X1/last/"))
    assert 'data-state="idle"' in idle
    assert (
        read(
            "E1",
            "粤S50001",
            (now - timedelta(hours=1, minutes=7)).astimezone(SHANGHAI),
            "t-ov-g-in",
        )
        == "applied"
    )
    assert (
        read("X1", "粤S50001", (now - timedelta(minutes=1)).astimezone(SHANGHAI), "t-ov-g-out")
        == "applied"
    )
    session = ParkingSession.objects.get(plate="粤S50001")
    assert session.status == SessionStatus.AWAITING_PAYMENT
    due = session_quote(session=session).due_fen
    for url in ("/parking/gate/mixc-p/X1/", "/parking/gate/mixc-p/X1/last/"):
        page = text(Client().get(url))
        assert f'data-state="pay" data-session="{session.pk}"' in page
        assert f'<div class="g-plate" data-testid="gate-plate">{mask("粤S50001")}</div>' in page
        assert "粤S50001" not in page
        assert f'data-testid="gate-due" data-fen="{due}"' in page
        # a QR code of the shopper's pay page for this car, where that page is served
        assert ('data-testid="gate-qr"' in page) == _served("parking-pay")
    # a car that may leave (paid, free, frictionless): 一路顺风
    assert (
        read("E1", "粤S50002", (now - timedelta(minutes=10)).astimezone(SHANGHAI), "t-ov-g2-in")
        == "applied"
    )
    assert (
        read("X1", "粤S50002", (now - timedelta(seconds=30)).astimezone(SHANGHAI), "t-ov-g2-out")
        == "applied"
    )
    leaving = text(Client().get("/parking/gate/mixc-p/X1/last/"))
    assert 'data-state="leave"' in leaving and 'data-testid="gate-bye"' in leaving
    assert mask("粤S50002") in leaving


def test_unknown_gates_are_404() -> None:
    assert Client().get("/parking/gate/mixc-p/Z9/").status_code == 404
    assert Client().get("/parking/gate/nowhere/E1/").status_code == 404
    assert Client().get("/parking/gate/mixc-p/E1/last/").status_code == 404


# --- government -------------------------------------------------------------------------------
def test_government_page_shows_occupancy_and_flow_but_no_plate_and_no_money() -> None:
    s = build_scenario()
    CarPark.objects.filter(code="coco-park-p").update(full_threshold_pct=50)
    response = as_user("gov").get("/gov/parking/")
    assert response.status_code == 200
    page = text(response)
    for cp in (mixc(), coco()):
        live = availability_of(car_park_id=cp.pk)
        row = re.search(
            rf'<tr data-car-park="{cp.code}" data-full="(\d)"[^>]*>(.*?)</tr>', page, re.S
        )
        assert row is not None
        assert row.group(1) == ("1" if live["full"] else "0")
        assert f"data-free>{live['free']}<" in row.group(2)
        assert f"data-total>{live['total']}<" in row.group(2)
    assert 'data-full-car-park="coco-park-p"' in page
    assert re.search(
        r'data-full-car-park="coco-park-p".*?data-overflow-car-park="mixc-p"', page, re.S
    )
    # flow of today, counted here from the stays themselves
    today = timezone.localdate()
    entries = [0] * 24
    exits = [0] * 24
    for entered, exited in ParkingSession.objects.exclude(status=SessionStatus.VOIDED).values_list(
        "entered_at", "exited_at"
    ):
        if entered.astimezone(SHANGHAI).date() == today:
            entries[entered.astimezone(SHANGHAI).hour] += 1
        if exited is not None and exited.astimezone(SHANGHAI).date() == today:
            exits[exited.astimezone(SHANGHAI).hour] += 1
    for hour in range(24):
        row = re.search(rf'<tr data-hour="{hour:02d}">(.*?)</tr>', page, re.S)
        assert row is not None
        assert f"data-entries>{entries[hour]}<" in row.group(1)
        assert f"data-exits>{exits[hour]}<" in row.group(1)
    assert f'data-figure="entries">{sum(entries)}<' in page
    # civic data only: no plate of any stay, no money
    plates = set(ParkingSession.objects.exclude(plate="").values_list("plate", flat=True))
    assert len(plates) > 100
    for plate in plates:
        assert plate not in page
        assert mask(plate) not in page
    assert "¥" not in page and "data-fen" not in page and "data-due" not in page
    assert s.a.plate not in page


@pytest.mark.parametrize(
    ("login", "status"),
    [
        ("district-ops", 200),
        ("admin", 200),
        ("mall-ops-1", 404),
        ("shop-owner-1", 404),
        (SHOPPER, 404),
    ],
)
def test_who_may_open_the_government_page(login: str, status: int) -> None:
    assert as_user(login).get("/gov/parking/").status_code == status


def test_every_page_is_never_cached() -> None:
    client = as_user("mall-ops-1")
    for url in pages_of(mixc().pk):
        response = client.get(url)
        assert "no-store" in response.get("Cache-Control", "") or "max-age=0" in response.get(
            "Cache-Control", ""
        ), url
