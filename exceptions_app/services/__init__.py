"""Every change to an exception, by sub-domain. Each service checks the transition table and
who may act, changes the record, and writes its timeline entry in the same transaction.

Callers: the sync flows and checks (`exception_raise`, `exception_auto_resolve`, with no
actor: the desk itself), and the screens (everything else, with the signed-in user).
"""

from exceptions_app.services.bulk import (
    BULK_ACTIONS,
    ROW_ERRORS,
    RowOutcome,
    exceptions_bulk,
    exceptions_replay,
)
from exceptions_app.services.fixing import FixResult, exception_fix
from exceptions_app.services.lifecycle import (
    exception_assign,
    exception_comment,
    exception_escalate,
    exception_ignore,
    exception_resolve,
    exception_start,
    exception_unassign,
)
from exceptions_app.services.raising import exception_auto_resolve, exception_raise
from exceptions_app.services.replaying import ReplayRunning, exception_replay
from exceptions_app.services.retention import exceptions_purge_expired
from exceptions_app.services.routing import Routing, routing_for

__all__ = [
    "BULK_ACTIONS",
    "ROW_ERRORS",
    "FixResult",
    "ReplayRunning",
    "Routing",
    "RowOutcome",
    "exception_assign",
    "exception_auto_resolve",
    "exception_comment",
    "exception_escalate",
    "exception_fix",
    "exception_ignore",
    "exception_raise",
    "exception_replay",
    "exception_resolve",
    "exception_start",
    "exception_unassign",
    "exceptions_bulk",
    "exceptions_purge_expired",
    "exceptions_replay",
    "routing_for",
]
