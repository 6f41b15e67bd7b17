from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.i18n import set_language

from agora.api import api, problem


def api_not_found(request: HttpRequest, rest: str) -> HttpResponse:
    return problem(
        request, status=404, code="not_found", title="Not found", detail="no such endpoint"
    )


urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("agora.checkout.urls")),
    path("", include("agora.navigation.urls_route")),
    path("", include("agora.navigation.urls_app")),
    path("", include("agora.parking.urls")),
    path("", include("agora.members.urls")),
    path("", include("agora.console.urls")),
    path("", include("agora.portal.urls")),
]
