from django.apps import AppConfig


class CxConfig(AppConfig):
    name = "cx"
    verbose_name = "Customer service"
