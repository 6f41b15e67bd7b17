"""Merchant till and operator loyalty console pages (being written)."""

from django.http import HttpRequest, HttpResponse


def till(request: HttpRequest) -> HttpResponse:
    return HttpResponse("till")


def ops_loyalty(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ops loyalty")
