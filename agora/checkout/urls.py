from django.urls import include, path

from agora.checkout.views.notify import provider_notify
from agora.checkout.views.sandbox import sandbox_page

urlpatterns = [
    path("pay/notify/<slug:provider>/", provider_notify, name="provider_notify"),
    path("sandbox/pay/<str:token>/", sandbox_page, name="sandbox_pay"),
    path("", include("agora.checkout.urls_pos")),
    path("", include("agora.checkout.urls_shopper")),
    path("", include("agora.checkout.urls_ops")),
]
