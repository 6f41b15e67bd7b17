"""Which provider takes which payment method, built from settings.

``settings.PAYMENT_PROVIDERS`` names the configured providers (``{"sandbox": {"class": ...,
**options}}``) and ``settings.PAYMENT_ROUTES`` maps each online payment method (wechat,
alipay, unionpay, ecny) to one of them. The demo and the tests route everything to the
built-in sandbox; production configures WeChat Pay and Alipay with the merchant's keys."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from agora.checkout.providers.base import Provider


@cache
def _build(name: str, frozen: tuple[tuple[str, Any], ...]) -> Provider:
    options = dict(frozen)
    cls = import_string(options.pop("class"))
    provider: Provider = cls(name=name, **options)
    return provider


def _freeze(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in options.items()))


def provider_named(name: str) -> Provider:
    config: dict[str, dict[str, Any]] = settings.PAYMENT_PROVIDERS
    if name not in config:
        raise LookupError(f"no payment provider {name!r} is configured")
    return _build(name, _freeze(config[name]))


def provider_for(method: str) -> Provider:
    routes: dict[str, str] = settings.PAYMENT_ROUTES
    return provider_named(routes[method])


def providers_configured() -> list[str]:
    return sorted(settings.PAYMENT_PROVIDERS)


def reset_providers() -> None:
    """Forget built adapters (tests that change the settings call this)."""
    _build.cache_clear()
