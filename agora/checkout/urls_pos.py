"""The merchant's POS pages (/merchant/pos/): the sale screen and order panel, the live order
list, an order's detail (refunds, e-invoice) and its receipt. Included without an app
namespace: every name starts with "pos-"."""

from django.urls import path

from agora.checkout.views import pos, pos_orders

SALE = "merchant/pos/<int:shop_id>/sale/<int:order_id>/"
ORDER = "merchant/pos/<int:shop_id>/orders/<int:order_id>/"

urlpatterns = [
    path("merchant/pos/", pos.pos_home, name="pos-home"),
    path("merchant/pos/<int:shop_id>/", pos.pos_sale, name="pos-sale"),
    path("merchant/pos/<int:shop_id>/cart/", pos.pos_cart, name="pos-cart"),
    path("merchant/pos/<int:shop_id>/sale/", pos.pos_order_create, name="pos-order-create"),
    path(SALE, pos.pos_checkout, name="pos-checkout"),
    path(SALE + "member/", pos.pos_member, name="pos-member"),
    path(SALE + "apply/", pos.pos_apply, name="pos-apply"),
    path(SALE + "pay/", pos.pos_pay, name="pos-pay"),
    path(SALE + "status/", pos.pos_status, name="pos-status"),
    path(SALE + "cancel/", pos.pos_cancel, name="pos-cancel"),
    path("merchant/pos/<int:shop_id>/orders/", pos_orders.pos_orders, name="pos-orders"),
    path(ORDER, pos_orders.pos_order_detail, name="pos-order"),
    path(ORDER + "refund/", pos_orders.pos_refund, name="pos-refund"),
    path(ORDER + "invoice/", pos_orders.pos_invoice, name="pos-invoice"),
    path(ORDER + "receipt/", pos_orders.pos_receipt, name="pos-receipt"),
]
