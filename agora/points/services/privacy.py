"""Personal data in the points ledger: exported in full; never erased (the ledger is
append-only and settlements depend on it), it stays with the anonymised member."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from agora.accounts import personal_data
from agora.accounts.models import User
from agora.points.models import ExchangeOrder, LedgerEntry, LedgerTransaction


def _points_section(user: User) -> dict[str, Any] | None:
    txns = LedgerTransaction.objects.filter(member__user=user)
    balance = LedgerEntry.objects.filter(account__member__user=user).aggregate(s=Sum("amount"))
    return {
        "balance": int(balance["s"] or 0),
        "transactions": [
            {
                "kind": t.kind,
                "points": t.points,
                "reason": t.reason,
                "reference": t.reference,
                "created_at": t.created_at.isoformat(),
            }
            for t in txns.order_by("created_at", "id")
        ],
        "exchanges": [
            {"item": o.item.title, "pickup_code": o.pickup_code, "at": o.created_at.isoformat()}
            for o in ExchangeOrder.objects.filter(member__user=user).select_related("item")
        ],
    }


def register_personal_data() -> None:
    personal_data.register("points", exporter=_points_section)
