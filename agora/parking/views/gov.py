"""The government's parking overview (``/gov/parking/``, PUB-8), for government officers and
district operators of the district (and admins): every car park's occupancy, live over
server-sent events (``/parking/live/``, event ``district``); those past their threshold
highlighted with the nearest car parks that still have room; and the vehicle flow of today
(entries and exits per hour across the district).

Civic figures only: no plate and no money is ever on this page (commerce stays the
operators'). Anyone else signed in gets a 404; anonymous visitors the staff sign-in."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agora.accounts.actor import Actor
from agora.navigation.selectors import default_district
from agora.parking.selectors import car_parks_of, district_parking, overflow_for
from agora.parking.selectors_analytics import district_flow
from agora.portal.views.common import console


def sees_district_parking(actor: Actor) -> bool:
    return actor.is_admin or actor.is_government or bool(actor.district_operator_ids)


@require_GET
@never_cache
@console(sees_district_parking)
def gov_parking(request: HttpRequest, actor: Actor) -> HttpResponse:
    district = default_district()
    allowed = actor.is_admin or district.pk in (
        actor.gov_district_ids | actor.district_operator_ids
    )
    if not allowed:
        raise Http404("no such page")
    rows = district_parking(district_id=district.pk)
    by_id = {cp.pk: cp for cp in car_parks_of(district_id=district.pk)}
    full = []
    for row in rows:
        if row["full"] and row["id"] in by_id:
            full.append({"row": row, "overflow": overflow_for(car_park=by_id[row["id"]])})
    flow = district_flow(district_id=district.pk)
    free = sum(r["free"] for r in rows)
    total = sum(r["total"] for r in rows)
    context: dict[str, Any] = {
        "district": district,
        "rows": rows,
        "full": full,
        "free": free,
        "total": total,
        "occupancy_pct": round(100 * (total - free) / total) if total else 0,
        "flow": flow,
        "flow_rows": [
            {"hour": f"{h:02d}", "entries": flow.entries[h], "exits": flow.exits[h]}
            for h in range(24)
        ],
        "charts": {
            "hours": [f"{h:02d}" for h in range(24)],
            "flow": {
                "entries": flow.entries,
                "exits": flow.exits,
                "labels": {"entries": _("Entries"), "exits": _("Exits")},
            },
        },
        "live_url": reverse("parking-live-district"),
        "version": sum(r["version"] for r in rows),
    }
    return render(request, "parking/gov_parking.html", context)
