"""The shopper's member pages through Django's test client, on the SMALL demo district:
会员卡, 积分明细, 领券中心, 我的券包, 积分兑换, 消息. Chinese by default, English after the
language switch; anonymous visitors go to the SMS sign-in; a refused write changes nothing."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from agora.accounts.models import User
from agora.accounts.selectors import active_user_with_phone
from agora.coupons.models import Coupon, CouponTemplate
from agora.district.models import Mall, Shop
from agora.members.models import Member, Message, PhysicalCard
from agora.members.selectors import member_of_user, tier_progress
from agora.members.services.codes import member_code_resolve
from agora.members.services.inbox import message_notice
from agora.points.models import ExchangeItem, ExchangeOrder
from agora.points.selectors import points_balance, points_history

pytestmark = pytest.mark.django_db

SHOPPER_PHONE = "13800000001"
DEMO_PIN = "246810"
SVG = re.compile(r"<svg[^>]*class=\"qr\"")


def shopper() -> User:
    user = active_user_with_phone(phone=SHOPPER_PHONE)
    assert user is not None
    return user


def member() -> Member:
    found = member_of_user(user=shopper())
    assert found is not None
    return found


def signed_in(user: User | None = None) -> Client:
    client = Client()
    client.force_login(user or shopper())
    return client


def english(client: Client) -> Client:
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def htmx(client: Client, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data, HTTP_HX_REQUEST="true")


def first_mall() -> Mall:
    return Mall.objects.order_by("id").first()  # type: ignore[return-value]


def template_titled(title: str, mall: Mall | None = None) -> CouponTemplate:
    return CouponTemplate.objects.get(title=title, mall=mall or first_mall())


def new_shopper(phone: str = "13900000077") -> User:
    return User.objects.create_user(username=f"p-{phone}", phone=phone)


# --- sign-in gate ------------------------------------------------------------------------------
PAGES = ["/me/card/", "/me/card/code/", "/me/points/", "/coupons/", "/me/coupons/", "/exchange/"]


@pytest.mark.parametrize("path", [*PAGES, "/me/inbox/"])
def test_anonymous_visitors_go_to_the_sms_sign_in(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_anonymous_claim_goes_to_sign_in_and_issues_nothing() -> None:
    template = template_titled("星巴克 立减5元")
    before = Coupon.objects.count()
    response = Client().post(f"/coupons/{template.pk}/claim/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    response = htmx(Client(), f"/coupons/{template.pk}/claim/", {})
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert Coupon.objects.count() == before


# --- 会员卡 -------------------------------------------------------------------------------------
def test_card_shows_tier_number_points_progress_and_a_live_qr_code() -> None:
    m = member()
    progress = tier_progress(member=m)
    response = signed_in().get("/me/card/")
    body = text(response)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert "<title>会员卡 · Agora</title>" in body
    assert "<h1>会员卡</h1>" in body
    assert f'<span class="badge tier" data-testid="tier">{m.tier.name}</span>' in body
    assert f'<strong data-testid="card-no">{m.card_no}</strong>' in body
    balance = points_balance(member=m)
    assert f'<strong data-testid="balance">{balance}</strong>' in body
    assert f'<progress class="tier-progress" max="100" value="{progress.percent}"' in body
    spend = progress.spend_fen // 100
    assert f"近12个月消费：¥{spend}" in body
    # the tabs between the member pages
    for label in ("会员卡", "积分", "领券中心", "我的券包", "积分兑换", "消息"):
        assert f">{label}</a>" in body or f">{label} <span" in body
    assert '<a href="/me/card/" data-tab="card" aria-current="page">会员卡</a>' in body
    # the member code: an inline SVG QR, the code as text and data, refreshed by HTMX
    assert SVG.search(body)
    code = re.search(r'data-code="(AGM[A-Z2-7]+)"', body)
    assert code is not None
    assert f'<code data-testid="member-code">{code.group(1)}</code>' in body
    assert 'hx-get="/me/card/code/"' in body
    assert re.search(r'hx-trigger="load delay:(\d+)s"', body)
    # and it is a real member code: a till resolves it to this member
    shop = Shop.objects.filter(mall=first_mall()).first()
    assert shop is not None
    assert member_code_resolve(code=code.group(1), shop_id=shop.pk).pk == m.pk


def test_card_shows_the_next_expiring_points() -> None:
    from agora.points.selectors import points_expiring

    expiring = points_expiring(member=member(), limit=1)
    body = text(signed_in().get("/me/card/"))
    if expiring:
        e = expiring[0]
        assert f"{e.points} 积分将于 {e.on:%Y-%m-%d} 过期。" in body
    else:  # pragma: no cover (the demo shopper has points)
        assert 'data-testid="expiring"' not in body


def test_code_partial_gives_a_fresh_code_each_time() -> None:
    client = signed_in()
    first = text(client.get("/me/card/code/"))
    second = text(client.get("/me/card/code/"))
    assert "<html" not in first
    assert first.startswith('<div class="member-code" data-code="AGM')
    assert SVG.search(first)
    assert 'data-testid="countdown"' in first
    codes = [re.search(r'data-code="([A-Z2-7]+)"', t).group(1) for t in (first, second)]  # type: ignore[union-attr]
    assert codes[0] != codes[1]


def test_card_in_english_uses_the_english_tier_name() -> None:
    m = member()
    body = text(english(signed_in()).get("/me/card/"))
    assert '<html lang="en">' in body
    assert "<h1>Member card</h1>" in body
    assert f'<span class="badge tier" data-testid="tier">{m.tier.name_en}</span>' in body
    assert "Physical cards" in body
    assert "Link a physical card" in body
    assert '<a href="/coupons/" data-tab="centre">Coupon centre</a>' in body


def test_first_visit_enrols_the_shopper_at_the_entry_tier() -> None:
    user = new_shopper()
    assert member_of_user(user=user) is None
    body = text(signed_in(user).get("/me/card/"))
    m = member_of_user(user=user)
    assert m is not None
    assert m.tier.name == "普卡"
    assert '<span class="badge tier" data-testid="tier">普卡</span>' in body
    assert f'<strong data-testid="card-no">{m.card_no}</strong>' in body
    assert '<strong data-testid="balance">0</strong>' in body
    assert "再消费 ¥3000 即可升级为银卡。" in body
    # a second visit does not enrol again
    signed_in(user).get("/me/card/")
    assert Member.objects.filter(user=user).count() == 1


def test_link_a_physical_card_wrong_pin_then_right_pin_then_report_lost() -> None:
    card = PhysicalCard.objects.filter(status="unlinked").order_by("id").first()
    assert card is not None
    client = signed_in()
    wrong = client.post("/me/card/link/", {"card_no": card.card_no, "pin": "000000"})
    assert wrong.status_code == 400
    assert '<p class="error" role="alert">密码错误。</p>' in text(wrong)
    card.refresh_from_db()
    assert (card.status, card.member_id, card.failed_attempts) == ("unlinked", None, 1)

    bad = client.post("/me/card/link/", {"card_no": "1234567812345678", "pin": DEMO_PIN})
    assert "卡号无效，请核对后重新输入。" in text(bad)

    ok = client.post("/me/card/link/", {"card_no": card.card_no, "pin": DEMO_PIN})
    assert ok.status_code == 302
    assert ok["Location"] == "/me/card/"
    card.refresh_from_db()
    assert (card.status, card.member_id) == ("active", member().pk)
    body = text(client.get("/me/card/"))
    assert f"实体卡 {card.card_no} 已绑定。" in body
    assert f'<li class="row" data-card="{card.card_no}">' in body
    assert "挂失</button>" in body

    again = client.post("/me/card/link/", {"card_no": card.card_no, "pin": DEMO_PIN})
    assert "这张卡已被绑定或已停用。" in text(again)

    lost = client.post(f"/me/card/cards/{card.pk}/lost/")
    assert lost.status_code == 302
    card.refresh_from_db()
    assert card.status == "lost"
    body = text(client.get("/me/card/"))
    assert f"实体卡 {card.card_no} 已挂失，不能再使用。" in body
    assert "已挂失</span>" in body


def test_someone_elses_card_cannot_be_reported_lost() -> None:
    card = PhysicalCard.objects.filter(status="unlinked").order_by("id").first()
    assert card is not None
    other = Member.objects.exclude(pk=member().pk).order_by("id").first()
    assert other is not None
    PhysicalCard.objects.filter(pk=card.pk).update(member=other, status="active")
    response = signed_in().post(f"/me/card/cards/{card.pk}/lost/")
    assert response.status_code == 404
    card.refresh_from_db()
    assert card.status == "active"


# --- 积分明细 -----------------------------------------------------------------------------------
def test_points_page_shows_balance_and_signed_history() -> None:
    m = member()
    history = list(points_history(member=m).order_by("-created_at", "-id"))
    assert history
    body = text(signed_in().get("/me/points/"))
    assert "<h1>积分明细</h1>" in body
    assert f'<strong data-testid="balance">{points_balance(member=m)}</strong>' in body
    assert body.count('<li class="row" data-kind=') == min(len(history), 100)
    newest = history[0]
    sign = "+" if newest.points > 0 else ""
    place = newest.shop.name if newest.shop else newest.mall.name  # type: ignore[union-attr]
    assert f">{sign}{newest.points}</span>" in body
    assert place in body
    assert "获得积分" in body


# --- 领券中心 -----------------------------------------------------------------------------------
def test_coupon_centre_lists_claimable_coupons_with_value_and_stock() -> None:
    body = text(signed_in().get("/coupons/"))
    assert "<h1>领券中心</h1>" in body
    mall = first_mall()
    threshold = template_titled(f"{mall.name} 满200减30")
    parking = template_titled(f"{mall.name} 免费停车2小时")
    assert '<div class="offer-value">满200减30</div>' in body
    assert '<div class="offer-value">9折 最高减50元</div>' in body
    assert '<div class="offer-value">免费停车2小时</div>' in body
    assert '<div class="offer-value">立减5元</div>' in body
    left = threshold.total_stock - threshold.issued
    assert f'<article class="card offer" data-template="{threshold.pk}"' in body
    assert f"剩余 {left} 张 · 已领 1 张" in body
    assert f'data-template="{parking.pk}"' in body
    # the gift is given out by push and care only, not in the app
    assert "会员礼：帆布袋" not in body


def test_coupon_centre_filters_by_mall() -> None:
    malls = list(Mall.objects.order_by("id"))
    assert len(malls) >= 2
    body = text(signed_in().get(f"/coupons/?mall={malls[1].pk}"))
    assert f"{malls[1].name} 满200减30" in body
    assert f"{malls[0].name} 满200减30" not in body
    assert "商圈服饰 9折（最高减50元）" in body  # district-wide
    assert f'href="/coupons/?mall={malls[1].pk}" aria-current="page"' in body


def test_claim_through_the_page_puts_a_coupon_in_the_wallet() -> None:
    template = template_titled("星巴克 立减5元")
    m = member()
    before = Coupon.objects.filter(member=m, template=template).count()
    response = htmx(signed_in(), f"/coupons/{template.pk}/claim/", {})
    body = text(response)
    assert response.status_code == 200
    assert body.startswith(f'<article class="card offer" data-template="{template.pk}"')
    assert "领取成功，已放入我的券包。" in body
    assert ">已领取</button>" in body
    coupons = Coupon.objects.filter(member=m, template=template)
    assert coupons.count() == before + 1
    template.refresh_from_db()
    assert f"剩余 {template.total_stock - template.issued} 张 · 已领 1 张" in body
    # and the wallet shows it with its code and a QR for the cashier
    coupon = coupons.get()
    wallet = text(signed_in().get("/me/coupons/"))
    assert f'data-code="{coupon.code}"' in wallet
    assert f"<code>{coupon.code}</code>" in wallet
    assert "立减5元" in wallet


def test_a_refused_claim_says_why_and_changes_nothing() -> None:
    m = member()
    template = template_titled(f"{first_mall().name} 满200减30")  # one a day; the demo claimed
    wallet = Coupon.objects.filter(member=m).count()
    issued = template.issued
    response = htmx(signed_in(), f"/coupons/{template.pk}/claim/", {})
    assert response.status_code == 200
    assert '<p class="error" role="status">今日已达领取上限，明天再来吧。</p>' in text(response)
    assert Coupon.objects.filter(member=m).count() == wallet
    template.refresh_from_db()
    assert template.issued == issued


def test_sold_out_refusal_without_htmx_redirects_with_a_message() -> None:
    template = template_titled("星巴克 立减5元")
    CouponTemplate.objects.filter(pk=template.pk).update(total_stock=template.issued)
    client = signed_in()
    response = client.post(f"/coupons/{template.pk}/claim/", {"mall": str(first_mall().pk)})
    assert response.status_code == 302
    assert response["Location"] == f"/coupons/?mall={first_mall().pk}"
    body = text(client.get(response["Location"]))
    assert "手慢了，已经被抢光了。" in body
    assert not Coupon.objects.filter(member=member(), template=template).exists()


def test_claim_of_an_unknown_coupon_is_404() -> None:
    assert signed_in().post("/coupons/999999/claim/").status_code == 404


def test_coupon_centre_in_english() -> None:
    body = text(english(signed_in()).get("/coupons/"))
    assert "<h1>Coupon centre</h1>" in body
    assert '<div class="offer-value">Spend ¥200, save ¥30</div>' in body
    assert '<div class="offer-value">10% off, up to ¥50</div>' in body
    assert '<div class="offer-value">Free parking 2 hours</div>' in body
    assert ">Claim</button>" in body


# --- 我的券包 -----------------------------------------------------------------------------------
def test_wallet_tabs_usable_used_expired() -> None:
    m = member()
    usable = Coupon.objects.filter(member=m, status="active").order_by("id").first()
    assert usable is not None
    client = signed_in()
    body = text(client.get("/me/coupons/"))
    assert "<h1>我的券包</h1>" in body
    assert 'href="/me/coupons/?tab=usable" data-tab="usable" aria-current="page"' in body
    assert f'<p class="coupon-code"><code>{usable.code}</code></p>' in body
    assert SVG.search(body)
    assert "请向收银员出示此码。" in body

    Coupon.objects.filter(pk=usable.pk).update(status="redeemed")
    body = text(client.get("/me/coupons/?tab=used"))
    assert f'data-code="{usable.code}"' in body
    assert "已使用</span>" in body
    assert not SVG.search(body)
    assert f'data-code="{usable.code}"' not in text(client.get("/me/coupons/"))

    Coupon.objects.filter(pk=usable.pk).update(status="expired")
    body = text(client.get("/me/coupons/?tab=expired"))
    assert f'data-code="{usable.code}"' in body
    assert "已过期</span>" in body


# --- 积分兑换 -----------------------------------------------------------------------------------
def test_exchange_catalogue_shows_price_and_stock() -> None:
    item = ExchangeItem.objects.get(title="服饰9折券")
    body = text(signed_in().get("/exchange/"))
    assert "<h1>积分兑换</h1>" in body
    assert f'<article class="card item" data-item="{item.pk}">' in body
    assert "500 积分" in body
    assert f"剩余 {item.stock - item.issued} 张" in body
    assert f'href="/exchange/{item.pk}/"' in body


def test_exchange_with_the_same_key_twice_spends_once() -> None:
    m = member()
    item = ExchangeItem.objects.get(title=f"{first_mall().name} 停车2小时")
    client = signed_in()
    confirm = text(client.get(f"/exchange/{item.pk}/"))
    assert "<h1>确认兑换</h1>" in confirm
    key = re.search(r'<input type="hidden" name="key" value="([0-9a-f-]{36})">', confirm)
    assert key is not None
    balance = points_balance(member=m)
    assert f'<dd data-testid="balance">{balance}</dd>' in confirm
    assert f"<dd>{balance - 300}</dd>" in confirm
    first = client.post(f"/exchange/{item.pk}/", {"key": key.group(1)})
    second = client.post(f"/exchange/{item.pk}/", {"key": key.group(1)})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert points_balance(member=m) == balance - 300
    orders = ExchangeOrder.objects.filter(member=m, item=item)
    assert orders.count() == 1
    order = orders.get()
    assert first["Location"] == f"/exchange/orders/{order.pk}/"
    assert order.coupon is not None
    assert order.coupon.template.title == f"{first_mall().name} 免费停车2小时"
    body = text(client.get(first["Location"]))
    assert "<h1>兑换成功</h1>" in body
    assert f'<code data-testid="result-code">{order.coupon.code}</code>' in body
    assert f"积分余额：{balance - 300}" in body
    # a new key is a new exchange
    client.post(f"/exchange/{item.pk}/", {"key": str(uuid.uuid4())})
    assert orders.count() == 2
    assert points_balance(member=m) == balance - 600


def test_gift_exchange_gives_a_pickup_code() -> None:
    m = member()
    item = ExchangeItem.objects.get(title="定制保温杯")
    response = signed_in().post(f"/exchange/{item.pk}/", {"key": str(uuid.uuid4())})
    order = ExchangeOrder.objects.get(member=m, item=item)
    assert response["Location"] == f"/exchange/orders/{order.pk}/"
    body = text(signed_in().get(response["Location"]))
    assert f'<code data-testid="result-code">{order.pickup_code}</code>' in body
    assert f"请凭以下兑换码到{first_mall().name}服务台领取：" in body


def test_exchange_without_enough_points_says_so_and_spends_nothing() -> None:
    user = new_shopper()
    item = ExchangeItem.objects.get(title="服饰9折券")
    client = signed_in(user)
    assert "积分不足。" in text(client.get("/exchange/"))
    issued = item.issued
    response = client.post(f"/exchange/{item.pk}/", {"key": str(uuid.uuid4())})
    assert response.status_code == 400
    assert "积分不足：您有 0 积分，需要 500 积分。" in text(response)
    item.refresh_from_db()
    assert item.issued == issued
    assert not ExchangeOrder.objects.filter(item=item, member__user=user).exists()


def test_exchange_with_a_bad_key_is_refused() -> None:
    m = member()
    item = ExchangeItem.objects.get(title="服饰9折券")
    balance = points_balance(member=m)
    response = signed_in().post(f"/exchange/{item.pk}/", {"key": "not-a-uuid"})
    assert response.status_code == 400
    assert "页面已过期，请重新确认。" in text(response)
    assert points_balance(member=m) == balance


def test_exchange_orders_of_others_are_404() -> None:
    item = ExchangeItem.objects.get(title="定制保温杯")
    signed_in().post(f"/exchange/{item.pk}/", {"key": str(uuid.uuid4())})
    order = ExchangeOrder.objects.get(member=member(), item=item)
    other = User.objects.filter(phone__startswith="138").exclude(pk=shopper().pk).first()
    assert other is not None
    assert signed_in(other).get(f"/exchange/orders/{order.pk}/").status_code == 404


# --- 消息 ---------------------------------------------------------------------------------------
def test_inbox_shows_messages_and_marks_them_read() -> None:
    m = member()
    note = message_notice(
        member=m,
        kind="service",
        title="",
        body="您的失物已找到，请到服务台领取",
        mall_id=first_mall().pk,
    )
    client = signed_in()
    assert '<span class="count" title="未读">' in text(client.get("/me/card/"))
    body = text(client.get("/me/inbox/"))
    assert "<h1>消息</h1>" in body
    assert f'data-message="{note.pk}"' in body
    assert "您的失物已找到，请到服务台领取" in body
    assert '<span class="badge new">新</span>' in body
    note.refresh_from_db()
    assert note.read_at is not None
    assert '<span class="badge new">新</span>' not in text(client.get("/me/inbox/"))


def test_write_to_a_service_desk() -> None:
    m = member()
    mall = first_mall()
    client = signed_in()
    response = client.post("/me/inbox/", {"mall": str(mall.pk), "body": "请问停车场几点关门？"})
    assert response.status_code == 302
    sent = Message.objects.filter(member=m, direction="from_member").order_by("-id").first()
    assert sent is not None
    assert (sent.mall_id, sent.kind, sent.body) == (mall.pk, "service", "请问停车场几点关门？")
    body = text(client.get("/me/inbox/"))
    assert f"已发送给{mall.name}服务台。" in body
    assert "请问停车场几点关门？" in body


def test_an_empty_message_or_unknown_mall_is_refused() -> None:
    m = member()
    before = Message.objects.filter(member=m).count()
    client = signed_in()
    empty = client.post("/me/inbox/", {"mall": str(first_mall().pk), "body": "  "})
    assert empty.status_code == 400
    assert "请填写留言内容。" in text(empty)
    nowhere = client.post("/me/inbox/", {"mall": "999999", "body": "hello"})
    assert nowhere.status_code == 400
    assert "请选择商场。" in text(nowhere)
    assert Message.objects.filter(member=m).count() == before


def test_inbox_in_english() -> None:
    body = text(english(signed_in()).get("/me/inbox/"))
    assert "<h1>Messages</h1>" in body
    assert "Write to a service desk" in body
    assert ">Send</button>" in body
