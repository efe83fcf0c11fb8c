"""Demo users for local runs; refused when debug is off."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.roles import ROLES, Role


@transaction.atomic
def demo_users_ensure(*, password: str) -> list[str]:
    """Create or reset one user per role; returns their usernames."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo users are only created with DJANGO_DEBUG on.")
    User = get_user_model()
    names = []
    for role in ROLES:
        user, _ = User.objects.get_or_create(
            username=role, defaults={"email": f"{role}@example.test"}
        )
        user.first_name = role.upper() if role == Role.CX else role.capitalize()
        user.last_name = "Demo"
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        names.append(role)
    return names
