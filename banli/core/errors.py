"""Domain errors: their messages are Chinese and say what to fix; views show them as they are."""


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
