"""Parking pages: the shopper's parking page, live streams, gate displays, operators'
pages and the government overview."""

from django.urls import path

from agora.parking.views import live

urlpatterns = [
    path("parking/live/", live.district_stream, name="parking-live-district"),
    path("parking/live/<slug:code>/", live.car_park_stream, name="parking-live"),
]
