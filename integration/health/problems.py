"""Where problems sit: working exceptions by system at fault and by team, with what is at stake.

Money is summed per currency and never across currencies; an exception's amount is a gap or an
order value and may be negative (a tax gap), so the money at stake is the sum of magnitudes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Abs

from exceptions_app.models import WORKING_STATUSES, DeskException, System, Team


@dataclass
class AtStake:
    open: int = 0
    overdue: int = 0
    money: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount
    units: Decimal = Decimal(0)

    @property
    def money_rows(self) -> list[tuple[str, Decimal]]:
        return sorted(self.money.items())


@dataclass(frozen=True)
class Problems:
    total: AtStake
    by_system: list[tuple[str, str, AtStake]]  # (value, label, figures), every system listed
    by_team: list[tuple[str, str, AtStake]]

    @property
    def tables(self) -> list[tuple[str, str, list[tuple[str, str, AtStake]]]]:
        """(heading, test id, rows): the page draws both groupings the same way."""
        return [
            ("System at fault", "by-system", self.by_system),
            ("Team", "by-team", self.by_team),
        ]


def _add(stake: AtStake, row: dict) -> None:
    stake.open += row["n"]
    stake.overdue += row["overdue"]
    if row["currency"] and row["amount"] is not None:
        stake.money[row["currency"]] = stake.money.get(row["currency"], Decimal(0)) + row["amount"]
    stake.units += row["units"] or 0


def problems(*, now: datetime) -> Problems:
    """One grouped query over the working exceptions."""
    rows = (
        DeskException.objects.filter(status__in=WORKING_STATUSES)
        .values("system", "team", "currency")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(sla_due_at__lt=now)),
            amount=Sum(Abs("amount")),
            units=Sum(Abs("units")),
        )
        .order_by()
    )
    total = AtStake()
    systems: dict[str, AtStake] = defaultdict(AtStake)
    teams: dict[str, AtStake] = defaultdict(AtStake)
    for row in rows:
        _add(total, row)
        _add(systems[row["system"]], row)
        _add(teams[row["team"]], row)
    return Problems(
        total=total,
        by_system=[(s.value, s.label, systems.get(s.value, AtStake())) for s in System],
        by_team=[(t.value, t.label, teams.get(t.value, AtStake())) for t in Team],
    )
