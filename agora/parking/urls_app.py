"""The shopper's parking pages (see agora/parking/views/app.py). Included from
agora/parking/urls.py AFTER the live streams: ``parking/<code>/`` would otherwise take
``parking/live/``."""

from django.urls import URLPattern, path

from agora.parking.views import app

ME = "parking/me/"

urlpatterns: list[URLPattern] = [
    path("parking/", app.home, name="parking-home"),
    path("parking/find/", app.find_page, name="parking-find"),
    path("parking/pay/", app.pay_page, name="parking-pay"),
    path("parking/pay/status/", app.pay_status, name="parking-pay-status"),
    path(ME, app.me_page, name="parking-me"),
    path(ME + "vehicles/", app.vehicle_bind_view, name="parking-me-bind"),
    path(
        ME + "vehicles/<int:vehicle_id>/unbind/",
        app.vehicle_unbind_view,
        name="parking-me-unbind",
    ),
    path(
        ME + "vehicles/<int:vehicle_id>/frictionless/",
        app.vehicle_frictionless_view,
        name="parking-me-frictionless",
    ),
    path(ME + "reservations/", app.reservation_create_view, name="parking-me-reserve"),
    path(
        ME + "reservations/<int:reservation_id>/cancel/",
        app.reservation_cancel_view,
        name="parking-me-cancel",
    ),
    path(ME + "shares/", app.share_publish_view, name="parking-me-share"),
    path(
        ME + "shares/<int:share_id>/withdraw/",
        app.share_withdraw_view,
        name="parking-me-withdraw",
    ),
    path("parking/<slug:code>/", app.car_park_page, name="parking-car-park"),
]
