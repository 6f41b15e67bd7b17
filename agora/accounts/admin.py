from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from agora.accounts.models import ApiKey, ApiToken, ConsentRecord, RoleGrant, User


@admin.register(User)
class AgoraUserAdmin(UserAdmin):
    list_display = ("username", "phone", "display_name", "is_active", "is_superuser")
    search_fields = ("username", "phone", "display_name")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Agora", {"fields": ("phone", "display_name", "anonymised_at")}),
    )  # type: ignore[misc]


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "district", "mall", "shop")
    list_filter = ("role",)
    raw_id_fields = ("user", "shop", "mall", "district")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_by", "shop", "mall", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "last_used_at")
    raw_id_fields = ("created_by", "shop", "mall")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "token_hash", "last_used_at")
    raw_id_fields = ("user",)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "purpose", "granted", "policy_version", "created_at")
    list_filter = ("purpose", "granted")
    raw_id_fields = ("user",)
