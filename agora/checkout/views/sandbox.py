"""The sandbox provider's pay page: what a shopper's phone shows after scanning the sandbox
QR at a till (a stand-in for the WeChat / Alipay confirmation sheet)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from agora.checkout.services.sandbox import sandbox_pay, sandbox_trade
from agora.core.errors import Conflict, NotFound


@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        trade = sandbox_trade(token=token)
    except NotFound:
        return render(request, "checkout/sandbox_pay.html", {"missing": True}, status=404)
    error = ""
    if request.method == "POST":
        try:
            trade = sandbox_pay(token=token)
        except Conflict as exc:
            error = exc.detail
    return render(request, "checkout/sandbox_pay.html", {"trade": trade, "error": error})
