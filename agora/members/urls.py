"""Shopper member pages (being written)."""

from django.urls import path

from agora.members import views

app_name = "members"

urlpatterns = [
    path("me/card/", views.card, name="card"),
]
