from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "agora.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from agora.accounts.services.privacy import register_personal_data

        register_personal_data()
