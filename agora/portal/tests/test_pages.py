"""The server-rendered pages, through Django's test client, on the SMALL demo district.

Chinese is the default language; English after the language switch. Console pages are 404 for
the wrong roles, and a denied write leaves the data as it was."""

from __future__ import annotations

import json
import re
from datetime import time

import pytest
from django.conf import settings
from django.test import Client

from agora.accounts.models import ConsentRecord, RoleGrant, User
from agora.accounts.sms import LocmemSmsBackend
from agora.district.models import Floor, Mall, MerchantApplication, Shop, Zone

pytestmark = pytest.mark.django_db

STARBUCKS = "星巴克"
SHOPPER_PHONE = "13800000001"
LICENCE = "91440300MA5FXK2Q1X"


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def as_shopper(phone: str = SHOPPER_PHONE) -> Client:
    client = Client()
    client.force_login(User.objects.get(phone=phone))
    return client


def english(client: Client) -> Client:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def mall(index: int) -> Mall:
    return Mall.objects.order_by("id")[index - 1]


def starbucks(index: int = 1) -> Shop:
    return Shop.objects.get(mall=mall(index), name=STARBUCKS)


def ground_floor(index: int = 1) -> Floor:
    return Floor.objects.get(mall=mall(index), level=1)


# --- shopper shell ---------------------------------------------------------------------------
def test_home_is_chinese_by_default_with_malls_and_hours() -> None:
    response = Client().get("/")
    body = text(response)
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in body
    assert "<title>首页 · Agora</title>" in body
    assert "一个应用，逛遍商圈所有商场" in body
    assert "商圈商场" in body
    for m in Mall.objects.all():
        assert f"<h3>{m.name}</h3>" in body
    assert "营业时间" in body
    assert "<time>10:00</time>–<time>22:00</time>" in body
    assert 'hx-get="/directory/search/"' in body
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in body
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body
    # the language switch posts to set_language with the current path
    assert '<form method="post" action="/i18n/setlang/" class="lang-switch">' in body
    assert '<input type="hidden" name="next" value="/">' in body
    assert ">中文</button>" in body
    assert ">English</button>" in body


def test_home_in_english_after_the_switch() -> None:
    client = english(Client())
    body = text(client.get("/"))
    assert '<html lang="en">' in body
    assert "Every mall of the district in one app" in body
    assert "Malls of the district" in body
    assert "Opening hours" in body
    assert "商圈商场" not in body


def test_directory_search_finds_starbucks_by_initials() -> None:
    response = Client().get("/directory/search/", {"q": "xbk"}, headers={"HX-Request": "true"})
    body = text(response)
    assert response.status_code == 200
    assert "<html" not in body  # a partial
    assert body.count(f'<strong class="shop-name">{STARBUCKS}</strong>') == 2
    shop = starbucks(1)
    unit = shop.units.get()
    assert f'href="/floors/{unit.floor_id}/?shop={shop.pk}"' in body


def test_directory_search_without_a_match_says_so() -> None:
    body = text(Client().get("/directory/search/", {"q": "qqqqzz"}))
    assert "没有营业中的店铺匹配“qqqqzz”。" in body


def test_home_without_javascript_shows_results_inline() -> None:
    body = text(Client().get("/", {"q": "xingbake"}))
    assert f'<strong class="shop-name">{STARBUCKS}</strong>' in body


