from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = "Integration"

    def ready(self) -> None:
        from integration import fixers, notify, replayers

        replayers.register()
        fixers.register()
        notify.register()
