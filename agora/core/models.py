"""Cross-cutting records: the audit log of staff writes, stored idempotent responses and the
calendar of public holidays and make-up working days."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """One staff write: who did what to which object, when, with the state before and after.

    Rows are only ever inserted (by ``agora.core.services.audit_record``), never updated.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    mall_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    shop_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class IdempotencyRecord(models.Model):
    """The stored response of a POST made with an ``Idempotency-Key`` header.

    Same key + same body returns the stored response; same key + other body is a 409.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    owner = models.CharField(max_length=80, help_text="user:<id> or key:<id>")
    scope = models.CharField(
        max_length=120, help_text="the operation, e.g. POST /merchant-applications"
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "scope", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.scope} {self.key}"


class CalendarDay(models.Model):
    """An exception to the ordinary week, kept by operators as the authority (the State
    Council's notice comes out late in the year): a public holiday (``rest``) or a make-up
    working day on a weekend (调休, not ``rest``). Other days: Saturday and Sunday rest."""

    date = models.DateField(unique=True)
    rest = models.BooleanField()
    name = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'rest' if self.rest else 'work'}"