def test_manifest_and_service_worker() -> None:
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "智慧商圈 Agora"
    assert data["start_url"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"] == "#0f766e"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512", "any"} <= sizes
    client = Client()
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
    sw = Client().get("/sw.js")
    assert sw.status_code == 200
    assert sw["Content-Type"] == "application/javascript; charset=utf-8"
    assert '"/static/agora/app.css"' in text(sw)
    assert 'addEventListener("fetch"' in text(sw)


# --- SMS sign-in -------------------------------------------------------------------------------
def test_sms_login_through_the_page() -> None:
    client = Client()
    assert "手机号登录" in text(client.get("/login/"))
    htmx = {"HX-Request": "true"}

    bad = client.post("/login/", {"step": "request", "phone": "12345"}, headers=htmx)
    assert '<p class="error" id="phone-error">请输入 11 位中国大陆手机号码。</p>' in text(bad)
    assert LocmemSmsBackend.outbox == []

    sent = client.post("/login/", {"step": "request", "phone": SHOPPER_PHONE}, headers=htmx)
    body = text(sent)
    assert f"验证码已发送至 {SHOPPER_PHONE}。" in body
    assert 'name="code"' in body
    phone, sms = LocmemSmsBackend.outbox[-1]
    assert phone == SHOPPER_PHONE
    code = re.search(r"\d{6}", sms).group(0)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"

    failed = client.post(
        "/login/", {"step": "verify", "phone": SHOPPER_PHONE, "code": wrong}, headers=htmx
    )
    assert '<p class="error" id="code-error">验证码错误。</p>' in text(failed)
    assert "_auth_user_id" not in client.session

    ok = client.post(
        "/login/", {"step": "verify", "phone": SHOPPER_PHONE, "code": code}, headers=htmx
    )
    assert ok.status_code == 200
    assert ok["HX-Redirect"] == "/"
    shopper = User.objects.get(phone=SHOPPER_PHONE)
    assert client.session["_auth_user_id"] == str(shopper.pk)
    home = text(client.get("/"))
    assert f'<span class="who" data-testid="user-name">{shopper}</span>' in home
    assert '<span class="badge role">顾客</span>' in home
    assert '<a href="/me/data/">我的数据与授权</a>' in home
    assert ">退出登录</button>" in home


def test_sms_login_without_htmx_is_a_full_page_and_redirects() -> None:
    client = Client()
    body = text(client.post("/login/", {"phone": SHOPPER_PHONE, "next": "/me/data/"}))
    assert "<html" in body and 'name="code"' in body
    code = re.search(r"\d{6}", LocmemSmsBackend.outbox[-1][1]).group(0)  # type: ignore[union-attr]
    response = client.post(
        "/login/", {"step": "verify", "phone": SHOPPER_PHONE, "code": code, "next": "/me/data/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/data/"


def test_sms_code_requests_are_rate_limited_on_the_page() -> None:
    client = Client()
    client.post("/login/", {"step": "request", "phone": SHOPPER_PHONE})
    again = text(client.post("/login/", {"step": "request", "phone": SHOPPER_PHONE}))
    assert re.search(r"请等待 \d+ 秒后再获取验证码。", again)
    assert len(LocmemSmsBackend.outbox) == 1


# --- staff sign-in -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("admin", "/ops/"),
        ("district-ops", "/ops/"),
        ("mall-ops-1", "/ops/"),
        ("gov", "/gov/"),
        ("shop-owner-1", "/merchant/"),
        ("shop-cashier-1", "/merchant/"),
    ],
)
def test_staff_login_lands_on_the_role_home(username: str, home: str) -> None:
    client = Client()
    assert "员工登录" in text(client.get("/staff/login/"))
    response = client.post("/staff/login/", {"username": username, "password": "agora-demo-2026"})
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_staff_login_with_a_wrong_password_stays_on_the_form() -> None:
    client = Client()
    response = client.post("/staff/login/", {"username": "gov", "password": "wrong-password"})
    assert response.status_code == 200
    assert '<p class="error" role="alert">' in text(response)
    assert "_auth_user_id" not in client.session


def test_sign_out() -> None:
    client = as_user("gov")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- role gates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("login", "url"),
    [
        ("gov", "/merchant/"),
        ("district-ops", "/merchant/"),
        ("admin", "/merchant/"),
        (SHOPPER_PHONE, "/merchant/"),
        ("gov", "/ops/"),
        ("shop-owner-1", "/ops/"),
        ("shop-cashier-1", "/ops/directory/"),
        (SHOPPER_PHONE, "/ops/applications/"),
        ("admin", "/gov/"),
        ("district-ops", "/gov/"),
        ("shop-owner-1", "/gov/"),
        (SHOPPER_PHONE, "/gov/"),
    ],
)
def test_console_pages_are_404_for_the_wrong_roles(login: str, url: str) -> None:
    client = as_shopper(login) if login.isdigit() else as_user(login)
    response = client.get(url)
    assert response.status_code == 404
    assert "页面不存在" in text(response)


