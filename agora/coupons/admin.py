"""Coupons are read-only in the admin: stock and redemptions move only through the services."""

from django.contrib import admin

from agora.core.admin import ReadOnlyAdmin
from agora.coupons.models import Coupon, CouponTemplate


@admin.register(CouponTemplate)
class CouponTemplateAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "kind",
        "issuer",
        "funder",
        "status",
        "total_stock",
        "issued",
        "redeemed",
    )
    list_filter = ("kind", "status", "issuer")
    search_fields = ("title",)


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ("code", "template", "member", "status", "claimed_at", "redeemed_at")
    list_filter = ("status",)
    search_fields = ("code", "member__card_no")
