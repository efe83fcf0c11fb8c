"""`python manage.py sandbox <subcommand>`: the ERP bootstrap, the warehouse stand-in, the
Magento sandbox and its demo data. Each part registers its own subcommands."""

import importlib

from django.core.management.base import BaseCommand, CommandError

# Modules that expose `register(subparsers)`; each subparser sets `handler(command, options)`.
PARTS = ("sandbox.erp.commands", "sandbox.magento.commands")


class Command(BaseCommand):
    help = "Sandbox systems: Tryton ERP bootstrap, warehouse stand-in, Magento sandbox, demo data."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
        subparsers.required = True
        for module_name in PARTS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.register(subparsers)

    def handle(self, *args, **options):
        handler = options.get("handler")
        if handler is None:
            raise CommandError(f"unknown sandbox subcommand {options.get('subcommand')!r}")
        handler(self, options)
