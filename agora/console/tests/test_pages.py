"""The merchant's till and the operator's loyalty console, through Django's test client on the
SMALL demo district (星巴克 of mall 1 is the till; shopper 13800000001 is a member with a
year of purchases).

Exact points and counts; a denied action leaves the data as it was."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from django.test import Client
from django.utils import timezone

from agora.accounts.models import RoleGrant, User
from agora.coupons.models import Coupon, CouponTemplate
from agora.coupons.services.wallet import coupon_claim
from agora.district.models import Mall, Shop
from agora.members.models import Member, MemberTag, Message
from agora.members.services.codes import member_code_issue
from agora.points.models import EarningRule, LedgerTransaction
from agora.points.selectors import points_balance

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"
HX = {"HX-Request": "true"}


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert found, f"no hidden {name}"
    return found.group(1)


def field(body: str, name: str) -> str:
    """The field group of a form field that has an error."""
    found = re.search(rf'<div class="field has-error" data-field="{name}">.*?</div>', body, re.S)
    assert found, f"no error on {name}"
    return found.group(0)


def another_member() -> Member:
    """A member who has claimed nothing in the demo (the 满200减30 is once a day)."""
    return Member.objects.select_related("tier", "user").order_by("id")[4]


def mall(index: int = 1) -> Mall:
    return Mall.objects.order_by("id")[index - 1]


def starbucks(index: int = 1) -> Shop:
    return Shop.objects.get(mall=mall(index), name="星巴克")


def shopper() -> Member:
    return Member.objects.select_related("tier", "user").get(user__phone=SHOPPER)


def till_url(action: str = "", shop: Shop | None = None) -> str:
    shop = shop or starbucks()
    return f"/merchant/loyalty/{shop.pk}/" + (f"{action}/" if action else "")


def identify(client: Client, code: str, *, htmx: bool = True):  # type: ignore[no-untyped-def]
    return client.post(till_url("identify"), {"code": code}, headers=HX if htmx else {})


def starbucks_coupon(member: Member) -> Coupon:
    template = CouponTemplate.objects.get(mall=mall(1), title="星巴克 立减5元")
    return coupon_claim(member=member, template=template)


# --- the till -----------------------------------------------------------------------------
def test_till_page_of_the_cashier_shop() -> None:
    response = as_user("shop-cashier-1").get("/merchant/loyalty/")
    body = text(response)
    assert response.status_code == 200
    assert "<title>会员与优惠券 · Agora</title>" in body
    assert "<strong>星巴克</strong>" in body
    assert "会员识别" in body and "核销优惠券" in body
    assert f'hx-post="/merchant/loyalty/{starbucks().pk}/identify/"' in body
    assert 'hx-target="#till-member"' in body


def test_a_merchant_of_several_shops_picks_the_till_first() -> None:
    owner = User.objects.get(username="shop-owner-1b")
    own = RoleGrant.objects.get(user=owner).shop
    RoleGrant.objects.create(user=owner, role="merchant_cashier", shop=starbucks())
    client = Client()
    client.force_login(owner)
    body = text(client.get("/merchant/loyalty/"))
    assert "请选择您所在店铺的收银台：" in body
    assert f'href="/merchant/loyalty/{starbucks().pk}/"' in body
    assert own is not None and f'href="/merchant/loyalty/{own.pk}/"' in body
    page = text(client.get(till_url()))
    assert (
        f'<a href="/merchant/loyalty/{starbucks().pk}/" aria-current="page">星巴克 · 万象城</a>'
        in page
    )


def test_identify_with_a_fresh_member_code_shows_the_member_and_coupons() -> None:
    member = shopper()
    coupon = starbucks_coupon(member)
    code = member_code_issue(member=member).code
    response = identify(as_user("shop-cashier-1"), code)
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body  # a partial swap
    assert f'data-testid="member-name">{member.user.display_name[0]}*' in body
    assert member.user.display_name not in body
    tier = f'<span class="badge tier" data-testid="member-tier">{member.tier.name}</span>'
    assert tier in body
    balance = points_balance(member=member)
    assert f'data-testid="member-balance">{balance}</strong>' in body
    assert f"**** {member.card_no[-4:]}" in body
    assert f'<code class="coupon-code">{coupon.code}</code>' in body
    assert "可在本店使用" in body
    # the demo's 满200减30 of mall 1 applies here from ¥200
    assert '万象城 满200减30</strong> <span class="small">满¥200.00减¥30.00</span>' in body
    assert "需消费满 ¥200.00" in body
    assert hidden(body, "ticket")


def test_replayed_member_code_is_refused_in_the_page() -> None:
    cashier = as_user("shop-cashier-1")
    code = member_code_issue(member=shopper()).code
    assert identify(cashier, code).status_code == 200
    again = identify(cashier, code)
    body = text(again)
    assert '<p class="error" role="alert">此会员码已使用，请顾客重新出示会员码。</p>' in body
    assert 'data-testid="member"' not in body


def test_expired_and_unknown_codes_are_refused_in_the_page() -> None:
    cashier = as_user("shop-cashier-1")
    old = member_code_issue(member=shopper(), now=timezone.now() - timedelta(minutes=5)).code
    assert "此会员码已过期，请顾客刷新会员卡。" in text(identify(cashier, old))
    assert "这不是会员码或会员卡号。" in text(identify(cashier, "hello"))
    # without HTMX: the whole page with the error, status 400
    page = identify(cashier, "hello", htmx=False)
    assert page.status_code == 400
    assert "<html" in text(page) and "这不是会员码或会员卡号。" in text(page)


def food_points(member: Member, yuan: int) -> int:
    """星巴克 (food, mall 1): the mall's food rule 2 pt/yuan x the tier's multiplier, doubled
    by the mall's 2x campaign, rounded down."""
    member = Member.objects.select_related("tier").get(pk=member.pk)
    return int(
        (Decimal(yuan) * 2 * member.tier.points_multiplier * 2).to_integral_value(ROUND_FLOOR)
    )


