"""The location-aware shopper pages (APP-1), the guide kiosk (DEV-3, GUIDE-1) and the operators'
navigation page, through Django's test client on the SMALL demo district.

UI strings are compared with their zh-Hans translation as the running catalog has it (``zh``),
so the tests hold before and after the page's .po fragment is merged; names from the data
(malls, shops, coupons) are compared as they are."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import segno
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from agora.accounts.choices import ConsentPurpose
from agora.accounts.models import ConsentRecord, User
from agora.district.models import Floor, Mall, Shop, Zone
from agora.navigation.models import Closure, Kiosk
from agora.navigation.selectors import closures_list, default_district

pytestmark = pytest.mark.django_db

SHOPPER_PHONE = "13800000001"
OWN_PHONE = "13900000731"  # a shopper of these tests only


def zh(msgid: str, context: str | None = None) -> str:
    """The page's text for ``msgid`` in Chinese, as the catalogs translate it now."""
    with translation.override("zh-hans"):
        text = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    return text  # {% translate %} output is not escaped


def text(response: Any) -> str:
    return str(response.content.decode())


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def mall(code: str) -> Mall:
    return Mall.objects.get(code=code)


def corridor(code: str = "mixc") -> Zone:
    floor = Floor.objects.get(mall=mall(code), level=1)
    return Zone.objects.filter(floor=floor, kind="corridor").order_by("id").first()  # type: ignore[return-value]


# --- home shell --------------------------------------------------------------------------------
def test_home_is_the_location_shell_with_tabs_search_and_malls() -> None:
    body = text(Client().get("/"))
    assert '<div id="home-main" class="home-main" data-page="life" data-mall="">' in body
    tabs = re.search(r'<nav class="tabs app-tabs" id="home-tabs".*?</nav>', body, re.S)
    assert tabs is not None
    labels = re.findall(r'data-tab="(\w+)"[^>]*>([^<]+)</a>', tabs.group(0))
    assert labels == [
        ("mall", zh("Mall", "app tab")),
        ("life", zh("Life")),
        ("citizen", zh("Citizen window")),
    ]
    # no consent yet: the ask is shown, with the button and a manual picker
    assert '<section id="location-ask" class="card ask">' in body
    ask = zh("Allow location use to show the page of the mall you are in automatically")
    assert f"<strong>{ask}</strong>" in body
    assert 'action="/me/location-consent/"' in body
    for m in Mall.objects.order_by("id"):
        assert (
            f'<a class="chip" href="/m/{m.code}/" hx-get="/m/{m.code}/" hx-target="#home-main" '
            f'data-pick="{m.code}">{m.name}</a>'
        ) in body
        assert f"<h3>{m.name}</h3>" in body  # the malls of the district stay
    # the directory search stays
    assert 'hx-get="/directory/search/"' in body
    assert '<script src="/static/navigation/app.js" defer></script>' in body


def test_home_hides_the_ask_once_the_visitor_consented() -> None:
    client = Client()
    assert client.post("/me/location-consent/", {"granted": "1"}).status_code == 302
    body = text(client.get("/"))
    assert 'data-consent="1"' in body
    assert '<section id="location-ask" class="card ask" hidden>' in body


