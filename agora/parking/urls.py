"""Parking pages: the shopper's parking pages, live streams, gate displays, operators'
pages and the government overview."""

from django.urls import include, path

from agora.parking.views import live

urlpatterns = [
    path("parking/live/", live.district_stream, name="parking-live-district"),
    path("parking/live/<slug:code>/", live.car_park_stream, name="parking-live"),
    path("", include("agora.parking.urls_ops")),
    path("", include("agora.parking.urls_app")),  # last: it has parking/<code>/
]
