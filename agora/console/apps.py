from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "agora.console"
    label = "console"
    verbose_name = "Loyalty consoles"
