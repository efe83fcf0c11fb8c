"""The sandbox's time: UTC without microseconds, printed in Magento's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def timestamp(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)
