from django.apps import AppConfig


class NavigationConfig(AppConfig):
    name = "agora.navigation"
    label = "navigation"
    verbose_name = "Navigation and positioning"

    def ready(self) -> None:
        from agora.district.demo import register_demo_step
        from agora.navigation.demo import build_navigation_demo, reset_navigation_demo

        register_demo_step("navigation", build_navigation_demo, reset=reset_navigation_demo)
