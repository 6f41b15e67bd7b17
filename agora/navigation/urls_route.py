"""Pages: the route page, its place picker and shop pages (see agora/navigation/views/route.py)."""

from django.urls import path

from agora.navigation.views import route

urlpatterns = [
    path("nav/", route.route_page, name="nav-route"),
    path("nav/places/", route.places, name="nav-places"),
    path("shops/<int:shop_id>/", route.shop_page, name="nav-shop"),
]
