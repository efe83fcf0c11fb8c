"""The ops screens: the queue, the exception detail, and the actions posted from it."""

from exceptions_app.views.actions import exception_action
from exceptions_app.views.detail import exception_detail
from exceptions_app.views.queue import exception_list

__all__ = ["exception_action", "exception_detail", "exception_list"]
