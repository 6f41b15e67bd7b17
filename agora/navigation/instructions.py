"""Route steps in words, in the active language.

For example "乘客梯 1到2F" then "出电梯后左转，沿北走廊步行约40米".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from agora.navigation.routes import Step


def about_metres(m: float) -> int:
    """Distances people can use: to 5 m below 100 m, to 10 m above; never 0."""
    if m < 100:
        return max(5, round(m / 5.0) * 5)
    return round(m / 10.0) * 10


def _turn_word(turn: str | None) -> str:
    return {
        "left": _("turn left"),
        "right": _("turn right"),
        "straight": _("go straight on"),
        "back": _("turn around"),
    }.get(turn or "", "")


def _after_word(after: str | None) -> str:
    return {
        "lift": _("Leave the lift and"),
        "escalator": _("Step off the escalator and"),
        "stairs": _("Leave the stairs and"),
        "door": _("Step out of the door and"),
    }.get(after or "", "")


def _walk(p: dict[str, Any]) -> str:
    m = about_metres(p["distance_m"])
    along = p.get("along") or ""
    if along[-1:].isdigit():  # "沿横向通道 1 步行", not "沿横向通道 1步行"
        along += " "
    walk = (
        _("walk about %(m)s m along %(along)s") % {"m": m, "along": along}
        if along
        else _("walk about %(m)s m") % {"m": m}
    )
    turn = _turn_word(p.get("turn"))
    after = _after_word(p.get("after"))
    if after and turn:
        return _("%(after)s %(turn)s, then %(walk)s") % {"after": after, "turn": turn, "walk": walk}
    if after:
        return _("%(after)s %(walk)s") % {"after": after, "walk": walk}
    if turn:
        return _("%(turn)s, then %(walk)s") % {"turn": turn, "walk": walk}
    return walk


def step_text(
    step: Step,
    *,
    floor_name: Callable[[int | None], str],
    mall_name: Callable[[int | None], str],
    origin: str,
    destination: str,
) -> str:
    p = step.params
    k = step.kind
    if k == "start":
        return _("Start at %(place)s") % {"place": origin}
    if k == "walk":
        text = _walk(p)
        return text[:1].upper() + text[1:]
    if k == "lift":
        return _("Take the lift (%(name)s) to %(floor)s") % {
            "name": p["name"],
            "floor": floor_name(p["to_floor_id"]),
        }
    if k == "escalator":
        key = (
            _("Take the escalator up (%(name)s) to %(floor)s")
            if p["up"]
            else _("Take the escalator down (%(name)s) to %(floor)s")
        )
        return key % {"name": p["name"], "floor": floor_name(p["to_floor_id"])}
    if k == "stairs":
        key = (
            _("Take the stairs (%(name)s) up to %(floor)s")
            if p["up"]
            else _("Take the stairs (%(name)s) down to %(floor)s")
        )
        return key % {"name": p["name"], "floor": floor_name(p["to_floor_id"])}
    if k == "street":
        return _(
            "Leave %(mall)s by %(exit)s and walk about %(m)s m along the street to "
            "%(to_mall)s (about %(min)s min)"
        ) % {
            "mall": mall_name(p.get("from_floor_id")),
            "exit": p.get("from_label", ""),
            "m": about_metres(p["distance_m"]),
            "to_mall": mall_name(p.get("to_floor_id")),
            "min": p["minutes"],
        }
    if k in ("skywalk", "tunnel"):
        key = (
            _("Cross the skywalk (%(name)s) to %(to_mall)s %(floor)s, about %(m)s m")
            if k == "skywalk"
            else _(
                "Take the underground passage (%(name)s) to %(to_mall)s %(floor)s, about %(m)s m"
            )
        )
        return key % {
            "name": p["name"],
            "to_mall": mall_name(p.get("to_floor_id")),
            "floor": floor_name(p.get("to_floor_id")),
            "m": about_metres(p["distance_m"]),
        }
    if k == "arrive":
        side = p.get("side")
        if side == "left":
            return _("%(place)s is on your left") % {"place": destination}
        if side == "right":
            return _("%(place)s is on your right") % {"place": destination}
        return _("You have arrived at %(place)s") % {"place": destination}
    return k
