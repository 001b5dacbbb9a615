"""Domain errors: their messages are Chinese and say what to fix; views show them as they are."""
from contextlib import contextmanager

from django.db import IntegrityError, transaction

DUPLICATE_MESSAGE = "同样的记录刚刚已由他人（或您的另一次提交）保存，本次操作未执行，请刷新后查看。"


class DomainError(Exception):
    """An action that the rules do not allow now; the message tells the user why."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class PermissionDenied(DomainError):
    """The actor holds no role that may take this action on this item."""


class ConflictError(DomainError):
    """Someone else changed the item first (compare-and-set lost); reload and try again."""


class NotFound(DomainError):
    """The item does not exist or the user may not see it."""


@contextmanager
def conflict_on_duplicate(message: str = DUPLICATE_MESSAGE):
    """Run the block in a savepoint and turn a constraint violation (a duplicate request that lost the race to
    insert the same row) into ConflictError: a 409 on the API, the conflict message on the page, never a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ConflictError(message) from exc
