"""Orders, payments, refunds and invoices are read-only in the admin: money moves only through
the checkout services."""

from django.contrib import admin

from agora.checkout.models import Invoice, Order, Payment, PaymentNotice, Refund
from agora.core.admin import ReadOnlyAdmin


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "shop", "status", "subtotal_fen", "payable_fen", "paid_fen")
    list_filter = ("status", "channel")
    search_fields = ("number",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("number", "method", "provider", "amount_fen", "refunded_fen", "status")
    list_filter = ("status", "method", "provider")
    search_fields = ("number", "provider_txn_id")


@admin.register(PaymentNotice)
class PaymentNoticeAdmin(ReadOnlyAdmin):
    list_display = ("provider", "out_trade_no", "verdict", "amount_fen", "received_at")
    list_filter = ("verdict", "provider")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "amount_fen", "status", "created_at")
    list_filter = ("status",)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "order", "title", "amount_fen", "issued_at")
    list_filter = ("kind",)
    exclude = ("pdf",)
