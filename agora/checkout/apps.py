from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "agora.checkout"
    label = "checkout"
    verbose_name = "Checkout and payments"

    def ready(self) -> None:
        from agora.checkout.services.privacy import register_personal_data

        register_personal_data()
