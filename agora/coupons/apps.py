from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "agora.coupons"
    label = "coupons"
    verbose_name = "Coupons"

    def ready(self) -> None:
        from agora.coupons.services.privacy import register_personal_data

        register_personal_data()
