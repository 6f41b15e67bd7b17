from django.http import HttpResponse
from django.urls import path

app_name = "portal"


def _todo(request, **kwargs):  # type: ignore[no-untyped-def]
    return HttpResponse("Agora")


urlpatterns = [
    path("", _todo, name="home"),
    path("login/", _todo, name="login"),
    path("staff/login/", _todo, name="staff-login"),
    path("me/data/", _todo, name="my-data"),
    path("merchant/", _todo, name="merchant-home"),
    path("ops/", _todo, name="ops-home"),
    path("ops/directory/", _todo, name="ops-directory"),
    path("ops/applications/", _todo, name="ops-applications"),
    path("gov/", _todo, name="gov-home"),
]
