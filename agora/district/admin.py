from django.contrib import admin

from agora.district.models import District, Facility, Floor, Mall, MerchantApplication, Shop, Zone


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "city")


@admin.register(Mall)
class MallAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "district", "opens_at", "closes_at")


@admin.register(Floor)
class FloorAdmin(admin.ModelAdmin):
    list_display = ("mall", "level", "name", "width_m", "depth_m")
    list_filter = ("mall",)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "floor", "area_m2")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "mall", "category", "status")
    list_filter = ("category", "status", "mall")
    search_fields = ("name", "name_pinyin", "name_initials", "brand")


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "floor")


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(admin.ModelAdmin):
    list_display = ("shop_name", "mall", "status", "submitted_at")
    list_filter = ("status",)
