"""The public shop directory (APP-5): name, full pinyin and initials."""

from __future__ import annotations

import pytest

from agora.district.models import Shop
from agora.testing.personas import anonymous, mall_id_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("q", ["xbk", "XBK", "xingbake", "xingba", "星巴克", "巴克"])
def test_starbucks_found_by_name_pinyin_and_initials(q: str) -> None:
    mall_id = mall_id_of("mall-ops-1")
    body = anonymous().get(f"/directory/shops?q={q}&mall_id={mall_id}").body
    assert "星巴克" in [s["name"] for s in body["items"]]


def test_directory_hides_contacts_and_closed_shops() -> None:
    mall_id = mall_id_of("mall-ops-1")
    body = anonymous().get(f"/directory/shops?mall_id={mall_id}&limit=200").body
    expected = Shop.objects.filter(mall_id=mall_id, status="open", listed=True)
    assert len(body["items"]) == expected.count()
    # the car park's till is a shop of the mall, open, but not in the public directory
    assert Shop.objects.filter(mall_id=mall_id, status="open", listed=False).count() == 1
    assert "contact_name" not in body["items"][0]
    assert "contact_email" not in body["items"][0]


def test_no_match_is_an_empty_page() -> None:
    body = anonymous().get("/directory/shops?q=zzzzqqq").body
    assert body == {"items": [], "next_cursor": None}