# --- consent -----------------------------------------------------------------------------------
def test_consent_for_an_anonymous_session_then_the_context_api_answers() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    token = client.cookies["csrftoken"].value
    here = mall("mixc")
    position = {"latitude": float(here.latitude) + 0.0001, "longitude": float(here.longitude)}

    denied = client.post(
        "/api/v1/nav/context", position, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "consent_required"

    # CSRF-protected: without the token nothing is granted
    assert client.post("/me/location-consent/", {"granted": "1"}).status_code == 403
    granted = client.post(
        "/me/location-consent/",
        {"granted": "1", "csrfmiddlewaretoken": token},
        HTTP_ACCEPT="application/json",
    )
    assert granted.status_code == 200
    assert granted.json() == {"granted": True, "purpose": "location_tracking"}
    assert client.session["consent:location_tracking"] is True

    answer = client.post(
        "/api/v1/nav/context", position, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "page": "mall",
        "mall_id": here.pk,
        "mall_code": "mixc",
        "mall_name": "万象城",
        "distance_m": 0.0,
    }


def test_consent_of_a_signed_in_shopper_is_recorded_and_redirects_home() -> None:
    user = User.objects.create_user(username=OWN_PHONE, phone=OWN_PHONE)
    client = Client()
    client.force_login(user)
    response = client.post("/me/location-consent/", {"granted": "1", "next": "/life/"})
    assert response.status_code == 302
    assert response["Location"] == "/life/"
    record = ConsentRecord.objects.filter(user=user).get()
    assert (record.purpose, record.granted, record.policy_version, record.source) == (
        ConsentPurpose.LOCATION_TRACKING,
        True,
        settings.PRIVACY_POLICY_VERSION,
        "web",
    )
    assert client.get("/me/location-consent/").status_code == 405  # POST only


# --- mall page ---------------------------------------------------------------------------------
def test_mall_page_shows_name_hours_promotions_map_parking_and_food() -> None:
    here = mall("mixc")
    response = Client().get("/m/mixc/")
    body = text(response)
    assert response.status_code == 200
    assert f"<title>{here.name} · Agora</title>" in body
    assert f'<h1 class="mall-title">{here.name}</h1>' in body
    assert f'<p class="muted address">{here.address}</p>' in body
    assert "<time>10:00</time>–<time>22:00</time>" in body
    assert '<section class="app-page app-mall" data-page="mall" data-mall="mixc">' in body
    # promotions: the mall's claimable coupons
    assert '<strong class="offer-title">万象城 满200减30</strong>' in body
    assert '<strong class="offer-title">星河COCO Park 满200减30</strong>' not in body
    assert f'href="/coupons/?mall={here.pk}"' in body
    # map and navigation
    for floor in Floor.objects.filter(mall=here):
        assert f'<a class="chip" href="/floors/{floor.pk}/">{floor.name}</a>' in body
    for kind in ("restroom", "service_desk", "exit", "lift"):
        assert f'data-quick="{kind}" href="/nav/?to=nearest:{kind}"' in body
    assert 'hx-get="/m/mixc/places/"' in body
    # parking: the mall's car park with its live free spaces and "find my car"
    parking = re.search(r'data-section="parking">.*?</section>', body, re.S)
    assert parking is not None
    assert 'data-parking-live="/parking/live/"' in parking.group(0)
    assert 'data-free="mixc-p"' in parking.group(0)
    assert 'href="/parking/find/" data-parking-find' in parking.group(0)
    # food: the open food shops of this mall only
    food = Shop.objects.filter(mall=here, category="food", status="open")
    assert food.count() == 5
    for shop in food:
        assert (
            f'<a href="/shops/{shop.pk}/"><strong class="shop-name">{shop.name}</strong></a>'
            in (body)
        )
    assert body.count('<li class="food-shop">') == 5


def test_mall_page_food_leaves_out_shops_not_open_and_the_partial_has_no_shell() -> None:
    response = Client().get("/m/coco-park/", HTTP_HX_REQUEST="true")
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert body.startswith('<section class="app-page app-mall" data-page="mall"')
    assert '<h2 class="mall-title">星河COCO Park</h2>' in body
    assert "听雨咖啡" not in body  # fitting out
    assert '<strong class="shop-name">海底捞</strong>' in body
    assert response["Vary"].count("HX-Request") == 1
    assert "<html" not in text(Client().get("/m/coco-park/", {"partial": "1"}))


def test_unknown_mall_is_404() -> None:
    assert Client().get("/m/no-such-mall/").status_code == 404


def test_mall_search_finds_places_of_that_mall_with_route_links() -> None:
    restroom = (
        Mall.objects.get(code="mixc")
        .floors.get(level=1)
        .facilities.filter(kind="restroom")
        .order_by("id")
        .first()
    )
    assert restroom is not None
    body = text(Client().get("/m/mixc/places/", {"q": "wsj"}, HTTP_HX_REQUEST="true"))
    assert f'<a href="/nav/?to=facility:{restroom.pk}" data-place="facility:{restroom.pk}">' in body
    assert f'<strong class="place-name">{restroom.name}</strong>' in body
    assert "星河COCO Park" not in body
    nothing = text(Client().get("/m/mixc/places/", {"q": "qqqqzz"}, HTTP_HX_REQUEST="true"))
    assert "qqqqzz" in nothing
    # without HTMX: back to the mall page with the results inline
    full = Client().get("/m/mixc/places/", {"q": "wsj"})
    assert full.status_code == 302
    assert full["Location"] == "/m/mixc/?q=wsj#mall-search"
    inline = text(Client().get("/m/mixc/", {"q": "xbk"}))
    starbucks = Shop.objects.get(mall__code="mixc", name="星巴克")
    assert f'href="/nav/?to=shop:{starbucks.pk}"' in inline


# --- life page and citizen window ----------------------------------------------------------------
def test_life_page_lists_malls_and_marked_placeholders() -> None:
    response = Client().get("/life/")
    body = text(response)
    assert response.status_code == 200
    assert f"<h1>{zh('Life')}</h1>" in body
    assert '<section class="app-page app-life" data-page="life" data-mall="">' in body
    for m in Mall.objects.all():
        assert f'<li class="nearby-mall" data-mall="{m.code}">' in body
    assert 'class="distance"' not in body  # no position: no distances
    cards = re.findall(r'<article class="soon-card" data-placeholder="(\w+)">', body)
    assert cards == ["news", "community", "rentals", "bills", "groceries"]
    soon = f'<span class="badge soon" data-placeholder="true">{zh("Coming soon")}'
    assert body.count(soon) == 5
    for title in (
        "News",
        "Community services",
        "Local rentals",
        "Bills & top-up",
        "Groceries delivered",
    ):
        assert f"<h3>{zh(title)} {soon}" in body


def test_life_page_gives_distances_only_with_consent() -> None:
    coco = mall("coco-park")
    # 100 m south of 星河COCO Park's footprint
    near = {"lat": f"{float(coco.latitude) - 100 / 110_574:.6f}", "lon": str(coco.longitude)}
    client = Client()
    assert 'class="distance"' not in text(client.get("/life/", near))
    client.post("/me/location-consent/", {"granted": "1"})
    body = text(client.get("/life/", {**near, "partial": "1"}))
    assert "<html" not in body
    first = re.findall(r'<li class="nearby-mall" data-mall="([\w-]+)">', body)
    assert first == ["coco-park", "mixc"]  # nearest first
    assert '<span class="distance" data-distance="100">' in body
    assert zh("%(m)s m away") % {"m": 100} in body
    # nonsense coordinates are ignored, not a 500
    assert Client().get("/life/", {"lat": "nan", "lon": "abc"}).status_code == 200


def test_citizen_window_is_a_marked_placeholder() -> None:
    response = Client().get("/citizen/")
    body = text(response)
    assert response.status_code == 200
    assert f"<h1>{zh('Citizen window')}</h1>" in body
    assert '<section class="app-page app-citizen" data-page="citizen" data-mall="">' in body
    note = zh("The civic services module is not built yet: this window is a placeholder.")
    assert note in body
    cards = re.findall(r'<article class="soon-card" data-placeholder="(\w+)">', body)
    assert cards == ["notices", "guides", "feedback"]
    partial = text(Client().get("/citizen/", HTTP_HX_REQUEST="true"))
    assert "<html" not in partial
    assert note in partial


# --- kiosk -------------------------------------------------------------------------------------
def test_kiosk_page_shows_you_are_here_directory_strip_and_parking() -> None:
    kiosk = Kiosk.objects.select_related("floor__mall").get(code="mixc-1f")
    response = Client().get("/kiosk/mixc-1f/")
    body = text(response)
    assert response.status_code == 200
    assert '<div id="kiosk" data-kiosk="mixc-1f" data-beat="60" data-idle="60" data-rotate="8"' in (
        body
    )
    assert '<div id="offline-banner" class="k-offline" role="alert" hidden>' in body
    assert 'data-heartbeat-url="/api/v1/nav/kiosks/mixc-1f/heartbeat"' in body
    # you are here: the kiosk's spot on its floor's plan
    assert f'<circle class="k-dot" cx="{kiosk.x}" cy="{kiosk.y}"' in body
    assert zh("You are here") in body
    # the directory: the mall's open shops, each routed from the kiosk
    starbucks = Shop.objects.get(mall=kiosk.floor.mall, name="星巴克")
    assert f'hx-get="/kiosk/mixc-1f/route/?to=shop%3A{starbucks.pk}"' in body
    assert (
        body.count('class="k-item k-item-shop"')
        == 2 * Shop.objects.filter(mall=kiosk.floor.mall, status="open", listed=True).count()
    )  # shown, and kept for the idle reset / offline filter
    # the strip: promotions and facility guides; parking is a placeholder
    assert "<strong>万象城 满200减30</strong>" in body
    assert 'data-kind="guide"' in body
    assert 'data-free="mixc-p"' in body
    assert 'href="/parking/find/?from=kiosk%3Amixc-1f" data-parking-find' in body
    # timings for tests
    fast = text(Client().get("/kiosk/mixc-1f/", {"beat": "1", "idle": "7"}))
    assert 'data-beat="1" data-idle="7"' in fast


def test_unknown_kiosk_is_404() -> None:
    assert Client().get("/kiosk/no-such-kiosk/").status_code == 404
    assert Client().get("/kiosk/no-such-kiosk/search/", {"q": "x"}).status_code == 404
    assert Client().get("/kiosk/no-such-kiosk/route/", {"to": "shop:1"}).status_code == 404


def test_kiosk_search_and_category_partials() -> None:
    starbucks = Shop.objects.get(mall__code="mixc", name="星巴克")
    body = text(Client().get("/kiosk/mixc-1f/search/", {"q": "xbk"}, HTTP_HX_REQUEST="true"))
    assert "<html" not in body
    assert re.findall(r'data-place="([\w:]+)"', body) == [f"shop:{starbucks.pk}"]
    food = text(Client().get("/kiosk/mixc-1f/search/", {"category": "food"}))
    assert len(re.findall(r'data-place="shop:\d+"', food)) == 5
    none = text(Client().get("/kiosk/mixc-1f/search/", {"q": "qqqqzz"}))
    assert '<ul class="k-list" data-count="0">' in none
    assert "qqqqzz" in none


def test_kiosk_route_has_steps_plan_with_route_and_a_qr_code_for_the_phone() -> None:
    starbucks = Shop.objects.get(mall__code="mixc", name="星巴克")
    response = Client().get(
        "/kiosk/mixc-1f/route/", {"to": f"shop:{starbucks.pk}"}, HTTP_HX_REQUEST="true"
    )
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert f'<section id="kiosk-route" class="k-route" data-to="shop:{starbucks.pk}">' in body
    steps = re.findall(r'<li class="k-step k-step-(\w+)">', body)
    assert steps[0] == "start" and steps[-1] == "arrive"
    assert '<polyline class="k-route-line" points="29.0,15.0 ' in body
    assert f'data-shop="{starbucks.pk}"' in body and "zone-hl" in body
    link = f"{settings.SITE_URL.rstrip('/')}/nav/?from=kiosk:mixc-1f&to=shop:{starbucks.pk}"
    assert f'<div id="kiosk-qr" class="k-qr" data-link="{escape(link)}"><svg' in body
    # the QR code encodes that link: its modules are those segno draws for it
    drawn = re.search(r'<div id="kiosk-qr".*?<path [^>]*\bd="([^"]+)"', body, re.S)
    expected = re.search(r'\bd="([^"]+)"', segno.make(link, error="m").svg_inline(border=2))
    assert drawn is not None and expected is not None
    assert drawn.group(1) == expected.group(1)
    # without HTMX: the whole kiosk page, showing the route
    full = text(Client().get("/kiosk/mixc-1f/route/", {"to": f"shop:{starbucks.pk}"}))
    assert '<div id="kiosk" data-kiosk="mixc-1f"' in full
    assert 'id="kiosk-route"' in full


def test_kiosk_route_to_nowhere_or_a_closed_place_says_why() -> None:
    bogus = text(Client().get("/kiosk/mixc-1f/route/", {"to": "bogus"}, HTTP_HX_REQUEST="true"))
    assert 'data-error="true"' in bogus
    assert zh("There is no route to this place from here.") in bogus
    starbucks = Shop.objects.get(mall__code="mixc", name="星巴克")
    Closure.objects.create(
        district=default_district(),
        mall=starbucks.mall,
        zone=starbucks.units.get(),
        reason="装修",
        starts_at=timezone.now(),
    )
    closed = text(
        Client().get(
            "/kiosk/mixc-1f/route/", {"to": f"shop:{starbucks.pk}"}, HTTP_HX_REQUEST="true"
        )
    )
    assert 'data-error="true"' in closed
    assert "装修" in closed


# --- operators' page -----------------------------------------------------------------------------
def test_operator_closes_a_corridor_through_the_form_and_reopens_it() -> None:
    client = as_user("mall-ops-1")
    zone = corridor("mixc")
    page = text(client.get("/ops/navigation/"))
    assert f'<option value="zone:{zone.pk}">' in page
    assert 'data-kiosk="mixc-1f"' in page
    assert 'data-kiosk="coco-park-1f"' not in page  # another mall's kiosk
    response = client.post(
        "/ops/navigation/",
        {
            "mall": zone.floor.mall_id,
            "floor": zone.floor_id,
            "target": f"zone:{zone.pk}",
            "reason": "地面清洁",
            "ends_at": "",
        },
    )
    assert response.status_code == 302
    district = default_district()
    closure = closures_list(district_id=district.pk).get()
    assert (closure.zone_id, closure.reason, closure.ends_at) == (zone.pk, "地面清洁", None)
    listed = text(client.get(response["Location"]))
    assert f'<tr id="closure-{closure.pk}" data-closure="{closure.pk}">' in listed
    assert '<td class="closure-reason">地面清洁</td>' in listed
    assert f"{zone.code} {zone.name}" in listed

    reopened = client.post(f"/ops/navigation/closures/{closure.pk}/reopen/")
    assert reopened.status_code == 302
    assert not closures_list(district_id=district.pk).exists()
    closure.refresh_from_db()
    assert closure.lifted_at is not None
    # reopening twice is a message, not an error page
    again = client.post(f"/ops/navigation/closures/{closure.pk}/reopen/", follow=True)
    assert again.status_code == 200
    assert 'class="msg msg-error"' in text(again)


def test_closing_with_an_end_time_and_the_kiosk_status() -> None:
    client = as_user("district-ops")
    zone = corridor("coco-park")
    until = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    Kiosk.objects.filter(code="coco-park-1f").update(last_seen_at=timezone.now())
    response = client.post(
        "/ops/navigation/",
        {
            "mall": zone.floor.mall_id,
            "floor": zone.floor_id,
            "target": f"zone:{zone.pk}",
            "reason": "活动布展",
            "ends_at": until,
        },
        follow=True,
    )
    body = text(response)
    closure = Closure.objects.get(zone=zone)
    assert timezone.localtime(closure.ends_at).strftime("%Y-%m-%dT%H:%M") == until
    assert f'<time datetime="{closure.ends_at:%Y-%m-%d}' in body
    online = re.search(r'data-kiosk="coco-park-1f">.*?</tr>', body, re.S)
    offline = re.search(r'data-kiosk="mixc-1f">.*?</tr>', body, re.S)
    assert online is not None and 'data-status="online"' in online.group(0)
    assert offline is not None and 'data-status="offline"' in offline.group(0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"target": ""}, "target"),
        ({"target": "zone:999999"}, "target"),
        ({"ends_at": "2020-01-01T10:00"}, "ends_at"),
        ({"ends_at": "tomorrow"}, "ends_at"),
        ({"reason": "x" * 121}, "reason"),
    ],
)
def test_bad_form_input_shows_an_error_and_closes_nothing(data: dict[str, str], field: str) -> None:
    client = as_user("mall-ops-1")
    zone = corridor("mixc")
    form = {
        "mall": zone.floor.mall_id,
        "floor": zone.floor_id,
        "target": f"zone:{zone.pk}",
        "reason": "维修",
        "ends_at": "",
        **data,
    }
    response = client.post("/ops/navigation/", form)
    assert response.status_code == 200
    body = text(response)
    assert re.search(
        rf'<div class="field has-error" data-field="{field}">.*?class="errorlist', body, re.S
    )
    assert not Closure.objects.exists()


