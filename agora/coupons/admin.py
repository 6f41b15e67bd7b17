"""Coupons are read-only in the admin: stock and redemptions move only through the services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agora.coupons.models import Coupon, CouponTemplate


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CouponTemplate)
class CouponTemplateAdmin(ReadOnly):
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
class CouponAdmin(ReadOnly):
    list_display = ("code", "template", "member", "status", "claimed_at", "redeemed_at")
    list_filter = ("status",)
    search_fields = ("code", "member__card_no")
