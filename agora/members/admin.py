"""Members in the admin: read-only (changes go through the services and the audit log)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from agora.members.models import Member, PhysicalCard, Tier


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tier)
class TierAdmin(ReadOnly):
    list_display = (
        "name",
        "name_en",
        "rank",
        "min_spend_fen",
        "keep_spend_fen",
        "points_multiplier",
    )


@admin.register(Member)
class MemberAdmin(ReadOnly):
    list_display = ("card_no", "tier", "status", "joined_at")
    list_filter = ("tier", "status")
    search_fields = ("card_no", "user__phone")


@admin.register(PhysicalCard)
class PhysicalCardAdmin(ReadOnly):
    list_display = ("card_no", "mall", "status", "member", "linked_at")
    list_filter = ("status", "mall")
    search_fields = ("card_no",)