def test_closing_what_is_closed_already_is_a_form_error() -> None:
    client = as_user("mall-ops-1")
    zone = corridor("mixc")
    form = {"mall": zone.floor.mall_id, "floor": zone.floor_id, "target": f"zone:{zone.pk}"}
    assert client.post("/ops/navigation/", {**form, "reason": "一"}).status_code == 302
    again = client.post("/ops/navigation/", {**form, "reason": "二"})
    assert again.status_code == 200
    assert 'class="msg msg-error form-errors"' in text(again)
    assert Closure.objects.count() == 1


def test_mall_operator_cannot_close_another_malls_zone() -> None:
    client = as_user("mall-ops-1")
    other = corridor("coco-park")
    response = client.post(
        "/ops/navigation/",
        {
            "mall": other.floor.mall_id,
            "floor": other.floor_id,
            "target": f"zone:{other.pk}",
            "reason": "维修",
        },
    )
    assert response.status_code == 200  # the mall is not among theirs: an error on the form
    assert f'value="zone:{other.pk}"' not in text(response)
    assert not Closure.objects.exists()


def test_form_choices_follow_the_picked_mall_and_floor() -> None:
    client = as_user("district-ops")
    coco = mall("coco-park")
    second = Floor.objects.get(mall=coco, level=2)
    body = text(client.get("/ops/navigation/", {"mall": coco.pk, "floor": second.pk}))
    for z in Zone.objects.filter(floor=second):
        assert f'<option value="zone:{z.pk}">' in body
    first_floor_zone = corridor("coco-park")
    assert f'value="zone:{first_floor_zone.pk}"' not in body
    assert re.search(r'<option value="link:\d+">万象城 ⇄ 星河COCO Park', body)  # district-wide


def test_who_may_open_the_operators_page() -> None:
    anonymous = Client().get("/ops/navigation/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/staff/login/")
    shopper = Client()
    shopper.force_login(User.objects.get(phone=SHOPPER_PHONE))
    assert shopper.get("/ops/navigation/").status_code == 403
    zone = corridor("mixc")
    post = shopper.post(
        "/ops/navigation/",
        {"mall": zone.floor.mall_id, "floor": zone.floor_id, "target": f"zone:{zone.pk}"},
    )
    assert post.status_code == 403
    assert as_user("shop-owner-1").get("/ops/navigation/").status_code == 403
    assert as_user("admin").get("/ops/navigation/").status_code == 200
    assert not Closure.objects.exists()
