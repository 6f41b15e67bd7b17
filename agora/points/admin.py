"""The ledger is read-only in the admin: movements go through the services (and their audit)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agora.points.models import (
    Campaign,
    EarningRule,
    ExchangeItem,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PointsScheme,
)


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerEntry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount", "expires_on", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnly):
    list_display = ("id", "kind", "member", "points", "shop", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "reference", "member__card_no")
    inlines = [EntryInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnly):
    list_display = ("id", "kind", "member", "mall", "shop")
    list_filter = ("kind",)


@admin.register(EarningRule)
class EarningRuleAdmin(ReadOnly):
    list_display = ("name", "mall", "shop", "category", "points_per_yuan", "funder", "active")
    list_filter = ("active", "funder")


@admin.register(Campaign)
class CampaignAdmin(ReadOnly):
    list_display = ("name", "mall", "multiplier", "starts_at", "ends_at")


@admin.register(ExchangeItem)
class ExchangeItemAdmin(ReadOnly):
    list_display = ("title", "kind", "points_price", "stock", "issued", "active")


@admin.register(PointsScheme)
class PointsSchemeAdmin(ReadOnly):
    list_display = ("district", "fen_per_point", "redeem_points_per_yuan", "expiry_rule")
