from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "agora.coupons"
    label = "coupons"
    verbose_name = "Coupons"