def test_earn_through_the_till_adds_exact_points_once() -> None:
    member = shopper()
    before = points_balance(member=member)
    cashier = as_user("shop-cashier-1")
    body = text(identify(cashier, member_code_issue(member=member).code))
    data = {
        "ticket": hidden(body, "ticket"),
        "op": hidden(body, "op"),
        "amount": "30",
        "reference": "R-1001",
    }
    response = cashier.post(till_url("earn"), data, headers=HX)
    result = text(response)
    # e.g. 30 yuan x 2 pt/yuan x 银卡 1.2 = 72, doubled by the mall's 2x campaign = 144
    earned = food_points(member, 30)
    assert earned == {"普卡": 120, "银卡": 144, "金卡": 180, "钻石卡": 240}[member.tier.name]
    assert f"在 ¥30.00 消费上获得 {earned} 积分。" in result
    assert f"当前余额：{before + earned} 积分。" in result
    oob = f'id="member-balance" data-testid="member-balance" hx-swap-oob="true">{before + earned}'
    assert oob in result
    assert points_balance(member=member) == before + earned
    txn = LedgerTransaction.objects.get(key=f"till:{starbucks().pk}:{data['op']}")
    assert (txn.points, txn.reference, txn.shop_id) == (earned, "R-1001", starbucks().pk)
    # the same form sent again (a double click) is the same sale
    cashier.post(till_url("earn"), data, headers=HX)
    assert points_balance(member=member) == before + earned
    # a fresh form comes back for the next sale
    assert hidden(result, "op") != data["op"]
    # without JavaScript: the whole page with the member and the result (at the member's tier
    # after the first sale, which may have lifted it)
    data["op"] = hidden(result, "op")
    second = food_points(member, 30)
    page = cashier.post(till_url("earn"), data)
    assert page.status_code == 200
    assert "<html" in text(page) and f"在 ¥30.00 消费上获得 {second} 积分。" in text(page)
    assert points_balance(member=member) == before + earned + second
    assert f'data-testid="member-balance">{before + earned + second}</strong>' in text(page)


def test_earn_with_a_bad_amount_or_ticket_changes_nothing() -> None:
    member = shopper()
    before = points_balance(member=member)
    count = LedgerTransaction.objects.count()
    cashier = as_user("shop-cashier-1")
    body = text(identify(cashier, member_code_issue(member=member).code))
    ticket, op = hidden(body, "ticket"), hidden(body, "op")
    bad_amount = cashier.post(
        till_url("earn"), {"ticket": ticket, "op": op, "amount": "abc"}, headers=HX
    )
    assert "请输入以元为单位的金额，例如 30 或 12.50。" in text(bad_amount)
    bad_ticket = cashier.post(
        till_url("earn"), {"ticket": "forged", "op": op, "amount": "30"}, headers=HX
    )
    assert "请重新识别会员（扫描会员码）。" in text(bad_ticket)
    assert points_balance(member=member) == before
    assert LedgerTransaction.objects.count() == count


