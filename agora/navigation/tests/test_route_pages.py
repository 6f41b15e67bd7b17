"""The route page (/nav/), its place picker and shop pages, through Django's test client on the
SMALL demo district (万象城 B1 + 1F, 星河COCO Park 1F + 2F, a street between them)."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.accounts.selectors import actor_for_user
from agora.district.choices import ShopStatus
from agora.district.models import Floor, Shop, ShopUnit
from agora.navigation.selectors import default_district, route_find
from agora.navigation.services.closures import closure_create

pytestmark = pytest.mark.django_db

MIXC = "万象城"
COCO = "星河COCO Park"


def shop(name: str, mall: str) -> Shop:
    return Shop.objects.get(name=name, mall__name=mall)


def floor(mall: str, name: str) -> Floor:
    return Floor.objects.get(mall__name=mall, name=name)


def nav(client: Client, **params: str) -> str:
    query = {
        ("from" if k == "origin" else "to" if k == "destination" else k): v
        for k, v in params.items()
    }
    response = client.get(f"/nav/?{urlencode(query)}")
    assert response.status_code == 200
    return response.content.decode()


def english(client: Client) -> Client:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/nav/"})
    assert response.status_code == 302
    return client


def step_kinds(page: str) -> list[str]:
    block = re.search(r'<ol id="route-steps"[^>]*>(.*?)</ol>', page, re.S)
    assert block is not None, "no #route-steps"
    return re.findall(r'<li data-kind="([a-z_]+)">', block.group(1))


def step_texts(page: str) -> list[str]:
    block = re.search(r'<ol id="route-steps"[^>]*>(.*?)</ol>', page, re.S)
    assert block is not None
    return [html.unescape(t) for t in re.findall(r"<li [^>]*>(.*?)</li>", block.group(1))]


def floor_sections(page: str) -> list[int]:
    return [int(f) for f in re.findall(r'<section class="nav-floor" data-floor-id="(\d+)"', page)]


def change_kinds(page: str) -> list[str]:
    return re.findall(r'class="nav-marker floor-change change-\w+" data-kind="(\w+)"', page)


def first_pair_where(fastest: str, step_free: str) -> tuple[Shop, Shop]:
    """A 1F shop of 万象城 and a 2F shop of 星河COCO Park whose fastest route uses ``fastest``
    and whose step-free route uses ``step_free`` to change floor."""
    district = default_district().pk
    origins = Shop.objects.filter(
        mall__name=MIXC, status=ShopStatus.OPEN, units__floor__name="1F"
    ).order_by("id")
    destinations = Shop.objects.filter(
        mall__name=COCO, status=ShopStatus.OPEN, units__floor__name="2F"
    ).order_by("id")
    for a in origins.distinct():
        for b in destinations.distinct():
            kinds = {}
            for mode in ("fastest", "step_free"):
                view = route_find(
                    district_id=district,
                    origin=f"shop:{a.pk}",
                    destination=f"shop:{b.pk}",
                    mode=mode,
                )
                kinds[mode] = [s["kind"] for s in view.instructions]
            if fastest in kinds["fastest"] and step_free in kinds["step_free"]:
                return a, b
    raise AssertionError(f"no pair with {fastest} / {step_free}")


# --- the route page -----------------------------------------------------------------------
def test_empty_route_page_shows_the_pickers_mode_switch_and_quick_buttons(client: Client) -> None:
    page = nav(client)
    assert 'id="from-q"' in page and 'id="to-q"' in page
    assert re.findall(r'data-mode="(\w+)"', page) == ["fastest", "step_free"]
    assert re.findall(r'class="chip quick-link" data-spec="([\w:]+)"', page) == [
        "nearest:restroom",
        "nearest:exit",
        "nearest:service_desk",
        "nearest:lift",
    ]
    assert "route-steps" not in page
    assert 'class="nav-error' not in page


def test_route_between_two_shops_is_drawn_floor_by_floor(client: Client) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    page = nav(english(client), origin=f"shop:{a.pk}", destination=f"shop:{b.pk}")
    assert step_kinds(page) == [
        "start",
        "walk",
        "street",
        "walk",
        "walk",
        "walk",
        "escalator",
        "walk",
        "walk",
        "arrive",
    ]
    texts = step_texts(page)
    assert texts[0] == "Start at 周生生"
    assert texts[2] == (
        "Leave 万象城 by 东南安全出口 and walk about 790 m along the street to 星河COCO Park "
        "(about 12 min)"
    )
    assert texts[6] == "Take the escalator up (扶梯（上行）) to 2F"
    assert texts[-1] == "海底捞 is on your right"
    # one floor section per leg, in order, each with its polyline
    assert floor_sections(page) == [
        floor(MIXC, "1F").pk,
        floor(COCO, "1F").pk,
        floor(COCO, "2F").pk,
    ]
    assert page.count('<polyline class="route-line"') == 3
    assert re.findall(r'<span class="floor-name">([^<]+)</span>', page) == [
        "万象城 · 1F",
        f"{COCO} · 1F",
        f"{COCO} · 2F",
    ]
    # leave 万象城 by the street, arrive in COCO Park, up the escalator, arrive on 2F
    assert change_kinds(page) == ["street", "street", "escalator", "escalator"]
    assert ">↑ 2F by escalator</text>" in page
    assert ">Arrived from 1F</text>" in page
    assert page.count('class="nav-marker marker-start"') == 1
    assert page.count('class="nav-marker marker-end"') == 1
    assert ">Start: 周生生</text>" in page
    # the walk between the malls is a card between the floor maps
    assert re.search(
        r'<div class="transfer card" data-kind="street">.*?<p>Leave 万象城 by 东南安全出口',
        page,
        re.S,
    )
    assert '<strong class="route-minutes">About 14 min</strong>' in page
    assert '<span class="route-metres">940 m</span>' in page
    assert f'<a class="route-to" href="/shops/{b.pk}/">海底捞</a>' in page


def test_route_page_is_chinese_by_default(client: Client) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    texts = step_texts(nav(client, origin=f"shop:{a.pk}", destination=f"shop:{b.pk}"))
    assert texts[0] == "从周生生出发"
    assert texts[6] == "乘扶梯（上行）上到2F"
    assert texts[-1] == "到达海底捞，在您右手边"


def test_step_free_takes_the_lift_instead_of_the_escalator(client: Client) -> None:
    a, b = first_pair_where("escalator", "lift")
    english(client)
    fastest = nav(client, origin=f"shop:{a.pk}", destination=f"shop:{b.pk}")
    step_free = nav(client, origin=f"shop:{a.pk}", destination=f"shop:{b.pk}", mode="step_free")
    assert "escalator" in step_kinds(fastest) and "lift" not in step_kinds(fastest)
    assert "lift" in step_kinds(step_free) and "escalator" not in step_kinds(step_free)
    assert "lift" not in change_kinds(fastest)
    assert change_kinds(step_free) == ["street", "street", "lift", "lift"]
    assert ">Lift to 2F</text>" in step_free
    assert re.search(r'<a class="mode on" data-mode="step_free"[^>]*aria-current="true"', step_free)
    assert '<section id="route" class="route" data-mode="step_free"' in step_free
    # the mode links keep both places, so switching works without JavaScript
    assert f'data-mode="fastest" href="/nav/?from=shop%3A{a.pk}&amp;to=shop%3A{b.pk}"' in step_free


def test_bad_place_spec_is_a_clear_message_not_a_500(client: Client) -> None:
    b = shop("海底捞", COCO)
    english(client)
    page = nav(client, origin="shop:999999", destination=f"shop:{b.pk}")
    assert 'data-reason="bad_place" data-field="from"' in page
    assert "<strong>Start:</strong> no open shop 999999 in this district" in page
    assert "route-steps" not in page
    page = nav(client, origin="somewhere", destination=f"shop:{b.pk}")
    assert 'data-field="from"' in page
    assert "a place is shop:&lt;id&gt;, facility:&lt;id&gt;" in page
    page = nav(client, origin=f"shop:{b.pk}", destination=f"shop:{b.pk}", mode="fly")
    assert 'data-reason="choice" data-field="mode"' in page
    assert "one of fastest, step_free, evacuation" in page


def test_closed_destination_shows_the_closure_reason(client: Client) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    zone_id = ShopUnit.objects.get(shop=b).zone_id
    admin = actor_for_user(User.objects.get(username="admin"))
    closure_create(actor=admin, zone_id=zone_id, reason="消防检查")
    page = nav(english(client), origin=f"shop:{a.pk}", destination=f"shop:{b.pk}")
    assert 'data-reason="destination_closed" data-field="to"' in page
    assert "<strong>Destination:</strong> 海底捞 is closed: 消防检查" in page
    assert "route-steps" not in page


def test_kiosk_origin_marks_you_are_here_and_nearest_restroom(client: Client) -> None:
    page = nav(client, origin="kiosk:mixc-1f", destination="nearest:restroom")
    assert step_kinds(page)[0] == "start"
    assert ">您在这里</text>" in page  # the start marker of a kiosk
    assert floor_sections(page) == [floor(MIXC, "1F").pk]
    assert re.search(r'class="chip quick-link on" data-spec="nearest:restroom"', page)
    assert 'value="kiosk:mixc-1f"' in page


def test_htmx_request_gets_only_the_partial(client: Client) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    response = client.get(
        f"/nav/?from=shop:{a.pk}&to=shop:{b.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="nav-app"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<div id="nav-app"')
    assert "<html" not in body
    assert len(floor_sections(body)) == 3


# --- the picker ----------------------------------------------------------------------------
def test_picker_finds_shops_by_initials_with_links_that_keep_the_other_place(
    client: Client,
) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    response = client.get("/nav/places/", {"field": "to", "to_q": "hdl", "from": f"shop:{a.pk}"})
    body = response.content.decode()
    assert response.status_code == 200
    names = re.findall(r'<span class="place-name">([^<]+)</span>', body)
    assert names == ["海底捞"]
    assert f'href="/nav/?from=shop%3A{a.pk}&amp;to=shop%3A{b.pk}"' in body
    assert 'hx-target="#nav-app"' in body


def test_picker_categories_and_facilities(client: Client) -> None:
    body = client.get("/nav/places/", {"field": "to", "to_q": "cy"}).content.decode()
    assert re.search(r'data-kind="category">.*?<span class="place-name">餐饮</span>', body, re.S)
    body = client.get("/nav/places/", {"field": "to", "to_cat": "food"}).content.decode()
    names = re.findall(r'<span class="place-name">([^<]+)</span>', body)
    expected = Shop.objects.filter(category="food", status=ShopStatus.OPEN).count()
    assert len(names) == expected and "海底捞" in names
    body = client.get("/nav/places/", {"field": "from", "from_q": "wsj"}).content.decode()
    assert set(re.findall(r'data-kind="(\w+)"', body)) == {"facility"}
    body = client.get("/nav/places/", {"field": "from", "from_q": "zzzz"}).content.decode()
    assert "no-places" in body


def test_picker_without_javascript_searches_on_submit(client: Client) -> None:
    a, b = shop("周生生", MIXC), shop("海底捞", COCO)
    page = nav(client, from_q="周生生", destination=f"shop:{b.pk}")
    assert f'href="/nav/?from=shop%3A{a.pk}&amp;to=shop%3A{b.pk}"' in page
    assert "route-steps" not in page
    # a text box that no longer shows the picked place searches again
    page = nav(client, origin=f"shop:{a.pk}", from_q="海底", destination=f"shop:{b.pk}")
    assert "route-steps" not in page
    assert re.findall(r'<span class="place-name">([^<]+)</span>', page) == ["海底捞"]


# --- shop pages ----------------------------------------------------------------------------
def test_shop_page_shows_the_shop_and_take_me_there(client: Client) -> None:
    b = shop("海底捞", COCO)
    page = client.get(f"/shops/{b.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<h1 class="shop-name">海底捞</h1>' in body
    assert '<dd class="shop-mall">星河COCO Park</dd>' in body
    assert re.search(r'class="shop-units">.*?>2F</a> <code>L2-008</code>', body, re.S)
    hours = f"{b.opens_at:%H:%M}–{b.closes_at:%H:%M}"
    assert f'<dd class="shop-hours">{hours}</dd>' in body
    assert 'data-open="' in body
    assert f'<a class="button primary take-me" href="/nav/?to=shop%3A{b.pk}">' in body
    body = client.get(f"/shops/{b.pk}/", {"from": "kiosk:coco-park-1f"}).content.decode()
    assert f'href="/nav/?from=kiosk%3Acoco-park-1f&amp;to=shop%3A{b.pk}"' in body


def test_shop_page_lists_the_shops_coupons(client: Client) -> None:
    starbucks = shop("星巴克", MIXC)
    body = client.get(f"/shops/{starbucks.pk}/").content.decode()
    assert re.findall(
        r'<li class="shop-offer" data-template="\d+"><strong>([^<]+)</strong>', body
    ) == ["星巴克 立减5元"]
    body = client.get(f"/shops/{shop('海底捞', COCO).pk}/").content.decode()
    assert "shop-offer" not in body


def test_unknown_or_not_open_shop_is_404(client: Client) -> None:
    assert client.get("/shops/999999/").status_code == 404
    fitting_out = Shop.objects.filter(status=ShopStatus.FITTING_OUT).first()
    assert fitting_out is not None
    assert client.get(f"/shops/{fitting_out.pk}/").status_code == 404