@pytest.mark.parametrize("url", ["/merchant/", "/ops/", "/ops/directory/", "/gov/"])
def test_console_pages_send_anonymous_visitors_to_the_staff_sign_in(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/login/?next={url}"


def test_menus_differ_by_role() -> None:
    gov = text(as_user("gov").get("/gov/"))
    assert '<a href="/gov/" aria-current="page">政务</a>' in gov
    assert "商户后台" not in gov and "商圈概览" not in gov
    ops = text(as_user("district-ops").get("/ops/"))
    assert '<a href="/ops/" aria-current="page">商圈概览</a>' in ops
    assert '<a href="/ops/directory/">店铺名录</a>' in ops
    assert '<a href="/ops/applications/">商户入驻</a>' in ops
    assert '<span class="badge role">商圈运营</span>' in ops
    assert "我的数据与授权" not in ops
    anon = text(Client().get("/"))
    assert '<a href="/apply/">申请开店</a>' in anon


# --- merchant console --------------------------------------------------------------------------
def test_owner_sees_own_shop_with_an_edit_form() -> None:
    body = text(as_user("shop-owner-1").get("/merchant/"))
    shop = starbucks(1)
    assert "<h1>商户后台</h1>" in body
    assert f"<h2>{STARBUCKS}</h2>" in body
    assert '<span class="badge role">店主</span>' in body
    assert "修改营业时间和联系方式" in body
    assert f'action="/merchant/shops/{shop.pk}/"' in body
    unit = shop.units.get()
    assert f"{unit.floor.name} {unit.code}</a>" in body
    # only the owner's own shop
    assert Shop.objects.filter(mall=mall(1)).count() > 1
    assert body.count('<article class="card shop"') == 1


def test_cashier_sees_the_shop_read_only() -> None:
    body = text(as_user("shop-cashier-1").get("/merchant/"))
    assert f"<h2>{STARBUCKS}</h2>" in body
    assert '<span class="badge role">收银员</span>' in body
    assert "您的角色可以查看本店信息，但不能修改。" in body
    assert "/merchant/shops/" not in body


def test_owner_edits_hours_phone_and_description() -> None:
    shop = starbucks(1)
    client = as_user("shop-owner-1")
    response = client.post(
        f"/merchant/shops/{shop.pk}/",
        {
            "opens_at": "08:30",
            "closes_at": "21:30",
            "phone": "0755-88886666",
            "description": "手冲咖啡",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/merchant/"
    shop.refresh_from_db()
    assert (shop.opens_at, shop.closes_at) == (time(8, 30), time(21, 30))
    assert shop.phone == "0755-88886666"
    assert shop.description == "手冲咖啡"
    assert f"{STARBUCKS} 已保存。" in text(client.get("/merchant/"))


def test_equal_hours_are_shown_next_to_the_field_and_nothing_changes() -> None:
    shop = starbucks(1)
    before = (shop.opens_at, shop.closes_at)
    response = as_user("shop-manager-1").post(
        f"/merchant/shops/{shop.pk}/",
        {"opens_at": "09:00", "closes_at": "09:00", "phone": "", "description": ""},
    )
    assert response.status_code == 400
    assert "打烊时间不能与开门时间相同。" in text(response)
    shop.refresh_from_db()
    assert (shop.opens_at, shop.closes_at) == before


@pytest.mark.parametrize(("login", "other"), [("shop-owner-1", "1b"), ("shop-owner-1", "2")])
def test_merchant_cannot_edit_another_shop(login: str, other: str) -> None:
    target = RoleGrant.objects.get(user__username=f"shop-owner-{other}").shop
    assert target is not None
    before = (target.opens_at, target.closes_at, target.phone, target.description)
    response = as_user(login).post(
        f"/merchant/shops/{target.pk}/",
        {"opens_at": "01:00", "closes_at": "02:00", "phone": "110", "description": "hacked"},
    )
    assert response.status_code == 404
    target.refresh_from_db()
    assert (target.opens_at, target.closes_at, target.phone, target.description) == before


def test_cashier_cannot_edit_own_shop() -> None:
    shop = starbucks(1)
    before = (shop.opens_at, shop.phone)
    response = as_user("shop-cashier-1").post(
        f"/merchant/shops/{shop.pk}/",
        {"opens_at": "01:00", "closes_at": "02:00", "phone": "110", "description": ""},
    )
    assert response.status_code == 403
    shop.refresh_from_db()
    assert (shop.opens_at, shop.phone) == before


def test_operator_is_not_a_merchant_on_the_merchant_pages() -> None:
    shop = starbucks(1)
    response = as_user("mall-ops-1").post(
        f"/merchant/shops/{shop.pk}/",
        {"opens_at": "01:00", "closes_at": "02:00", "phone": "", "description": ""},
    )
    assert response.status_code == 404


def test_merchant_console_in_english() -> None:
    body = text(english(as_user("shop-owner-1")).get("/merchant/"))
    assert "<h1>Merchant console</h1>" in body
    assert '<span class="badge role">Merchant owner</span>' in body
    assert "Edit hours and contact" in body


# --- operator console --------------------------------------------------------------------------
def test_district_operator_overview() -> None:
    body = text(as_user("district-ops").get("/ops/"))
    assert "<h1>商圈概览</h1>" in body
    for m in Mall.objects.all():
        assert f'<th scope="row">{m.name}</th>' in body
        for floor in Floor.objects.filter(mall=m):
            assert f'<a class="chip" href="/floors/{floor.pk}/">{floor.name}</a>' in body
    shops = Shop.objects.count()
    assert f'<span class="num">{shops}</span><span>店铺</span>' in body
    assert "空置率" in body


def test_mall_operator_sees_only_the_own_mall() -> None:
    body = text(as_user("mall-ops-1").get("/ops/"))
    assert f'<th scope="row">{mall(1).name}</th>' in body
    assert f'<th scope="row">{mall(2).name}</th>' not in body


def test_ops_directory_live_search() -> None:
    htmx = {"HX-Request": "true"}
    body = text(as_user("district-ops").get("/ops/directory/", {"q": "xbk"}, headers=htmx))
    assert "<html" not in body
    assert "共 2 家店铺" in body
    assert body.count(f'<th scope="row">{STARBUCKS}</th>') == 2
    own = text(as_user("mall-ops-1").get("/ops/directory/", {"q": "xbk"}, headers=htmx))
    assert "共 1 家店铺" in own
    assert starbucks(1).phone in own
    assert starbucks(2).phone not in own
    full = text(as_user("mall-ops-1").get("/ops/directory/"))
    assert "<h1>店铺名录</h1>" in full
    assert f"共 {Shop.objects.filter(mall=mall(1)).count()} 家店铺" in full


def test_ops_pages_in_english() -> None:
    client = english(as_user("district-ops"))
    assert "<h1>District overview</h1>" in text(client.get("/ops/"))
    assert "2 shops" in text(client.get("/ops/directory/", {"q": "xbk"}))


# --- government --------------------------------------------------------------------------------
def test_government_home_has_counts_and_plans_but_no_shop_contacts() -> None:
    body = text(as_user("gov").get("/gov/"))
    assert "<h1>商圈概况</h1>" in body
    for m in Mall.objects.all():
        assert f'<th scope="row">{m.name}</th>' in body
    floor = ground_floor(1)
    assert f'href="/floors/{floor.pk}/"' in body
    assert f'<span class="num">{Shop.objects.count()}</span><span>店铺</span>' in body
    for shop in Shop.objects.all():
        assert shop.phone not in body
        if shop.contact_name:
            assert shop.contact_name not in body
    assert "空置" not in body


def test_government_home_in_english() -> None:
    body = text(english(as_user("gov")).get("/gov/"))
    assert "<h1>District at a glance</h1>" in body
    assert "Open shops" in body


# --- floor plans -------------------------------------------------------------------------------
def test_floor_plan_is_public_svg_with_every_zone() -> None:
    floor = ground_floor(1)
    body = text(Client().get(f"/floors/{floor.pk}/"))
    assert f'<h1><span class="mall-name">{floor.mall.name}</span> · ' in body
    assert f'viewBox="0 0 {floor.width_m:g} {floor.depth_m:g}"' in body
    zones = Zone.objects.filter(floor=floor).count()
    assert body.count('<polygon id="zone-') == zones
    assert re.search(rf"<tspan[^>]*>{STARBUCKS}</tspan>", body)
    for f in Floor.objects.filter(mall=floor.mall):
        assert f'href="/floors/{f.pk}/"' in body
    assert f'<a href="/floors/{floor.pk}/" aria-current="page">1F</a>' in body
    assert '<h2 class="small">图例</h2>' in body
    assert '<span class="swatch" style="background:#ccfbf1"></span>商铺' in body


def test_floor_plan_highlights_a_shop_and_speaks_english() -> None:
    shop = starbucks(1)
    unit = shop.units.get()
    body = text(english(Client()).get(f"/floors/{unit.floor_id}/", {"shop": shop.pk}))
    assert 'class="zone zone-shop-unit zone-hl"' in body
    assert "Shops on this floor" in body
    assert "Legend" in body


def test_unknown_floor_is_404() -> None:
    assert Client().get("/floors/999999/").status_code == 404


# --- my data and consents ----------------------------------------------------------------------
def test_my_data_needs_a_sign_in() -> None:
    response = Client().get("/me/data/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/me/data/"


def test_my_data_lists_the_four_purposes() -> None:
    body = text(as_shopper().get("/me/data/"))
    assert "<h1>我的数据与授权</h1>" in body
    for label in ("位置追踪", "营销消息", "基于画像的营销", "与合作方共享数据"):
        assert f"<strong>{label}</strong>" in body
    assert body.count("尚未授权：关闭。") == 4
    assert "下载我的数据（JSON）" in body
    assert "注销我的账号" in body


def test_consent_toggle_creates_exactly_one_record() -> None:
    user = User.objects.get(phone=SHOPPER_PHONE)
    client = as_shopper()
    before = ConsentRecord.objects.count()
    response = client.post(
        "/me/data/consent/",
        {"purpose": "marketing_messages", "granted": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert ConsentRecord.objects.count() == before + 1
    record = ConsentRecord.objects.filter(user=user).latest("id")
    assert (record.purpose, record.granted, record.source, record.policy_version) == (
        "marketing_messages",
        True,
        "web",
        settings.PRIVACY_POLICY_VERSION,
    )
    assert 'aria-checked="true"' in text(response)
    withdraw = client.post("/me/data/consent/", {"purpose": "marketing_messages", "granted": "0"})
    assert withdraw.status_code == 302
    assert ConsentRecord.objects.count() == before + 2
    assert ConsentRecord.objects.filter(user=user).latest("id").granted is False


def test_consent_with_an_unknown_purpose_changes_nothing() -> None:
    before = ConsentRecord.objects.count()
    response = as_shopper().post(
        "/me/data/consent/",
        {"purpose": "selling_data", "granted": "1"},
        headers={"HX-Request": "true"},
    )
    assert "请从列表中选择。" in text(response)
    assert ConsentRecord.objects.count() == before


def test_export_is_a_json_attachment_with_the_phone() -> None:
    response = as_shopper().get("/me/data/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="agora-personal-data.json"'
    data = json.loads(response.content)
    assert data["format"] == "agora.personal-data.v1"
    assert data["account"]["phone"] == SHOPPER_PHONE


def test_delete_needs_the_confirmation_word() -> None:
    user = User.objects.get(phone=SHOPPER_PHONE)
    response = as_shopper().post("/me/data/delete/", {"confirm": "delete"})
    assert "请输入 DELETE 以确认。" in text(response)
    user.refresh_from_db()
    assert user.is_active and user.anonymised_at is None


def test_delete_anonymises_and_signs_out() -> None:
    user = User.objects.get(phone=SHOPPER_PHONE)
    client = as_shopper()
    response = client.post("/me/data/delete/", {"confirm": "DELETE"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    user.refresh_from_db()
    assert user.username == f"deleted-{user.pk}"
    assert user.phone is None
    assert user.display_name == ""
    assert user.is_active is False
    assert user.anonymised_at is not None
    assert "_auth_user_id" not in client.session
    assert "您的账号已注销，个人信息已删除。" in text(client.get("/"))


# --- onboarding: apply → review ----------------------------------------------------------------
def _apply(client: Client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {
        "mall": str(mall(1).pk),
        "shop_name": "拾光书店",
        "brand": "拾光",
        "category": "services",
        "contact_name": "林晓",
        "contact_phone": "139 1234 5678",
        "contact_email": "lin@example.com",
        "licence_number": LICENCE,
        **overrides,
    }
    return client.post("/apply/", data)


def test_apply_shows_field_errors_inline() -> None:
    before = MerchantApplication.objects.count()
    response = _apply(Client(), licence_number="91440300MA5FXK2Q1I", contact_phone="12")
    body = text(response)
    assert response.status_code == 200
    assert "请输入 18 位统一社会信用代码。" in body
    assert "请输入 11 位中国大陆手机号码。" in body
    assert MerchantApplication.objects.count() == before


def test_apply_then_approve_through_the_pages_creates_the_shop() -> None:
    client = Client()
    assert "<h1>在商圈开店</h1>" in text(client.get("/apply/"))
    response = _apply(client)
    assert response.status_code == 302
    assert response["Location"] == "/apply/done/"
    application = MerchantApplication.objects.get(shop_name="拾光书店")
    done = text(client.get("/apply/done/"))
    assert f"申请编号为 {application.pk}" in done

    ops = as_user("mall-ops-1")
    page = text(ops.get("/ops/applications/"))
    assert f'<article class="card application" id="application-{application.pk}">' in page
    free = re.findall(
        rf'action="/ops/applications/{application.pk}/approve/".*?</form>', page, re.S
    )[0]
    unit_ids = re.findall(r'<option value="(\d+)"', free)
    occupied = set(Zone.objects.filter(occupancy__isnull=False).values_list("id", flat=True))
    assert unit_ids and not {int(u) for u in unit_ids} & occupied
    unit = Zone.objects.get(pk=int(unit_ids[0]))
    assert unit.floor.mall_id == mall(1).pk

    approved = ops.post(f"/ops/applications/{application.pk}/approve/", {"unit_ids": [unit.pk]})
    body = text(approved)
    assert approved.status_code == 200
    assert "<h1>申请已通过</h1>" in body
    shop = Shop.objects.get(name="拾光书店")
    assert (shop.mall_id, shop.status) == (mall(1).pk, "fitting_out")
    assert list(shop.units.values_list("id", flat=True)) == [unit.pk]
    owner = User.objects.get(username=f"shop{shop.pk}-owner")
    assert f'<code data-testid="owner-username">{owner.username}</code>' in body
    password = re.search(r'data-testid="owner-password">([^<]+)<', body).group(1)  # type: ignore[union-attr]
    assert owner.check_password(password)
    application.refresh_from_db()
    assert application.status == "approved"

    merchant = Client()
    login = merchant.post("/staff/login/", {"username": owner.username, "password": password})
    assert login["Location"] == "/merchant/"
    assert "<h2>拾光书店</h2>" in text(merchant.get("/merchant/"))


def test_approve_without_units_is_refused_and_nothing_changes() -> None:
    _apply(Client())
    application = MerchantApplication.objects.get(shop_name="拾光书店")
    shops = Shop.objects.count()
    response = as_user("mall-ops-1").post(f"/ops/applications/{application.pk}/approve/", {})
    assert response.status_code == 400
    assert '<p class="error" role="alert">' in text(response)
    application.refresh_from_db()
    assert application.status == "submitted"
    assert Shop.objects.count() == shops


def test_other_malls_operator_cannot_review() -> None:
    _apply(Client())
    application = MerchantApplication.objects.get(shop_name="拾光书店")
    client = as_user("mall-ops-2")
    assert "拾光书店" not in text(client.get("/ops/applications/"))
    unit = Zone.objects.filter(floor__mall=mall(1), kind="shop_unit", occupancy__isnull=True)[0]
    response = client.post(f"/ops/applications/{application.pk}/approve/", {"unit_ids": unit.pk})
    assert response.status_code == 404
    reject = client.post(f"/ops/applications/{application.pk}/reject/", {"note": "不行"})
    assert reject.status_code == 404
    application.refresh_from_db()
    assert application.status == "submitted"


def test_reject_needs_a_note() -> None:
    _apply(Client())
    application = MerchantApplication.objects.get(shop_name="拾光书店")
    client = as_user("mall-ops-1")
    empty = client.post(f"/ops/applications/{application.pk}/reject/", {"note": ""})
    assert empty.status_code == 400
    application.refresh_from_db()
    assert application.status == "submitted"
    response = client.post(f"/ops/applications/{application.pk}/reject/", {"note": "业态重复"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.review_note) == ("rejected", "业态重复")
    assert "拾光书店 的入驻申请已驳回。" in text(client.get("/ops/applications/"))


def test_server_error_page_renders_on_its_own() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "<h1>出错了</h1>" in html
    assert 'href="/static/agora/app.css"' in html


@pytest.mark.django_db
def test_chinese_first_even_when_the_browser_asks_for_english() -> None:
    client = Client(headers={"Accept-Language": "en-US,en;q=0.9"})
    response = client.get("/")
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-Hans">' in response.content.decode()
