"""django-axes locks a user out after 5 failures from the same address, for 15 minutes."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory


def _attempt(client, username, password, ip="10.0.0.5"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


@pytest.mark.django_db
def test_correct_password_signs_in_and_lands_on_the_roles_screen(client):
    UserFactory(username="olivia", roles=["ops"])
    response = _attempt(client, "olivia", PASSWORD)
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == reverse("ops:exception_list")
    assert AccessLog.objects.filter(username="olivia").exists()


@pytest.mark.django_db
def test_five_failures_lock_the_user_out_even_with_the_right_password(client):
    UserFactory(username="olivia", roles=["ops"])
    for _ in range(4):
        assert _attempt(client, "olivia", "wrong").status_code == 200
    locked = _attempt(client, "olivia", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # In words, not ISO 8601 ("PT15M").
    assert "locked from your address for 15 minutes" in locked.content.decode()
    assert "PT15M" not in locked.content.decode()
    assert _attempt(client, "olivia", PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="olivia")
    assert attempt.failures_since_start >= 5
    assert attempt.ip_address == "10.0.0.5"


@pytest.mark.django_db
def test_lockout_is_per_user_and_address(client):
    UserFactory(username="olivia", roles=["ops"])
    for _ in range(5):
        _attempt(client, "olivia", "wrong", ip="10.0.0.5")
    assert _attempt(client, "olivia", PASSWORD, ip="10.0.0.9").status_code == 302


@pytest.mark.django_db
def test_lockout_expires_after_fifteen_minutes(client):
    UserFactory(username="olivia", roles=["ops"])
    for _ in range(5):
        _attempt(client, "olivia", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _attempt(client, "olivia", PASSWORD).status_code == 302
