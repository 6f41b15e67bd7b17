"""Pages: the shopper's mall, life and citizen pages (APP-1), guide kiosks (DEV-3, GUIDE-1) and
the operators' navigation page (closures, kiosks). The home shell is ``portal:home``."""

from django.urls import path

from agora.navigation.views import app, kiosk, ops

urlpatterns = [
    path("m/<slug:mall_code>/", app.mall_page, name="nav-mall"),
    path("m/<slug:mall_code>/places/", app.mall_places, name="nav-mall-places"),
    path("life/", app.life_page, name="nav-life"),
    path("citizen/", app.citizen_page, name="nav-citizen"),
    path("me/location-consent/", app.location_consent_view, name="nav-location-consent"),
    path("kiosk/<slug:code>/", kiosk.kiosk_page, name="nav-kiosk"),
    path("kiosk/<slug:code>/search/", kiosk.kiosk_search, name="nav-kiosk-search"),
    path("kiosk/<slug:code>/route/", kiosk.kiosk_route, name="nav-kiosk-route"),
    path("ops/navigation/", ops.ops_navigation, name="nav-ops"),
    path(
        "ops/navigation/closures/<int:closure_id>/reopen/",
        ops.ops_reopen,
        name="nav-ops-reopen",
    ),
]
