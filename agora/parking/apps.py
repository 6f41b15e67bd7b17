from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "agora.parking"
    label = "parking"
    verbose_name = "Smart parking"

    def ready(self) -> None:
        import agora.parking.services.charging  # noqa: F401  (registers the paid-order hook)
        from agora.district.demo import register_demo_step
        from agora.parking.demo import build_parking_demo, reset_parking_demo

        register_demo_step("parking", build_parking_demo, reset=reset_parking_demo)
