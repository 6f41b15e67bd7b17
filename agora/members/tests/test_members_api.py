"""Members through the API: enrolment and profile, birthday, physical cards, operator search,
tags, tiers, the inbox both ways, promotions to consenting members, brand programs."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings

from agora.accounts.models import User
from agora.accounts.services.credentials import api_token_create
from agora.accounts.services.privacy import consent_set
from agora.core.models import AuditLog
from agora.members.models import (
    BrandProgram,
    Member,
    MemberTag,
    Message,
    PhysicalCard,
    Tier,
)
from agora.members.selectors import tier_progress
from agora.points.selectors import points_balance, points_expiring
from agora.testing.personas import ApiClient, as_persona, mall_id_of, shop_id_of

pytestmark = pytest.mark.django_db

SHOPPER = "13800000001"


def _member(phone: str = SHOPPER) -> Member:
    return Member.objects.select_related("user", "tier").get(user__phone=phone)


def _second_shopper() -> str:
    phone = (
        User.objects.filter(username__startswith="p1")
        .exclude(phone=SHOPPER)
        .order_by("id")
        .values_list("phone", flat=True)
        .first()
    )
    assert phone is not None
    return phone


def _newcomer() -> tuple[User, ApiClient]:
    user = User.objects.create(username="p13912345678", phone="13912345678", display_name="王小明")
    _, secret = api_token_create(user=user)
    return user, ApiClient(token=secret)


def _tier_json(code: str) -> dict[str, object]:
    tier = Tier.objects.get(code=code)
    return {
        "code": tier.code,
        "name": tier.name,
        "name_en": tier.name_en,
        "rank": tier.rank,
        "points_multiplier": float(tier.points_multiplier),
    }


# --- enrolment and the shopper's profile ---------------------------------------------------
def test_first_call_enrols_at_the_entry_tier() -> None:
    user, client = _newcomer()
    members = Member.objects.count()
    response = client.get("/me/member")
    assert response.status == 200, response.body
    member = Member.objects.get(user=user)
    assert Member.objects.count() == members + 1
    body = response.body
    assert body["id"] == member.pk
    assert body["card_no"] == member.card_no
    assert body["card_no"].startswith("8860") and len(body["card_no"]) == 16
    assert body["tier"] == {
        "code": "classic",
        "name": "普卡",
        "name_en": "Classic",
        "rank": 0,
        "points_multiplier": 1.0,
    }
    assert body["birthday"] is None
    assert body["points_balance"] == 0
    assert body["points_expiring"] == []
    assert body["progress"] == {
        "spend_fen": 0,
        "next_tier": {"code": "silver", "name": "银卡"},
        "to_next_fen": 300_000,
        "percent": 0,
        "keep_spend_fen": 0,
    }
    assert body["brands"] == []
    assert body["unread_messages"] == 0
    # the second call finds the same account
    again = client.get("/me/member")
    assert again.body["id"] == member.pk
    assert Member.objects.count() == members + 1


def test_demo_member_profile() -> None:
    member = _member()
    response = as_persona(SHOPPER).get("/me/member")
    assert response.status == 200
    body = response.body
    progress = tier_progress(member=member)
    assert body["card_no"] == member.card_no
    assert body["tier"] == _tier_json("gold")
    assert body["birthday"] == member.birthday.isoformat()  # type: ignore[union-attr]
    assert body["points_balance"] == points_balance(member=member) > 0
    assert body["points_expiring"] == [
        {"on": e.on.isoformat(), "points": e.points} for e in points_expiring(member=member)
    ]
    assert body["progress"] == {
        "spend_fen": progress.spend_fen,
        "next_tier": {"code": "diamond", "name": "钻石卡"},
        "to_next_fen": max(0, 3_000_000 - progress.spend_fen),
        "percent": min(100, progress.spend_fen * 100 // 3_000_000),
        "keep_spend_fen": 800_000,
    }
    expected_brands = sorted(b.program.brand for b in member.brands.select_related("program"))
    assert body["brands"] == expected_brands


def test_anonymous_has_no_member_account() -> None:
    assert ApiClient().get("/me/member").status == 401


def test_tiers_are_public() -> None:
    district_id = Tier.objects.values_list("district_id", flat=True).first()
    response = ApiClient().get(f"/districts/{district_id}/tiers")
    assert response.status == 200
    assert [(t["code"], t["min_spend_fen"], t["keep_spend_fen"]) for t in response.body] == [
        ("classic", 0, 0),
        ("silver", 300_000, 200_000),
        ("gold", 1_000_000, 800_000),
        ("diamond", 3_000_000, 2_500_000),
    ]
    assert response.body[3]["points_multiplier"] == 2.0
    assert ApiClient().get("/districts/99999/tiers").status == 404


# --- birthday ----------------------------------------------------------------------------------
def test_birthday_is_set_once_then_locked() -> None:
    user, client = _newcomer()
    client.get("/me/member")
    first = client.patch("/me/member", {"birthday": "1995-06-15"})
    assert first.status == 200, first.body
    assert first.body["birthday"] == "1995-06-15"
    same = client.patch("/me/member", {"birthday": "1995-06-15"})
    assert same.status == 200
    changed = client.patch("/me/member", {"birthday": "1996-01-01"})
    assert changed.status == 422
    assert changed.field_names() == ["birthday"]
    assert changed.body["errors"][0]["code"] == "locked"
    assert Member.objects.get(user=user).birthday == date(1995, 6, 15)


def test_implausible_birthday_is_422() -> None:
    user, client = _newcomer()
    client.get("/me/member")
    response = client.patch("/me/member", {"birthday": "2999-01-01"})
    assert response.status == 422
    assert response.field_names() == ["birthday"]
    assert Member.objects.get(user=user).birthday is None


def test_service_desk_corrects_a_birthday() -> None:
    member = _member()
    before = member.birthday
    audit = AuditLog.objects.count()
    # the shopper cannot use the desk's endpoint
    denied = as_persona(SHOPPER).put(f"/members/{member.pk}/birthday", {"birthday": "1991-02-03"})
    assert denied.status == 404
    assert Member.objects.get(pk=member.pk).birthday == before
    assert AuditLog.objects.count() == audit

    response = as_persona("mall-ops-1").put(
        f"/members/{member.pk}/birthday", {"birthday": "1991-02-03"}
    )
    assert response.status == 200, response.body
    assert response.body["birthday"] == "1991-02-03"
    assert Member.objects.get(pk=member.pk).birthday == date(1991, 2, 3)
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.actor_label) == ("member.birthday_correct", "mall-ops-1")


# --- physical cards ----------------------------------------------------------------------------
def _print_card() -> tuple[str, str]:
    response = as_persona("mall-ops-1").post(
        f"/malls/{mall_id_of('mall-ops-1')}/cards/print", {"count": 1}
    )
    assert response.status == 201, response.body
    [card] = response.body
    return card["card_no"], card["pin"]


def test_print_cards_only_for_operated_malls() -> None:
    cards = PhysicalCard.objects.count()
    mall_id = mall_id_of("mall-ops-1")
    for login in ("mall-ops-2", "shop-owner-1", SHOPPER):
        response = as_persona(login).post(f"/malls/{mall_id}/cards/print", {"count": 2})
        assert response.status == 404, login
    assert (
        as_persona("mall-ops-1").post(f"/malls/{mall_id}/cards/print", {"count": 0}).status == 422
    )
    assert PhysicalCard.objects.count() == cards
    response = as_persona("mall-ops-1").post(f"/malls/{mall_id}/cards/print", {"count": 3})
    assert response.status == 201
    assert len(response.body) == 3
    assert all(len(c["card_no"]) == 16 and len(c["pin"]) == 6 for c in response.body)
    assert PhysicalCard.objects.filter(mall_id=mall_id, status="unlinked").count() == 5 + 3


def test_link_card_identify_then_report_lost() -> None:
    phone = _second_shopper()
    member = _member(phone)
    shopper = as_persona(phone)
    card_no, pin = _print_card()
    wrong = "000000" if pin != "000000" else "111111"

    bad = shopper.post("/me/cards", {"card_no": card_no, "pin": wrong})
    assert bad.status == 422
    assert bad.field_names() == ["pin"]
    card = PhysicalCard.objects.get(card_no=card_no)
    assert (card.status, card.member_id, card.failed_attempts) == ("unlinked", None, 1)
    assert shopper.get("/me/cards").body == []

    linked = shopper.post("/me/cards", {"card_no": card_no, "pin": pin})
    assert linked.status == 201, linked.body
    assert (linked.body["card_no"], linked.body["status"]) == (card_no, "active")
    assert PhysicalCard.objects.get(card_no=card_no).member_id == member.pk
    assert [c["card_no"] for c in shopper.get("/me/cards").body] == [card_no]

    # nobody else can link it again
    taken = as_persona(SHOPPER).post("/me/cards", {"card_no": card_no, "pin": pin})
    assert taken.status == 409
    assert taken.problem_code == "card_taken"

    cashier = as_persona("shop-cashier-1")
    identify = f"/shops/{shop_id_of('shop-cashier-1')}/members/identify"
    found = cashier.post(identify, {"code": card_no})
    assert found.status == 200, found.body
    assert found.body["member"]["card_no"] == member.card_no
    # an operator finds the member by the physical card too
    search = as_persona("mall-ops-1").get(f"/members?q={card_no}")
    assert [m["id"] for m in search.body["items"]] == [member.pk]

    # another shopper cannot report it lost
    assert as_persona(SHOPPER).post(f"/me/cards/{linked.body['id']}/lost").status == 404
    assert PhysicalCard.objects.get(card_no=card_no).status == "active"

    lost = shopper.post(f"/me/cards/{linked.body['id']}/lost")
    assert lost.status == 200
    assert lost.body["status"] == "lost"
    refused = cashier.post(identify, {"code": card_no})
    assert refused.status == 409
    assert refused.problem_code == "card_not_linked"
    assert shopper.post(f"/me/cards/{linked.body['id']}/lost").status == 409


def test_demo_card_links_with_the_demo_pin() -> None:
    phone = _second_shopper()
    card = PhysicalCard.objects.filter(status="unlinked", mall_id=mall_id_of("mall-ops-1")).first()
    assert card is not None
    response = as_persona(phone).post("/me/cards", {"card_no": card.card_no, "pin": "246810"})
    assert response.status == 201, response.body
    assert PhysicalCard.objects.get(pk=card.pk).member_id == _member(phone).pk


def test_card_number_with_a_bad_check_digit_is_422() -> None:
    card_no, pin = _print_card()
    bad = card_no[:-1] + str((int(card_no[-1]) + 1) % 10)
    response = as_persona(SHOPPER).post("/me/cards", {"card_no": bad, "pin": pin})
    assert response.status == 422
    assert response.field_names() == ["card_no"]
    assert PhysicalCard.objects.get(card_no=card_no).status == "unlinked"


# --- operator search and profile ---------------------------------------------------------------
def test_search_by_phone_last4_card_and_tag() -> None:
    member = _member()
    ops = as_persona("mall-ops-1")

    by_phone = ops.get(f"/members?q={SHOPPER}")
    assert by_phone.status == 200
    assert by_phone.body == {
        "items": [
            {
                "id": member.pk,
                "card_no": member.card_no,
                "display_name": member.user.display_name[0] + "*",
                "phone_masked": "138****0001",
                "tier": _tier_json("gold"),
                "tags": sorted(
                    MemberTag.objects.filter(member=member).values_list("tag", flat=True)
                ),
                "joined_at": by_phone.body["items"][0]["joined_at"],
            }
        ],
        "next_cursor": None,
    }

    last4 = ops.get("/members?q=0001")
    expected = list(
        Member.objects.filter(user__phone__endswith="0001")
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert [m["id"] for m in last4.body["items"]] == expected
    assert member.pk in expected

    by_card = ops.get(f"/members?q={member.card_no}")
    assert [m["id"] for m in by_card.body["items"]] == [member.pk]

    champions = ops.get("/members?tag=rfm:champion&limit=200")
    expected = list(
        MemberTag.objects.filter(tag="rfm:champion")
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    assert [m["id"] for m in champions.body["items"]] == expected
    assert len(expected) >= 1

    nobody = ops.get("/members?q=19999999999")
    assert nobody.body == {"items": [], "next_cursor": None}


def test_search_pages_with_a_cursor() -> None:
    ops = as_persona("mall-ops-1")
    first = ops.get("/members?limit=3")
    assert len(first.body["items"]) == 3
    second = ops.get(f"/members?limit=3&cursor={first.body['next_cursor']}")
    ids = [m["id"] for m in first.body["items"] + second.body["items"]]
    assert ids == list(Member.objects.order_by("id").values_list("id", flat=True)[:6])
    assert ops.get("/members?cursor=nonsense").field_names() == ["cursor"]


@pytest.mark.parametrize("login", [SHOPPER, "shop-owner-1", "shop-cashier-1"])
def test_shoppers_and_merchants_cannot_search(login: str) -> None:
    response = as_persona(login).get(f"/members?q={SHOPPER}")
    assert response.status == 403
    assert response.problem_code == "permission_denied"


def test_operator_profile_and_outsiders_get_404() -> None:
    member = _member()
    response = as_persona("mall-ops-1").get(f"/members/{member.pk}")
    assert response.status == 200
    body = response.body
    assert body["id"] == member.pk
    assert body["birthday"] == member.birthday.isoformat()  # type: ignore[union-attr]
    assert body["points_balance"] == points_balance(member=member)
    assert body["cards"] == []
    history = list(member.tier_changes.select_related("to_tier")[:10])
    assert [h["to_tier"] for h in body["tier_history"]] == [h.to_tier.code for h in history]
    # newest first: the demo's purchases come in time order, so the member rose 普卡 -> 银卡 -> 金卡
    assert body["tier_history"] == [
        {
            "from_tier": "silver",
            "to_tier": "gold",
            "spend_fen": history[0].spend_fen,
            "reason": "upgrade",
            "created_at": body["tier_history"][0]["created_at"],
        },
        {
            "from_tier": "classic",
            "to_tier": "silver",
            "spend_fen": history[1].spend_fen,
            "reason": "upgrade",
            "created_at": body["tier_history"][1]["created_at"],
        },
    ]
    assert as_persona("district-ops").get(f"/members/{member.pk}").status == 200
    for login in (SHOPPER, "shop-owner-1", "gov"):
        assert as_persona(login).get(f"/members/{member.pk}").status == 404, login
    assert as_persona("mall-ops-1").get("/members/999999").status == 404


# --- tags and tiers ---------------------------------------------------------------------------
def test_tag_add_and_remove() -> None:
    member = _member()
    ops = as_persona("mall-ops-1")
    added = ops.post(f"/members/{member.pk}/tags", {"tag": "VIP客户"})
    assert added.status == 201, added.body
    assert added.body == {"tag": "VIP客户", "kind": "manual"}
    assert "VIP客户" in ops.get(f"/members/{member.pk}").body["tags"]
    assert [m["id"] for m in ops.get("/members?tag=VIP客户").body["items"]] == [member.pk]

    again = ops.post(f"/members/{member.pk}/tags", {"tag": "VIP客户"})
    assert again.status == 409
    computed = ops.post(f"/members/{member.pk}/tags", {"tag": "rfm:champion"})
    assert computed.status == 422
    assert computed.field_names() == ["tag"]

    assert ops.delete(f"/members/{member.pk}/tags/VIP客户").status == 204
    assert not MemberTag.objects.filter(member=member, tag="VIP客户").exists()
    assert ops.delete(f"/members/{member.pk}/tags/VIP客户").status == 404
    # a computed tag is not removed by hand
    assert ops.delete(f"/members/{member.pk}/tags/rfm:champion").status == 404
    assert MemberTag.objects.filter(member=member, tag="rfm:champion").exists()


def test_outsiders_cannot_tag() -> None:
    member = _member()
    tags = MemberTag.objects.count()
    for login in (SHOPPER, "shop-owner-1"):
        response = as_persona(login).post(f"/members/{member.pk}/tags", {"tag": "x"})
        assert response.status == 404, login
    assert as_persona(SHOPPER).delete(f"/members/{member.pk}/tags/rfm:champion").status == 404
    assert MemberTag.objects.count() == tags


def test_operator_sets_a_tier_by_hand() -> None:
    member = _member()
    changes = member.tier_changes.count()
    unknown = as_persona("mall-ops-1").post(
        f"/members/{member.pk}/tier", {"tier_code": "platinum", "reason": "VIP"}
    )
    assert unknown.status == 422
    assert unknown.field_names() == ["tier_code"]
    denied = as_persona(SHOPPER).post(
        f"/members/{member.pk}/tier", {"tier_code": "diamond", "reason": "I want it"}
    )
    assert denied.status == 404
    assert Member.objects.get(pk=member.pk).tier.code == "gold"
    assert member.tier_changes.count() == changes

    response = as_persona("mall-ops-1").post(
        f"/members/{member.pk}/tier", {"tier_code": "diamond", "reason": "投诉补偿"}
    )
    assert response.status == 200, response.body
    assert response.body["tier"] == _tier_json("diamond")
    assert response.body["tier_history"][0]["from_tier"] == "gold"
    assert response.body["tier_history"][0]["to_tier"] == "diamond"
    assert response.body["tier_history"][0]["reason"] == "staff"
    assert Member.objects.get(pk=member.pk).tier.code == "diamond"
    entry = AuditLog.objects.latest("id")
    assert (entry.action, entry.after) == (
        "member.tier_set",
        {"tier": "diamond", "reason": "投诉补偿"},
    )


# --- inbox ------------------------------------------------------------------------------------
def test_inbox_both_ways() -> None:
    member = _member()
    mall_id = mall_id_of("mall-ops-1")
    shopper = as_persona(SHOPPER)
    unread = shopper.get("/me/member").body["unread_messages"]

    sent = shopper.post("/me/messages", {"mall_id": mall_id, "body": "停车券怎么用？"})
    assert sent.status == 201, sent.body
    assert (sent.body["direction"], sent.body["kind"], sent.body["mall_id"]) == (
        "from_member",
        "service",
        mall_id,
    )

    desk = as_persona("mall-ops-1").get(f"/malls/{mall_id}/desk/messages")
    assert desk.status == 200
    mine = [m for m in desk.body["items"] if m["id"] == sent.body["id"]]
    assert mine == [
        {
            **sent.body,
            "member_id": member.pk,
            "card_no": member.card_no,
            "display_name": member.user.display_name[0] + "*",
        }
    ]
    assert as_persona("mall-ops-2").get(f"/malls/{mall_id}/desk/messages").status == 404
    assert as_persona(SHOPPER).get(f"/malls/{mall_id}/desk/messages").status == 404

    messages = Message.objects.count()
    foreign = as_persona("mall-ops-2").post(
        f"/members/{member.pk}/messages", {"mall_id": mall_id, "body": "冒充回复"}
    )
    assert foreign.status == 404
    assert Message.objects.count() == messages

    reply = as_persona("mall-ops-1").post(
        f"/members/{member.pk}/messages", {"mall_id": mall_id, "body": "结账时出示会员码即可。"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["direction"] == "to_member"
    assert Message.objects.get(pk=sent.body["id"]).read_at is not None

    assert shopper.get("/me/member").body["unread_messages"] == unread + 1
    inbox = shopper.get("/me/messages?limit=200")
    # newest first
    assert [m["body"] for m in inbox.body["items"][:2]] == [
        "结账时出示会员码即可。",
        "停车券怎么用？",
    ]

    marked = shopper.post("/me/messages/read", {"ids": [reply.body["id"], sent.body["id"]]})
    assert marked.body == {"marked": 1}
    assert shopper.get("/me/member").body["unread_messages"] == unread
    # someone else's message ids mark nothing
    other = as_persona(_second_shopper()).post("/me/messages/read", {"ids": [reply.body["id"]]})
    assert other.body == {"marked": 0}


def test_message_to_an_unknown_mall_is_404() -> None:
    messages = Message.objects.count()
    response = as_persona(SHOPPER).post("/me/messages", {"mall_id": 999999, "body": "你好"})
    assert response.status == 404
    blank = as_persona(SHOPPER).post(
        "/me/messages", {"mall_id": mall_id_of("mall-ops-1"), "body": "   "}
    )
    assert blank.status == 422
    assert blank.field_names() == ["body"]
    assert Message.objects.count() == messages


# --- promotions -------------------------------------------------------------------------------
def test_promotion_reaches_only_consenting_members() -> None:
    ops = as_persona("mall-ops-1")
    mall_id = mall_id_of("mall-ops-1")
    members = list(Member.objects.select_related("user").order_by("id")[:3])
    for m in members:
        assert ops.post(f"/members/{m.pk}/tags", {"tag": "春季活动"}).status == 201
    for m in members[:2]:
        consent_set(
            user=m.user,
            purpose="marketing_messages",
            granted=True,
            policy_version=settings.PRIVACY_POLICY_VERSION,
        )
    # a withdrawal after a grant counts as no consent
    consent_set(
        user=members[2].user,
        purpose="marketing_messages",
        granted=True,
        policy_version=settings.PRIVACY_POLICY_VERSION,
    )
    consent_set(
        user=members[2].user, purpose="marketing_messages", granted=False, policy_version=""
    )

    before = Message.objects.filter(kind="promotion").count()
    denied = as_persona("mall-ops-2").post(
        f"/malls/{mall_id}/promotions", {"title": "春季新品", "body": "全场8折", "tag": "春季活动"}
    )
    assert denied.status == 404
    assert Message.objects.filter(kind="promotion").count() == before

    response = ops.post(
        f"/malls/{mall_id}/promotions", {"title": "春季新品", "body": "全场8折", "tag": "春季活动"}
    )
    assert response.status == 200, response.body
    assert response.body == {"sent": 2, "skipped_no_consent": 1}
    got = set(
        Message.objects.filter(kind="promotion", title="春季新品").values_list(
            "member_id", flat=True
        )
    )
    assert got == {members[0].pk, members[1].pk}

    everyone = ops.post(f"/malls/{mall_id}/promotions", {"title": "周末", "body": "双倍积分"})
    total = Member.objects.filter(district_id=members[0].district_id).count()
    assert everyone.body == {"sent": 2, "skipped_no_consent": total - 2}


# --- brand programs ---------------------------------------------------------------------------
def test_brand_program_owner_and_manager_only() -> None:
    shop_id = shop_id_of("shop-owner-1")
    program = BrandProgram.objects.get(brand="星巴克")
    assert program.opted_in is True
    for login, status in (("shop-cashier-1", 403), ("shop-owner-1b", 404), (SHOPPER, 404)):
        response = as_persona(login).put(f"/shops/{shop_id}/brand-program", {"opted_in": False})
        assert response.status == status, login
    assert BrandProgram.objects.get(pk=program.pk).opted_in is True

    response = as_persona("shop-manager-1").put(
        f"/shops/{shop_id}/brand-program", {"opted_in": False}
    )
    assert response.status == 200, response.body
    assert response.body == {"brand": "星巴克", "opted_in": False}
    assert BrandProgram.objects.get(pk=program.pk).opted_in is False


def test_brand_program_needs_a_brand() -> None:
    shop_id = shop_id_of("shop-owner-1b")
    programs = BrandProgram.objects.count()
    response = as_persona("shop-owner-1b").put(
        f"/shops/{shop_id}/brand-program", {"opted_in": True}
    )
    assert response.status == 422
    assert response.field_names() == ["brand"]
    assert BrandProgram.objects.count() == programs


def test_search_queries_do_not_grow_with_the_page(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    ops = as_persona("mall-ops-1")
    ops.get("/members?limit=1")  # the token's last use is recorded now
    with django_assert_max_num_queries(5):
        response = ops.get("/members?limit=10")
    assert len(response.body["items"]) == 10