def test_spend_points_through_the_till() -> None:
    member = shopper()
    before = points_balance(member=member)
    cashier = as_user("shop-cashier-1")
    body = text(identify(cashier, member_code_issue(member=member).code))
    ticket = hidden(body, "ticket")
    spend_op = re.findall(r'name="op" value="([^"]*)"', body)[1]
    response = cashier.post(
        till_url("spend"), {"ticket": ticket, "op": spend_op, "points": "500"}, headers=HX
    )
    assert f"已使用 500 积分。 当前余额：{before - 500} 积分。" in text(response)
    assert points_balance(member=member) == before - 500
    too_many = cashier.post(
        till_url("spend"),
        {"ticket": ticket, "op": "f" * 32, "points": str(before)},
        headers=HX,
    )
    assert f"该会员只有 {before - 500} 积分。" in text(too_many)
    assert points_balance(member=member) == before - 500


def test_coupon_check_then_redeem_then_already_used() -> None:
    coupon = starbucks_coupon(shopper())
    template = coupon.template
    cashier = as_user("shop-cashier-1")
    check = cashier.post(
        till_url("coupon/check"), {"code": coupon.code, "amount": "30"}, headers=HX
    )
    body = text(check)
    assert "星巴克 立减5元" in body
    assert "可用：¥30.00 减 ¥5.00，顾客应付 ¥25.00。" in body
    assert f'<input type="hidden" name="code" value="{coupon.code}">' in body
    assert ">核销</button>" in body
    redeem = cashier.post(
        till_url("coupon/redeem"),
        {"code": coupon.code, "amount": "30", "reference": "R-77"},
        headers=HX,
    )
    body = text(redeem)
    assert "<strong>优惠券已核销。</strong>" in body
    assert "优惠 ¥5.00，顾客应付 ¥25.00。" in body
    coupon.refresh_from_db()
    assert (coupon.status, coupon.discount_fen, coupon.order_amount_fen) == ("redeemed", 500, 3000)
    assert coupon.redeemed_shop_id == starbucks().pk and coupon.reference == "R-77"
    again = cashier.post(
        till_url("coupon/redeem"), {"code": coupon.code, "amount": "30"}, headers=HX
    )
    assert '<p class="error" role="alert" data-testid="redeem-error">此券已使用。</p>' in text(
        again
    )
    recheck = cashier.post(
        till_url("coupon/check"), {"code": coupon.code, "amount": "30"}, headers=HX
    )
    assert "不可用：已使用" in text(recheck)
    template.refresh_from_db()
    assert template.redeemed == 1


def test_coupon_check_errors_and_out_of_scope() -> None:
    cashier = as_user("shop-cashier-1")
    unknown = cashier.post(till_url("coupon/check"), {"code": "ACDEFGHJKMNP", "amount": "30"})
    assert unknown.status_code == 400
    assert "没有这个券码的优惠券。" in text(unknown)
    assert "这不是券码。" in text(
        cashier.post(till_url("coupon/check"), {"code": "x", "amount": "30"}, headers=HX)
    )
    # the 满200减30 of mall 1 below its threshold: not usable, and says why
    threshold = CouponTemplate.objects.get(mall=mall(1), title__endswith="满200减30")
    coupon = Coupon.objects.filter(template=threshold, status="active").first()
    assert coupon is not None
    body = text(
        cashier.post(till_url("coupon/check"), {"code": coupon.code, "amount": "30"}, headers=HX)
    )
    assert "不可用：需消费满 ¥200.00" in body
    assert ">核销</button>" not in body


def test_other_shops_cashier_cannot_use_this_till() -> None:
    member = shopper()
    coupon = starbucks_coupon(member)
    code = member_code_issue(member=member).code
    other = as_user("shop-owner-1b")
    shop = starbucks()
    assert other.get(till_url()).status_code == 404
    assert identify(other, code).status_code == 404
    redeem = other.post(till_url("coupon/redeem"), {"code": coupon.code, "amount": "30"})
    assert redeem.status_code == 404
    earn = other.post(till_url("earn"), {"ticket": "x", "op": "a" * 32, "amount": "30"}, headers=HX)
    assert earn.status_code == 404
    coupon.refresh_from_db()
    assert coupon.status == "active"
    # the code was not used up: the right cashier can still scan it
    assert 'data-testid="member"' in text(identify(as_user("shop-cashier-1"), code))
    # its own till is another shop's
    own = text(other.get("/merchant/loyalty/"))
    assert "<strong>星巴克</strong>" not in own
    assert shop.name not in re.findall(r'data-testid="till-shop">.*?</p>', own)[0]


