from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print where the product is served and how to sign in (used by `make run`)."

    def handle(self, *args, **options):
        custom = settings.DEMO_PASSWORD != "demo"  # noqa: S105 - the documented dev default
        password = "the value of DEMO_PASSWORD" if custom else "demo"
        lines = [
            "",
            "Exception desk is starting:",
            "  dashboard   http://127.0.0.1:8000/",
            "  admin       http://127.0.0.1:8000/admin/",
            "  Magento     http://127.0.0.1:8081/rest/V1/ (token in var/sandbox.env)",
            "  Tryton ERP  http://127.0.0.1:8082/ (REST key in var/sandbox.env)",
            f"  demo logins ops, finance, cx, admin (password: {password})",
            "  stop        Ctrl-C stops every process",
            "",
        ]
        self.stdout.write("\n".join(lines))
