"""The exception core's chat webhook goes out through the integration's HTTP chokepoint."""

from exceptions_app import notifications
from integration.connectors import webhook


def webhook_send(*, url: str, payload: dict, timeout: float) -> int:
    """The core's webhook sender: the connector's call, its failure in the core's terms."""
    try:
        return webhook.webhook_post(url=url, payload=payload, timeout=timeout)
    except webhook.WebhookError as exc:
        raise notifications.WebhookError(str(exc)) from exc


def register() -> None:
    notifications.register_webhook_sender(webhook_send)
