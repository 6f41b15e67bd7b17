"""Accounts: one user model, role grants (tenancy), SMS codes, API tokens and keys, consent."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from agora.accounts.choices import ApiScope, ConsentPurpose, Role


class User(AbstractUser):
    """Everyone who signs in. Shoppers have a phone and no usable password; staff have a
    username and password. After account deletion the personal fields are anonymised and
    ``anonymised_at`` is set; the row stays so that ledgers keep their owner."""

    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    display_name = models.CharField(max_length=80, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleGrant(models.Model):
    """A role held by a user over one shop, one mall, one district or the whole platform.

    merchant_* roles name a shop; mall_operator a mall; district_operator and
    government_officer a district; platform_admin nothing.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    district = models.ForeignKey(
        "district.District", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "district", "mall", "shop"], name="rolegrant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class SmsCode(models.Model):
    """A one-time sign-in code sent to a phone; only its hash is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.phone} {self.created_at:%H:%M}"


class ApiToken(models.Model):
    """A bearer token for the shopper app or a staff member's own scripts (hashed at rest)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, default="app")
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ApiKey(models.Model):
    """A partner system's key (merchant ERP/POS, operator BI): acts for the user who made it,
    limited to its scopes and to one shop or mall. Hashed at rest, revocable, last use kept."""

    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    shop = models.ForeignKey(
        "district.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    mall = models.ForeignKey(
        "district.Mall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scopes = models.JSONField(default=list, help_text=f"subset of {list(ApiScope.values)}")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ConsentRecord(models.Model):
    """Append-only: each grant or withdrawal of one purpose, with the policy version shown.
    The newest record of a purpose is the user's current choice."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    policy_version = models.CharField(max_length=32)
    source = models.CharField(max_length=16, default="api")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "-id"])]

    def __str__(self) -> str:
        return f"{self.user} {self.purpose}={self.granted}"
