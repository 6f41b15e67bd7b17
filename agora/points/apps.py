from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "agora.points"
    label = "points"
    verbose_name = "Points"

    def ready(self) -> None:
        from agora.district.demo import register_demo_step
        from agora.points.demo import build_loyalty_demo, reset_loyalty_demo

        register_demo_step("loyalty", build_loyalty_demo, reset=reset_loyalty_demo)

        from agora.points.services.privacy import register_personal_data

        register_personal_data()
