"""Domain errors: each has a stable ``code`` and an HTTP status, rendered as RFC 9457
``application/problem+json`` by agora.api (Polar-style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    """One invalid field: its dotted location and the reason."""

    field: str
    reason: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "code": self.code}


@dataclass
class DomainError(Exception):
    """Base of every error a service or selector raises on purpose."""

    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class ValidationFailed(DomainError):
    """The request is well-formed but a business rule rejects one or more fields."""

    status: int = 422
    code: str = "validation_failed"
    title: str = "Validation failed"


@dataclass
class NotAuthenticated(DomainError):
    status: int = 401
    code: str = "not_authenticated"
    title: str = "Authentication required"


@dataclass
class PermissionDenied(DomainError):
    """The actor can see the object but may not do this to it."""

    status: int = 403
    code: str = "permission_denied"
    title: str = "Permission denied"


@dataclass
class NotFound(DomainError):
    """The object does not exist *for this actor* (other tenants' objects are NotFound too)."""

    status: int = 404
    code: str = "not_found"
    title: str = "Not found"


@dataclass
class Conflict(DomainError):
    status: int = 409
    code: str = "conflict"
    title: str = "Conflict"


@dataclass
class RateLimited(DomainError):
    status: int = 429
    code: str = "rate_limited"
    title: str = "Too many requests"


def field_error(field_name: str, reason: str, code: str = "invalid") -> ValidationFailed:
    """Shortcut: a ValidationFailed about one field."""
    return ValidationFailed(detail=reason, errors=[FieldError(field_name, reason, code)])


@dataclass
class IdempotencyKeyReused(Conflict):
    code: str = "idempotency_key_reused"
    title: str = "Idempotency key reused"
