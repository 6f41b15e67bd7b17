"""The operators' payments console: payments, notifications, reconciliation, settlement."""

from django.urls import URLPattern, path

from agora.checkout.views import ops

urlpatterns: list[URLPattern] = [
    path("ops/payments/", ops.payments_tab, name="ops-pay-payments"),
    path("ops/payments/notifications/", ops.notices_tab, name="ops-pay-notices"),
    path("ops/payments/reconciliation/", ops.reconcile_tab, name="ops-pay-reconcile"),
    path("ops/payments/reconciliation/run/", ops.reconcile_run, name="ops-pay-reconcile-run"),
    path("ops/payments/settlement/", ops.settlement_tab, name="ops-pay-settlement"),
    path("ops/payments/settlement.csv", ops.settlement_csv_view, name="ops-pay-settlement-csv"),
]
