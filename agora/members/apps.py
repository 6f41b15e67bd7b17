from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "agora.members"
    label = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from agora.members.services.privacy import register_personal_data

        register_personal_data()
