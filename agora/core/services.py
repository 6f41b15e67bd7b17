"""Cross-cutting writes: the audit log and idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from django.db import IntegrityError, models, transaction

from agora.core.errors import IdempotencyKeyReused, field_error
from agora.core.logging import request_id_var
from agora.core.models import AuditLog, IdempotencyRecord


class _ActorLike(Protocol):
    @property
    def user(self) -> Any: ...


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of an object as JSON-ready values, for before/after in the audit log."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def audit_record(
    *,
    actor: _ActorLike,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    mall_id: int | None = None,
    shop_id: int | None = None,
) -> AuditLog:
    """Append one row to the audit log; call it inside the service's transaction."""
    user = actor.user
    return AuditLog.objects.create(
        actor=user,
        actor_label=(user.get_username() if user is not None else "anonymous")[:150],
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        mall_id=mall_id,
        shop_id=shop_id,
        before=before,
        after=after,
        request_id=request_id_var.get() or "",
    )


def body_hash(body: Any) -> str:
    """The SHA-256 of a request body in canonical JSON: what makes two requests the same."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_run(
    *,
    owner: str,
    scope: str,
    key: str | None,
    body: Any,
    run: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run ``run`` once per (owner, scope, key).

    Same key and same body: the stored (status, body) comes back and nothing runs again.
    Same key and another body: 409 idempotency_key_reused. Without a key, ``run`` just runs.
    The business write and the stored response commit together, so a concurrent duplicate
    either sees the stored response or loses the unique-key race and rolls back entirely.
    """
    if not key:
        return run()
    if len(key) > 255:
        raise field_error("Idempotency-Key", "must be at most 255 characters")
    digest = body_hash(body)

    def stored() -> tuple[int, Any] | None:
        row = IdempotencyRecord.objects.filter(owner=owner, scope=scope, key=key).first()
        if row is None:
            return None
        if row.request_hash != digest:
            raise IdempotencyKeyReused(
                detail="this Idempotency-Key was used with a different request body"
            )
        return row.status_code, row.response_body

    previous = stored()
    if previous is not None:
        return previous
    try:
        with transaction.atomic():
            status, response = run()
            IdempotencyRecord.objects.create(
                owner=owner,
                scope=scope,
                key=key,
                request_hash=digest,
                status_code=status,
                response_body=response,
            )
    except IntegrityError:
        previous = stored()
        if previous is None:
            raise
        return previous
    return status, response
