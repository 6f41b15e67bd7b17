"""Small reads the pages need, built only from the district selectors (no model imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

from agora.accounts.actor import Actor
from agora.district.choices import ZoneKind
from agora.district.selectors import floors_of_mall, zones_of_floor

if TYPE_CHECKING:
    from agora.district.models import Floor, Mall, Zone


@dataclass
class FloorUnits:
    floor: Floor
    units: list[Zone]


def vacant_units(*, mall: Mall) -> list[FloorUnits]:
    """The mall's shop units that no shop occupies, floor by floor (for approving applications)."""
    out = []
    for floor in floors_of_mall(mall=mall):
        units = list(
            zones_of_floor(floor=floor, kind=ZoneKind.SHOP_UNIT)
            .filter(occupancy__isnull=True)
            .order_by("code")
        )
        if units:
            out.append(FloorUnits(floor=floor, units=units))
    return out


def home_url_for(actor: Actor) -> str:
    """Where a person lands after signing in: the console of their strongest role."""
    if actor.is_admin or actor.is_operator:
        return reverse("portal:ops-home")
    if actor.is_government:
        return reverse("portal:gov-home")
    if actor.is_merchant:
        return reverse("portal:merchant-home")
    return reverse("portal:home")
