"""Merchant till and operator loyalty console pages (being written)."""

from django.urls import path

from agora.console import views

app_name = "console"

urlpatterns = [
    path("merchant/loyalty/", views.till, name="till"),
    path("ops/loyalty/", views.ops_loyalty, name="ops-loyalty"),
]
