"""The district's geometry version: every service that changes what the walkable network is
built from (floors, zones, facilities, shop units, navigation links) bumps it in its own
transaction, and ``agora.navigation`` rebuilds its cached network when it moves (one indexed
read per route instead of aggregates over the whole district)."""

from __future__ import annotations

from django.db.models import F

from agora.district.models import District


def geometry_touch(*, mall_id: int | None = None, district_id: int | None = None) -> None:
    qs = District.objects.all()
    if district_id is not None:
        qs = qs.filter(pk=district_id)
    elif mall_id is not None:
        qs = qs.filter(malls__id=mall_id)
    else:
        raise ValueError("which district?")
    District.objects.filter(pk__in=list(qs.values_list("pk", flat=True))).update(
        geometry_version=F("geometry_version") + 1
    )
