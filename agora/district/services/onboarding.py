"""Merchant onboarding (MER-2): apply → operator review → approval creates shop and owner."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from agora.accounts.actor import Actor
from agora.accounts.choices import Role
from agora.accounts.selectors import active_user_with_phone
from agora.accounts.services.sms_login import normalise_phone
from agora.accounts.services.staff import role_grant, staff_user_create
from agora.core.errors import Conflict, FieldError, ValidationFailed, field_error
from agora.core.services import audit_record, snapshot
from agora.district.choices import ApplicationStatus, ShopCategory, ZoneKind
from agora.district.models import Mall, MerchantApplication, Zone
from agora.district.services.shops import shop_create

LICENCE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def merchant_application_submit(
    *,
    mall: Mall,
    shop_name: str,
    category: str,
    contact_name: str,
    contact_phone: str,
    licence_number: str,
    brand: str = "",
    contact_email: str = "",
    unit_id: int | None = None,
) -> MerchantApplication:
    errors: list[FieldError] = []
    if not shop_name.strip():
        errors.append(FieldError("shop_name", "must not be empty", "required"))
    if not contact_name.strip():
        errors.append(FieldError("contact_name", "must not be empty", "required"))
    if category not in ShopCategory.values:
        errors.append(FieldError("category", "unknown category", "enum"))
    if not LICENCE_RE.match(licence_number.upper()):
        errors.append(
            FieldError(
                "licence_number", "must be an 18-character unified social credit code", "licence"
            )
        )
    try:
        phone = normalise_phone(contact_phone)
    except ValidationFailed:
        errors.append(
            FieldError("contact_phone", "must be a mainland China mobile number", "phone")
        )
        phone = ""
    unit = None
    if unit_id is not None:
        unit = Zone.objects.filter(pk=unit_id, floor__mall=mall, kind=ZoneKind.SHOP_UNIT).first()
        if unit is None:
            errors.append(FieldError("unit_id", "not a shop unit of this mall", "unknown_unit"))
        elif hasattr(unit, "occupancy"):
            errors.append(FieldError("unit_id", "this unit is already occupied", "occupied"))
    if errors:
        raise ValidationFailed(detail="the application is not valid", errors=errors)
    return MerchantApplication.objects.create(
        mall=mall,
        shop_name=shop_name.strip(),
        brand=brand.strip(),
        category=category,
        unit=unit,
        contact_name=contact_name.strip(),
        contact_phone=phone,
        contact_email=contact_email,
        licence_number=licence_number.upper(),
    )


@dataclass
class Approval:
    application: MerchantApplication
    owner_username: str
    initial_password: str | None  # shown once when a new owner account was made


def merchant_application_approve(
    *, actor: Actor, application: MerchantApplication, unit_ids: list[int] | None = None
) -> Approval:
    """Create the shop in the requested units and its owner (the contact phone's existing
    account, or a new one whose one-time password is returned once)."""
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict(detail=f"the application is already {application.status}")
    units = (
        unit_ids if unit_ids is not None else ([application.unit_id] if application.unit_id else [])
    )
    if not units:
        raise field_error("unit_ids", "choose the shop units the merchant will occupy", "required")
    mall = application.mall
    with transaction.atomic():
        claimed = MerchantApplication.objects.filter(
            pk=application.pk, status=ApplicationStatus.SUBMITTED
        ).update(
            status=ApplicationStatus.APPROVED, reviewed_at=timezone.now(), reviewed_by=actor.user
        )
        if claimed != 1:
            raise Conflict(detail="the application was reviewed meanwhile")
        shop = shop_create(
            actor=actor,
            mall=mall,
            name=application.shop_name,
            brand=application.brand,
            category=application.category,
            unit_ids=units,
            opens_at=mall.opens_at,
            closes_at=mall.closes_at,
            phone=application.contact_phone,
            contact_name=application.contact_name,
            contact_email=application.contact_email,
            status="fitting_out",
        )
        owner = active_user_with_phone(phone=application.contact_phone)
        password = None
        if owner is None:
            password = secrets.token_urlsafe(9)
            owner = staff_user_create(
                username=f"shop{shop.pk}-owner",
                password=password,
                display_name=application.contact_name,
                phone=application.contact_phone,
            )
        role_grant(user=owner, role=Role.MERCHANT_OWNER, shop_id=shop.pk)
        application.refresh_from_db()
        application.shop = shop
        application.owner = owner
        application.save(update_fields=["shop", "owner"])
        audit_record(
            actor=actor,
            action="merchant_application.approve",
            target=application,
            mall_id=mall.pk,
            shop_id=shop.pk,
            before={"status": ApplicationStatus.SUBMITTED},
            after=snapshot(application, ["status", "shop_id", "owner_id"]),
        )
    return Approval(
        application=application, owner_username=owner.username, initial_password=password
    )


def merchant_application_reject(
    *, actor: Actor, application: MerchantApplication, note: str
) -> MerchantApplication:
    if not note.strip():
        raise field_error("note", "tell the merchant why", "required")
    with transaction.atomic():
        claimed = MerchantApplication.objects.filter(
            pk=application.pk, status=ApplicationStatus.SUBMITTED
        ).update(
            status=ApplicationStatus.REJECTED,
            reviewed_at=timezone.now(),
            reviewed_by=actor.user,
            review_note=note.strip()[:200],
        )
        if claimed != 1:
            raise Conflict(detail=f"the application is already {application.status}")
        application.refresh_from_db()
        audit_record(
            actor=actor,
            action="merchant_application.reject",
            target=application,
            mall_id=application.mall_id,
            before={"status": ApplicationStatus.SUBMITTED},
            after=snapshot(application, ["status", "review_note"]),
        )
    return application
