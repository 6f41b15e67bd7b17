"""Shopper member pages: card, points, coupon centre, wallet, points exchange, inbox."""

from django.urls import path

from agora.members import views

app_name = "members"

urlpatterns = [
    path("me/card/", views.card, name="card"),
    path("me/card/code/", views.card_code, name="card-code"),
    path("me/card/link/", views.card_link_view, name="card-link"),
    path("me/card/cards/<int:card_id>/lost/", views.card_lost, name="card-lost"),
    path("me/points/", views.points, name="points"),
    path("coupons/", views.coupon_centre_view, name="coupon-centre"),
    path("coupons/<int:template_id>/claim/", views.coupon_claim_view, name="coupon-claim"),
    path("me/coupons/", views.wallet, name="wallet"),
    path("exchange/", views.exchange, name="exchange"),
    path("exchange/<int:item_id>/", views.exchange_confirm, name="exchange-confirm"),
    path("exchange/orders/<int:order_id>/", views.exchange_order, name="exchange-order"),
    path("me/inbox/", views.inbox, name="inbox"),
]
