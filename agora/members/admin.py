"""Members in the admin: read-only (changes go through the services and the audit log)."""

from django.contrib import admin

from agora.core.admin import ReadOnlyAdmin
from agora.members.models import Member, PhysicalCard, Tier


@admin.register(Tier)
class TierAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "name_en",
        "rank",
        "min_spend_fen",
        "keep_spend_fen",
        "points_multiplier",
    )


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("card_no", "tier", "status", "joined_at")
    list_filter = ("tier", "status")
    search_fields = ("card_no", "user__phone")


@admin.register(PhysicalCard)
class PhysicalCardAdmin(ReadOnlyAdmin):
    list_display = ("card_no", "mall", "status", "member", "linked_at")
    list_filter = ("status", "mall")
    search_fields = ("card_no",)
