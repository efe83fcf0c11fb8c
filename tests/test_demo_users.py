import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured

from accounts.demo import demo_users_ensure
from accounts.roles import ROLES, user_roles


@pytest.mark.django_db
def test_migrations_create_role_groups_but_no_users():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    assert get_user_model().objects.count() == 0


@pytest.mark.django_db
def test_demo_users_get_one_role_each_and_rerun_is_idempotent(settings):
    settings.DEBUG = True
    demo_users_ensure(password="pw-1")
    demo_users_ensure(password="pw-2")
    User = get_user_model()
    assert User.objects.count() == len(ROLES)
    for role in ROLES:
        user = User.objects.get(username=role)
        assert role in user_roles(user)
        assert user.check_password("pw-2")
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="ops").is_staff


@pytest.mark.django_db
def test_demo_users_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        demo_users_ensure(password="pw")
    assert get_user_model().objects.count() == 0
