"""The ledger is read-only in the admin: movements go through the services (and their audit)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agora.core.admin import ReadOnlyAdmin
from agora.points.models import (
    Campaign,
    EarningRule,
    ExchangeItem,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PointsScheme,
)


class EntryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LedgerEntry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount", "expires_on", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "member", "points", "shop", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "reference", "member__card_no")
    inlines = [EntryInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "member", "mall", "shop")
    list_filter = ("kind",)


@admin.register(EarningRule)
class EarningRuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "mall", "shop", "category", "points_per_yuan", "funder", "active")
    list_filter = ("active", "funder")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "mall", "multiplier", "starts_at", "ends_at")


@admin.register(ExchangeItem)
class ExchangeItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "points_price", "stock", "issued", "active")


@admin.register(PointsScheme)
class PointsSchemeAdmin(ReadOnlyAdmin):
    list_display = ("district", "fen_per_point", "redeem_points_per_yuan", "expiry_rule")
