"""Shopper member pages (being written)."""

from django.http import HttpRequest, HttpResponse


def card(request: HttpRequest) -> HttpResponse:
    return HttpResponse("member card")
