"""The NinjaAPI: one router per module, every error as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from agora.core.auth import REQUIRED
from agora.core.errors import DomainError

log = logging.getLogger("agora.api")

PROBLEM = "application/problem+json"
api = NinjaAPI(
    title="Agora API",
    version="1.0.0",
    description=(
        "One digital-service platform for a business district of shopping malls. "
        "Errors are RFC 9457 problem+json with a stable `code` and `errors[]` per field."
    ),
    urls_namespace="api",
    auth=REQUIRED,
)


def problem(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"https://agora.invalid/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    response = JsonResponse(
        body, status=status, content_type=PROBLEM, json_dumps_params={"ensure_ascii": False}
    )
    if status == 429 and extra and "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=[e.as_dict() for e in exc.errors] or None,
        extra=exc.extra or None,
    )


def _loc(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _loc(e.get("loc", ())),
            "reason": str(e.get("msg", "invalid")),
            "code": str(e.get("type", "invalid")),
        }
        for e in exc.errors
    ]
    return problem(
        request,
        status=422,
        code="validation_failed",
        title="Validation failed",
        detail="the request does not match the schema",
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request,
        status=401,
        code="not_authenticated",
        title="Authentication required",
        detail="send a bearer token, an X-API-Key or a session cookie with its CSRF token",
    )


@api.exception_handler(AuthorizationError)
def _authz_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem(
        request, status=403, code="permission_denied", title="Permission denied", detail=str(exc)
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 403: "permission_denied", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    return problem(request, status=exc.status_code, code=code, title=str(exc), detail=str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(
        request, status=404, code="not_found", title="Not found", detail="no such resource"
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error", extra={"path": request.path})
    return problem(
        request,
        status=500,
        code="internal_error",
        title="Internal error",
        detail="something broke on our side",
    )


from agora.accounts.api import router as accounts_router  # noqa: E402
from agora.checkout.api import router as checkout_router  # noqa: E402
from agora.core.api import router as core_router  # noqa: E402
from agora.coupons.api import router as coupons_router  # noqa: E402
from agora.district.api import router as district_router  # noqa: E402
from agora.members.api import router as members_router  # noqa: E402
from agora.navigation.api import router as navigation_router  # noqa: E402
from agora.parking.api import router as parking_router  # noqa: E402
from agora.points.api import router as points_router  # noqa: E402

# OpenAPI at /api/openapi.json and docs at /api/docs; every operation is versioned under /api/v1/
api.add_router("/v1/", accounts_router)
api.add_router("/v1/", district_router)
api.add_router("/v1/", members_router)
api.add_router("/v1/", points_router)
api.add_router("/v1/", checkout_router)
api.add_router("/v1/", coupons_router)
api.add_router("/v1/", navigation_router)
api.add_router("/v1/", parking_router)
api.add_router("/v1/", core_router)
