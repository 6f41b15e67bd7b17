"""A shopper's orders and invoices in the personal-data export. On deletion, orders and
invoices stay (tax law keeps sales records for years) but the e-mail address given for
invoices is erased."""

from __future__ import annotations

from typing import Any

from agora.accounts import personal_data
from agora.accounts.models import User
from agora.checkout.models import Invoice, Order


def _orders_section(user: User) -> list[dict[str, Any]]:
    return [
        {
            "number": o.number,
            "shop": o.shop.name,
            "status": o.status,
            "subtotal_fen": o.subtotal_fen,
            "discount_fen": o.discount_fen,
            "points_used": o.points_used,
            "paid_fen": o.paid_fen,
            "refunded_fen": o.refunded_fen,
            "points_earned": o.points_earned,
            "created_at": o.created_at.isoformat(),
            "invoices": [
                {"number": i.number, "kind": i.kind, "title": i.title, "amount_fen": i.amount_fen}
                for i in o.invoices.all()
            ],
        }
        for o in Order.objects.filter(member__user=user)
        .select_related("shop")
        .prefetch_related("invoices")
        .order_by("id")
    ]


def _orders_erase(user: User) -> None:
    Invoice.objects.filter(order__member__user=user).update(email="")


def register_personal_data() -> None:
    personal_data.register("orders", exporter=_orders_section, eraser=_orders_erase)
