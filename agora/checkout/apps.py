from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "agora.checkout"
    label = "checkout"
    verbose_name = "Checkout and payments"

    def ready(self) -> None:
        from agora.checkout.demo import build_checkout_demo, reset_checkout_demo
        from agora.district.demo import register_demo_step

        register_demo_step("checkout", build_checkout_demo, reset=reset_checkout_demo)

        from agora.checkout.services.privacy import register_personal_data

        register_personal_data()
