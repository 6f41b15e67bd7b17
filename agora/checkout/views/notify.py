"""Where payment providers post their asynchronous notifications. No session, no CSRF: the
provider's signature is the authentication, checked by the provider's adapter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from agora.checkout.providers import providers_configured
from agora.checkout.services.payments import notice_receive


@csrf_exempt
def provider_notify(request: HttpRequest, provider: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if provider not in providers_configured():
        return HttpResponse(status=404)
    received = notice_receive(
        provider_name=provider,
        headers=request.headers,
        body=request.body,
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )
    return HttpResponse(received.body, status=received.status, content_type=received.content_type)
