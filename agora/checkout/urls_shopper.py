"""The shopper's payment pages: pay a till order on the phone, order history, invoices."""

from django.urls import URLPattern, path

from agora.checkout.views import shopper

urlpatterns: list[URLPattern] = [
    path("pay/<str:number>/", shopper.pay_order, name="pay-order"),
    path("pay/<str:number>/quote/", shopper.pay_quote, name="pay-quote"),
    path("pay/<str:number>/submit/", shopper.pay_submit, name="pay-submit"),
    path("pay/<str:number>/status/", shopper.pay_status, name="pay-status"),
    path("me/orders/", shopper.my_orders, name="pay-my-orders"),
    path("me/orders/<int:order_id>/", shopper.my_order, name="pay-my-order"),
    path(
        "me/orders/<int:order_id>/invoice/",
        shopper.invoice_request,
        name="pay-invoice-request",
    ),
    path("me/invoices/", shopper.my_invoices, name="pay-my-invoices"),
]
