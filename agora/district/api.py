"""District API: malls, floors, zones, facilities (public reads, operator writes); shops
(scoped to their merchant staff and mall operators); the public directory; onboarding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Header, Router, Status

from agora.accounts.choices import ApiScope
from agora.core.auth import OPTIONAL, actor_of
from agora.core.errors import NotAuthenticated, PermissionDenied
from agora.core.selectors import page_of
from agora.core.services import idempotent_run
from agora.district import selectors as sel
from agora.district.schemas import (
    ApplicationApprovedOut,
    ApplicationApproveIn,
    ApplicationCreateIn,
    ApplicationOut,
    ApplicationPage,
    ApplicationRejectIn,
    DirectoryPage,
    DistrictOut,
    FacilityCreateIn,
    FacilityOut,
    FloorCreateIn,
    FloorOut,
    FloorPlanOut,
    MallOut,
    ShopCreateIn,
    ShopOut,
    ShopPage,
    ShopUpdateIn,
    ZoneCreateIn,
    ZoneOut,
    ZoneUpdateIn,
)
from agora.district.services import layout, onboarding, shops

if TYPE_CHECKING:
    from agora.district.models import MerchantApplication, Shop

router = Router(tags=["district"])


def _manager(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require_user()
    actor.require_scope(ApiScope.DISTRICT_WRITE)
    return actor


# --- the physical world: public reads ------------------------------------------------------
@router.get("/districts", auth=OPTIONAL, response=list[DistrictOut], operation_id="districts_list")
def list_districts(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(sel.districts_all())


@router.get("/malls", auth=OPTIONAL, response=list[MallOut], operation_id="malls_list")
def list_malls(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(sel.malls_public())


@router.get("/malls/{mall_id}", auth=OPTIONAL, response=MallOut, operation_id="mall_get")
def get_mall(request: HttpRequest, mall_id: int):  # type: ignore[no-untyped-def]
    return sel.access_mall(actor=actor_of(request), mall_id=mall_id)


@router.get(
    "/malls/{mall_id}/floors", auth=OPTIONAL, response=list[FloorOut], operation_id="floors_list"
)
def list_floors(request: HttpRequest, mall_id: int):  # type: ignore[no-untyped-def]
    mall = sel.access_mall(actor=actor_of(request), mall_id=mall_id)
    return list(sel.floors_of_mall(mall=mall))


@router.post("/malls/{mall_id}/floors", response={201: FloorOut}, operation_id="floor_create")
def post_floor(request: HttpRequest, mall_id: int, payload: FloorCreateIn):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    mall = sel.access_mall(actor=actor, mall_id=mall_id, manage=True)
    return Status(201, layout.floor_create(actor=actor, mall=mall, **payload.model_dump()))


@router.get(
    "/floors/{floor_id}", auth=OPTIONAL, response=FloorPlanOut, operation_id="floor_plan_get"
)
def get_floor(request: HttpRequest, floor_id: int):  # type: ignore[no-untyped-def]
    """The floor with its zones and facilities (what maps draw)."""
    floor = sel.access_floor(actor=actor_of(request), floor_id=floor_id)
    return {
        **FloorOut.from_orm(floor).model_dump(),
        "zones": list(sel.zones_of_floor(floor=floor)),
        "facilities": list(sel.facilities_of_floor(floor=floor)),
    }


@router.post("/floors/{floor_id}/zones", response={201: ZoneOut}, operation_id="zone_create")
def post_zone(request: HttpRequest, floor_id: int, payload: ZoneCreateIn):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    floor = sel.access_floor(actor=actor, floor_id=floor_id, manage=True)
    return Status(201, layout.zone_create(actor=actor, floor=floor, **payload.model_dump()))


@router.patch("/zones/{zone_id}", response=ZoneOut, operation_id="zone_update")
def patch_zone(request: HttpRequest, zone_id: int, payload: ZoneUpdateIn):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    zone = sel.access_zone(actor=actor, zone_id=zone_id, manage=True)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return layout.zone_update(actor=actor, zone=zone, changes=changes)


@router.delete("/zones/{zone_id}", response={204: None}, operation_id="zone_delete")
def delete_zone(request: HttpRequest, zone_id: int):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    layout.zone_delete(actor=actor, zone=sel.access_zone(actor=actor, zone_id=zone_id, manage=True))
    return Status(204, None)


@router.post(
    "/floors/{floor_id}/facilities", response={201: FacilityOut}, operation_id="facility_create"
)
def post_facility(request: HttpRequest, floor_id: int, payload: FacilityCreateIn):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    floor = sel.access_floor(actor=actor, floor_id=floor_id, manage=True)
    return Status(201, shops.facility_create(actor=actor, floor=floor, **payload.model_dump()))


@router.delete("/facilities/{facility_id}", response={204: None}, operation_id="facility_delete")
def delete_facility(request: HttpRequest, facility_id: int):  # type: ignore[no-untyped-def]
    actor = _manager(request)
    facility = sel.access_facility(actor=actor, facility_id=facility_id, manage=True)
    shops.facility_delete(actor=actor, facility=facility)
    return Status(204, None)


# --- shops: tenant-scoped -------------------------------------------------------------------
def _shop_out(shop: Shop) -> dict[str, Any]:
    return {
        **{f: getattr(shop, f) for f in ShopOut.model_fields if f != "units"},
        "units": [
            {"id": u.pk, "code": u.code, "floor_id": u.floor_id, "area_m2": u.area_m2}
            for u in shop.units.all()
        ],
    }


@router.get("/shops", response=ShopPage, operation_id="shops_list")
def list_shops(request: HttpRequest, cursor: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
    """Shops whose full record you may see: your own, or those of the malls you operate."""
    actor = actor_of(request)
    actor.require_scope(ApiScope.SHOPS_READ)
    page = page_of(sel.shops_managed(actor=actor), cursor=cursor, limit=limit)
    return {"items": [_shop_out(s) for s in page.items], "next_cursor": page.next_cursor}


@router.post("/malls/{mall_id}/shops", response={201: ShopOut}, operation_id="shop_create")
def post_shop(request: HttpRequest, mall_id: int, payload: ShopCreateIn):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    actor.require_scope(ApiScope.SHOPS_WRITE)
    mall = sel.access_mall(actor=actor, mall_id=mall_id, manage=True)
    shop = shops.shop_create(actor=actor, mall=mall, **payload.model_dump())
    return Status(201, _shop_out(sel.access_shop(actor=actor, shop_id=shop.pk)))


@router.get("/shops/{shop_id}", response=ShopOut, operation_id="shop_get")
def get_shop(request: HttpRequest, shop_id: int):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    actor.require_scope(ApiScope.SHOPS_READ)
    return _shop_out(sel.access_shop(actor=actor, shop_id=shop_id))


@router.patch("/shops/{shop_id}", response=ShopOut, operation_id="shop_update")
def patch_shop(request: HttpRequest, shop_id: int, payload: ShopUpdateIn):  # type: ignore[no-untyped-def]
    actor = actor_of(request)
    shop = sel.access_shop(actor=actor, shop_id=shop_id)
    actor.require_scope(ApiScope.SHOPS_WRITE)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    shops.shop_update(actor=actor, shop=shop, changes=changes)
    return _shop_out(sel.access_shop(actor=actor, shop_id=shop_id))


# --- the public directory -------------------------------------------------------------------
@router.get(
    "/directory/shops", auth=OPTIONAL, response=DirectoryPage, operation_id="directory_search"
)
def search_directory(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    q: str = "",
    mall_id: int | None = None,
    category: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
):
    """Open shops by name, pinyin or initials: `xbk` and `xingbake` both find 星巴克."""
    qs = sel.shop_directory(q=q[:40], mall_id=mall_id, category=category).prefetch_related("units")
    page = page_of(qs.order_by("id"), cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": s.pk,
                "mall_id": s.mall_id,
                "mall_name": s.mall.name,
                "name": s.name,
                "brand": s.brand,
                "category": s.category,
                "opens_at": s.opens_at,
                "closes_at": s.closes_at,
                "phone": s.phone,
                "unit_codes": sorted(u.code for u in s.units.all()),
            }
            for s in page.items
        ],
        "next_cursor": page.next_cursor,
    }


# --- merchant onboarding (MER-2) ------------------------------------------------------------
@router.post(
    "/malls/{mall_id}/merchant-applications",
    auth=OPTIONAL,
    response={201: ApplicationOut},
    operation_id="merchant_application_submit",
)
def post_application(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    mall_id: int,
    payload: ApplicationCreateIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    """Apply to open a shop. Send an Idempotency-Key so that a retry makes no second application."""
    actor = actor_of(request)
    mall = sel.access_mall(actor=actor, mall_id=mall_id)
    body = payload.model_dump(mode="json")

    def run() -> tuple[int, Any]:
        app = onboarding.merchant_application_submit(mall=mall, **body)
        return 201, ApplicationOut.from_orm(app).model_dump(mode="json")

    owner = f"user:{actor.user.pk}" if actor.user else f"anon:{request.META.get('REMOTE_ADDR', '')}"
    status, out = idempotent_run(
        owner=owner,
        scope=f"POST /malls/{mall_id}/merchant-applications",
        key=idempotency_key,
        body=body,
        run=run,
    )
    return Status(status, out)


@router.get(
    "/merchant-applications", response=ApplicationPage, operation_id="merchant_applications_list"
)
def list_applications(  # type: ignore[no-untyped-def]
    request: HttpRequest, status: str | None = None, cursor: str | None = None, limit: int = 50
):
    actor = actor_of(request)
    if not (actor.is_admin or actor.is_operator):
        raise PermissionDenied(detail="applications are reviewed by mall operators")
    qs = sel.applications_visible(actor=actor)
    if status:
        qs = qs.filter(status=status)
    page = page_of(qs, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


def _application(request: HttpRequest, application_id: int) -> tuple[Any, MerchantApplication]:
    actor = actor_of(request)
    if actor.user is None:
        raise NotAuthenticated(detail="sign in first")
    return actor, sel.access_application(actor=actor, application_id=application_id)


@router.get(
    "/merchant-applications/{application_id}",
    response=ApplicationOut,
    operation_id="merchant_application_get",
)
def get_application(request: HttpRequest, application_id: int):  # type: ignore[no-untyped-def]
    return _application(request, application_id)[1]


@router.post(
    "/merchant-applications/{application_id}/approve",
    response={201: ApplicationApprovedOut},
    operation_id="merchant_application_approve",
)
def approve_application(request: HttpRequest, application_id: int, payload: ApplicationApproveIn):  # type: ignore[no-untyped-def]
    """Approve: creates the shop (fitting out) in the given units and the owner account."""
    actor, application = _application(request, application_id)
    actor.require_scope(ApiScope.SHOPS_WRITE)
    result = onboarding.merchant_application_approve(
        actor=actor, application=application, unit_ids=payload.unit_ids
    )
    out = {
        "application": result.application,
        "owner_username": result.owner_username,
        "initial_password": result.initial_password,
    }
    return Status(201, out)


@router.post(
    "/merchant-applications/{application_id}/reject",
    response=ApplicationOut,
    operation_id="merchant_application_reject",
)
def reject_application(request: HttpRequest, application_id: int, payload: ApplicationRejectIn):  # type: ignore[no-untyped-def]
    actor, application = _application(request, application_id)
    actor.require_scope(ApiScope.SHOPS_WRITE)
    return onboarding.merchant_application_reject(
        actor=actor, application=application, note=payload.note
    )
