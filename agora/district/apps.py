from django.apps import AppConfig


class DistrictConfig(AppConfig):
    name = "agora.district"
    label = "district"
    verbose_name = "District"
