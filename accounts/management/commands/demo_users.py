from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import demo_users_ensure


class Command(BaseCommand):
    help = "Create the demo users ops, finance, cx and admin (development only)."

    def handle(self, *args, **options):
        try:
            names = demo_users_ensure(password=settings.DEMO_PASSWORD)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"demo users ready: {', '.join(names)} (password from DEMO_PASSWORD)")
