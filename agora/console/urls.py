"""The merchant's till (/merchant/loyalty/) and the operator's loyalty console (/ops/loyalty/)."""

from django.urls import path

from agora.console.views import ops, ops_members, till

app_name = "console"

urlpatterns = [
    # the till
    path("merchant/loyalty/", till.till, name="till"),
    path("merchant/loyalty/<int:shop_id>/", till.till_shop_page, name="till-shop"),
    path("merchant/loyalty/<int:shop_id>/identify/", till.identify, name="till-identify"),
    path("merchant/loyalty/<int:shop_id>/earn/", till.earn, name="till-earn"),
    path("merchant/loyalty/<int:shop_id>/spend/", till.spend, name="till-spend"),
    path(
        "merchant/loyalty/<int:shop_id>/coupon/check/",
        till.coupon_check_view,
        name="till-coupon-check",
    ),
    path(
        "merchant/loyalty/<int:shop_id>/coupon/redeem/",
        till.coupon_redeem_view,
        name="till-coupon-redeem",
    ),
    # the operator console
    path("ops/loyalty/", ops.ops_loyalty, name="ops-loyalty"),
    path("ops/loyalty/rules/", ops.rule_set_view, name="ops-rule-set"),
    path("ops/loyalty/campaigns/", ops.campaign_create_view, name="ops-campaign-create"),
    path("ops/loyalty/coupons/", ops.coupons, name="ops-coupons"),
    path("ops/loyalty/coupons/stats/", ops.coupon_stats, name="ops-coupon-stats"),
    path("ops/loyalty/coupons/new/", ops.coupon_create, name="ops-coupon-create"),
    path(
        "ops/loyalty/coupons/<int:template_id>/status/",
        ops.coupon_status,
        name="ops-coupon-status",
    ),
    path("ops/loyalty/coupons/push/", ops.coupon_push_view, name="ops-coupon-push"),
    path("ops/loyalty/members/", ops_members.members, name="ops-members"),
    path("ops/loyalty/members/<int:member_id>/", ops_members.member_detail, name="ops-member"),
    path(
        "ops/loyalty/members/<int:member_id>/adjust/",
        ops_members.member_adjust,
        name="ops-member-adjust",
    ),
    path(
        "ops/loyalty/members/<int:member_id>/tags/",
        ops_members.member_tag_add,
        name="ops-member-tag-add",
    ),
    path(
        "ops/loyalty/members/<int:member_id>/tags/remove/",
        ops_members.member_tag_remove,
        name="ops-member-tag-remove",
    ),
    path("ops/loyalty/clearing/", ops_members.clearing, name="ops-clearing"),
    path(
        "ops/loyalty/clearing/coupons.csv",
        ops_members.clearing_coupons_csv,
        name="ops-clearing-coupons-csv",
    ),
    path(
        "ops/loyalty/clearing/points.csv",
        ops_members.clearing_points_csv,
        name="ops-clearing-points-csv",
    ),
    path("ops/loyalty/desk/", ops_members.desk, name="ops-desk"),
    path("ops/loyalty/desk/promotion/", ops_members.desk_promotion, name="ops-desk-promotion"),
    path("ops/loyalty/desk/<int:member_id>/reply/", ops_members.desk_reply, name="ops-desk-reply"),
]