@pytest.mark.parametrize("login", ["mall-ops-1", "gov"])
def test_till_is_404_for_non_merchants(login: str) -> None:
    assert as_user(login).get("/merchant/loyalty/").status_code == 404
    assert as_user(login).get(till_url()).status_code == 404


def test_shopper_and_anonymous_cannot_open_the_consoles() -> None:
    shopper_client = Client()
    shopper_client.force_login(User.objects.get(phone=SHOPPER))
    assert shopper_client.get("/ops/loyalty/").status_code == 404
    assert shopper_client.get("/merchant/loyalty/").status_code == 404
    response = Client().get("/ops/loyalty/coupons/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/ops/loyalty/coupons/"


def test_ticket_of_one_shop_does_not_work_at_another() -> None:
    member = shopper()
    cashier = as_user("shop-cashier-1")
    body = text(identify(cashier, member_code_issue(member=member).code))
    ticket = hidden(body, "ticket")
    owner2 = as_user("shop-owner-2")
    before = points_balance(member=member)
    response = owner2.post(
        till_url("earn", starbucks(2)),
        {"ticket": ticket, "op": "b" * 32, "amount": "30"},
        headers=HX,
    )
    assert "请重新识别会员（扫描会员码）。" in text(response)
    assert points_balance(member=member) == before


# --- the operator console ---------------------------------------------------------------------
def test_ops_rules_tab_lists_rules_and_campaigns() -> None:
    response = as_user("mall-ops-1").get("/ops/loyalty/")
    body = text(response)
    assert response.status_code == 200
    assert "<h1>会员营销 · 万象城</h1>" in body
    assert '<a href="/ops/loyalty/" aria-current="page">规则与活动</a>' in body
    assert "商圈通用积分 1 分/元" in body
    assert "万象城 餐饮 2 分/元" in body
    assert "星河COCO Park 餐饮 2 分/元" not in body
    assert "万象城 周末双倍积分" in body and "进行中" in body
    assert body.count('<tr>\n      <th scope="row">') >= 2


def test_ops_sets_a_mall_rule_and_a_campaign() -> None:
    ops = as_user("mall-ops-1")
    response = ops.post(
        "/ops/loyalty/rules/",
        {"category": "", "name": "万象城 3 分/元", "points_per_yuan": "3", "funder": "mall"},
    )
    assert response.status_code == 302
    rule = EarningRule.objects.get(name="万象城 3 分/元", active=True)
    assert (rule.mall_id, rule.points_per_yuan, rule.daily_cap) == (mall(1).pk, 3, None)
    assert "万象城 3 分/元" in text(ops.get("/ops/loyalty/"))
    count = EarningRule.objects.count()
    bad = ops.post(
        "/ops/loyalty/rules/",
        {"category": "", "name": "太多", "points_per_yuan": "500", "funder": "mall"},
    )
    assert bad.status_code == 400
    assert "每元 0 到 100 积分" in text(bad) or "between 0 and 100" in text(bad)
    assert EarningRule.objects.count() == count
    start = timezone.localtime() + timedelta(days=1)
    campaign = ops.post(
        "/ops/loyalty/campaigns/",
        {
            "name": "店庆三倍",
            "multiplier": "3",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert campaign.status_code == 302
    page = text(ops.get("/ops/loyalty/"))
    assert "店庆三倍" in page and "未开始" in page


def test_ops_coupons_tab_has_live_counts() -> None:
    threshold = CouponTemplate.objects.get(mall=mall(1), title="万象城 满200减30")
    response = as_user("mall-ops-1").get("/ops/loyalty/coupons/")
    body = text(response)
    assert response.status_code == 200
    row = re.search(rf'<tr data-template="{threshold.pk}">.*?</tr>', body, re.S)
    assert row is not None
    cells = re.findall(r'data-stat="(\w+)">(\d+)<', row.group(0))
    assert cells == [("stock_left", "498"), ("issued", "2"), ("redeemed", "1")]
    assert 'hx-get="/ops/loyalty/coupons/stats/" hx-trigger="every 10s"' in body
    # mall 2's coupons are not mall 1's operator's
    assert "星河COCO Park 满200减30" not in body
    # a claim shows up in the polled rows
    coupon_claim(member=another_member(), template=threshold)
    rows = text(as_user("mall-ops-1").get("/ops/loyalty/coupons/stats/", headers=HX))
    assert rows.startswith('<tbody id="coupon-rows"')
    row = re.search(rf'<tr data-template="{threshold.pk}">.*?</tr>', rows, re.S)
    assert row is not None
    assert re.findall(r'data-stat="(\w+)">(\d+)<', row.group(0)) == [
        ("stock_left", "497"),
        ("issued", "3"),
        ("redeemed", "1"),
    ]


def _template_post(**over: str) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "threshold",
        "title": "周年庆 满300减50",
        "value": "50",
        "threshold": "300",
        "valid_days": "30",
        "claim_ends": (timezone.localtime() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "total_stock": "100",
        "per_member_total": "1",
        "per_member_daily": "0",
        "channels": ["app", "push"],
    }
    data.update(over)
    return data


def test_ops_creates_a_mall_coupon_template() -> None:
    ops = as_user("mall-ops-1")
    response = ops.post("/ops/loyalty/coupons/new/", _template_post())
    assert response.status_code == 302
    template = CouponTemplate.objects.get(title="周年庆 满300减50")
    assert (template.mall_id, template.issuer, template.funder) == (mall(1).pk, "mall", "mall")
    assert (template.value_fen, template.threshold_fen, template.total_stock) == (5000, 30000, 100)
    assert template.channels == ["app", "push"]
    assert "周年庆 满300减50" in text(ops.get("/ops/loyalty/coupons/"))


def test_ops_template_errors_are_next_to_the_fields_and_nothing_is_created() -> None:
    count = CouponTemplate.objects.count()
    response = as_user("mall-ops-1").post(
        "/ops/loyalty/coupons/new/", _template_post(threshold="40", total_stock="0")
    )
    body = text(response)
    assert response.status_code == 400
    threshold = field(body, "threshold")
    assert "使用门槛必须高于减免金额。" in threshold
    assert "库存" in field(body, "total_stock") and "1 到 10,000,000 之间。" in field(
        body, "total_stock"
    )
    assert CouponTemplate.objects.count() == count


def test_ops_pauses_resumes_and_ends_a_template() -> None:
    ops = as_user("mall-ops-1")
    template = CouponTemplate.objects.get(mall=mall(1), title="万象城 满200减30")
    url = f"/ops/loyalty/coupons/{template.pk}/status/"
    assert ops.post(url, {"action": "pause"}).status_code == 302
    template.refresh_from_db()
    assert template.status == "paused"
    ops.post(url, {"action": "resume"})
    template.refresh_from_db()
    assert template.status == "active"
    ops.post(url, {"action": "end"})
    response = ops.post(url, {"action": "resume"}, follow=True)
    assert "已结束的优惠券不能再更改。" in text(response)
    template.refresh_from_db()
    assert template.status == "ended"
    # another mall's operator: the template does not exist for them
    other = CouponTemplate.objects.get(mall=mall(2), title__endswith="满200减30")
    assert (
        ops.post(f"/ops/loyalty/coupons/{other.pk}/status/", {"action": "end"}).status_code == 404
    )
    other.refresh_from_db()
    assert other.status == "active"


def test_ops_pushes_a_coupon_to_members_with_a_tag() -> None:
    ops = as_user("mall-ops-1")
    members = list(Member.objects.order_by("id")[:3])
    for m in members:
        MemberTag.objects.create(member=m, tag="vip-test", kind="manual", created_at=timezone.now())
    template = CouponTemplate.objects.get(mall=mall(1), title="万象城 满200减30")
    before = template.issued
    response = ops.post(
        "/ops/loyalty/coupons/push/", {"template": template.pk, "tag": "vip-test"}, follow=True
    )
    body = text(response)
    template.refresh_from_db()
    issued = template.issued - before
    assert issued >= 1
    assert f"已向 3 位带标签“vip-test”的会员中的 {issued} 位推送“万象城 满200减30”。" in body
    none = ops.post("/ops/loyalty/coupons/push/", {"template": template.pk, "tag": "nobody"})
    assert none.status_code == 400
    assert "没有会员带有标签“nobody”。" in text(none)


def test_ops_member_search_masks_phones() -> None:
    member = shopper()
    ops = as_user("mall-ops-1")
    body = text(ops.get("/ops/loyalty/members/", {"q": SHOPPER[-4:]}))
    assert "138****0001" in body
    assert SHOPPER not in body
    assert f"/ops/loyalty/members/{member.pk}/" in body
    by_card = text(ops.get("/ops/loyalty/members/", {"q": member.card_no}))
    assert 'data-testid="member-count">1 位会员' in by_card
    by_tag = text(ops.get("/ops/loyalty/members/", {"tag": "no-such-tag"}))
    assert "没有匹配的会员。" in by_tag


def test_ops_member_detail_and_adjust() -> None:
    member = shopper()
    ops = as_user("mall-ops-1")
    url = f"/ops/loyalty/members/{member.pk}/"
    body = text(ops.get(url))
    balance = points_balance(member=member)
    assert f'data-testid="balance">{balance}</strong>' in body
    assert f'<span class="badge tier">{member.tier.name}</span>' in body
    op = hidden(body, "op")
    response = ops.post(
        url + "adjust/", {"op": op, "points": "120", "reason": "服务补偿", "mall": mall(1).pk}
    )
    assert response.status_code == 302
    assert points_balance(member=member) == balance + 120
    txn = LedgerTransaction.objects.get(key=f"ops-adjust:{member.pk}:{op}")
    assert (txn.points, txn.reason, txn.mall_id) == (120, "服务补偿", mall(1).pk)
    page = text(ops.get(url))
    assert "+120" in page and "服务补偿" in page


def test_adjust_without_a_reason_shows_an_error_and_changes_nothing() -> None:
    member = shopper()
    ops = as_user("mall-ops-1")
    balance = points_balance(member=member)
    count = LedgerTransaction.objects.count()
    url = f"/ops/loyalty/members/{member.pk}/adjust/"
    response = ops.post(url, {"op": "c" * 32, "points": "100", "reason": "", "mall": mall(1).pk})
    body = text(response)
    assert response.status_code == 400
    assert "此项为必填项。" in field(body, "reason")
    one_char = ops.post(url, {"op": "d" * 32, "points": "100", "reason": "x", "mall": mall(1).pk})
    assert "请说明原因（至少 2 个字）。" in text(one_char)
    assert points_balance(member=member) == balance
    assert LedgerTransaction.objects.count() == count
    # another mall's pool is not this operator's to charge
    other = ops.post(url, {"op": "e" * 32, "points": "100", "reason": "补偿", "mall": mall(2).pk})
    assert other.status_code in (400, 404)
    assert LedgerTransaction.objects.count() == count


def test_ops_member_tags_add_and_remove() -> None:
    member = shopper()
    ops = as_user("mall-ops-1")
    url = f"/ops/loyalty/members/{member.pk}/"
    assert ops.post(url + "tags/", {"tag": "咖啡爱好者"}).status_code == 302
    assert MemberTag.objects.filter(member=member, tag="咖啡爱好者", kind="manual").exists()
    bad = ops.post(url + "tags/", {"tag": "rfm:champion"})
    assert bad.status_code == 400
    assert not MemberTag.objects.filter(member=member, tag="rfm:champion", kind="manual").exists()
    dup = ops.post(url + "tags/", {"tag": "咖啡爱好者"})
    assert "该会员已有此标签。" in text(dup)
    ops.post(url + "tags/remove/", {"tag": "咖啡爱好者"})
    assert not MemberTag.objects.filter(member=member, tag="咖啡爱好者").exists()


def test_clearing_reports_and_csv_downloads() -> None:
    member = shopper()
    coupon = starbucks_coupon(member)
    # the 满200减30 of mall 1 redeemed at 星巴克: the mall owes 星巴克 ¥30
    cashier = as_user("shop-cashier-1")
    cashier.post(till_url("coupon/redeem"), {"code": coupon.code, "amount": "30"})
    threshold = CouponTemplate.objects.get(mall=mall(1), title="万象城 满200减30")
    mall_coupon = coupon_claim(member=another_member(), template=threshold)
    cashier.post(till_url("coupon/redeem"), {"code": mall_coupon.code, "amount": "250"})
    ops = as_user("mall-ops-1")
    body = text(ops.get("/ops/loyalty/clearing/"))
    assert (
        '<tr><th scope="row">万象城</th><td>星巴克</td><td class="num">1</td><td class="num">¥30.00</td></tr>'
        in body
    )
    assert "星巴克 立减5元" not in body  # its own coupon in its own shop settles nothing
    today = timezone.localdate()
    assert f'value="{today.replace(day=1).isoformat()}"' in body
    coupons_csv = ops.get("/ops/loyalty/clearing/coupons.csv")
    assert coupons_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in coupons_csv["Content-Disposition"]
    raw = coupons_csv.content
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "付款方,核销商户,券数,金额（元）"
    assert "万象城,星巴克,1,30.00" in lines
    points_csv = ops.get("/ops/loyalty/clearing/points.csv")
    lines = points_csv.content.decode("utf-8-sig").splitlines()
    assert points_csv.content.startswith(b"\xef\xbb\xbf")
    assert lines[0] == "资金池,类型,发放积分,回收积分,净积分,净额（元）"
    # a period without activity
    empty = text(ops.get("/ops/loyalty/clearing/", {"start": "2020-01-01", "end": "2020-01-31"}))
    assert "本期没有需要清算的核销。" in empty
    bad = ops.get("/ops/loyalty/clearing/coupons.csv", {"start": "2020-02-01", "end": "2020-01-01"})
    assert bad.status_code == 404


def test_desk_reply_and_promotion() -> None:
    from agora.members.services.inbox import message_to_desk

    member = shopper()
    message_to_desk(member=member, mall_id=mall(1).pk, body="停车券怎么用？")
    ops = as_user("mall-ops-1")
    body = text(ops.get("/ops/loyalty/desk/"))
    assert "停车券怎么用？" in body
    assert "1 条未回复" in body
    response = ops.post(f"/ops/loyalty/desk/{member.pk}/reply/", {"body": "出场时自动抵扣。"})
    assert response.status_code == 302
    reply = Message.objects.filter(member=member, direction="to_member", kind="service").first()
    assert reply is not None and reply.body == "出场时自动抵扣。" and reply.mall_id == mall(1).pk
    assert "0 条未回复" in text(ops.get("/ops/loyalty/desk/"))
    empty = ops.post(f"/ops/loyalty/desk/{member.pk}/reply/", {"body": ""})
    assert empty.status_code == 400
    count = Message.objects.count()
    promo = ops.post(
        "/ops/loyalty/desk/promotion/",
        {"title": "周末特惠", "body": "全场满200减30。", "tag": ""},
        follow=True,
    )
    sent = Message.objects.count() - count
    total = Member.objects.filter(district_id=mall(1).district_id).count()
    assert (
        f"促销消息已发送给 {sent} 位会员；{total - sent} 位未发送（未同意接收营销消息）。"
        in text(promo)
    )


def test_district_operator_switches_malls_and_sees_the_district() -> None:
    ops = as_user("district-ops")
    body = text(ops.get("/ops/loyalty/coupons/", {"mall": mall(2).pk}))
    assert "<h1>会员营销 · 星河COCO Park</h1>" in body
    assert "星河COCO Park 满200减30" in body
    assert f'href="/ops/loyalty/?mall={mall(2).pk}"' in body
    clearing = text(ops.get("/ops/loyalty/clearing/", {"mall": mall(1).pk}))
    assert 'name="scope" value="district"' in clearing
    # mall-ops-1 may not pick mall 2
    assert as_user("mall-ops-1").get("/ops/loyalty/", {"mall": mall(2).pk}).status_code == 404


def test_consoles_in_english() -> None:
    ops = as_user("mall-ops-1")
    ops.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = text(ops.get("/ops/loyalty/coupons/"))
    assert "<h1>Loyalty · 万象城</h1>" in body
    assert "Stock left" in body and "Claimed" in body
    cashier = as_user("shop-cashier-1")
    cashier.post("/i18n/setlang/", {"language": "en", "next": "/"})
    till = text(cashier.get("/merchant/loyalty/"))
    assert "Identify the member" in till and "Redeem a coupon" in till
    code = member_code_issue(member=shopper()).code
    identify(cashier, code)
    assert "This member code was already used" in text(identify(cashier, code))
