"""Errors the services raise; the thin layers turn them into messages and status codes."""


class NotFound(Exception):
    """Missing, or outside the caller's scope: both answer the same."""


class ValidationError(Exception):
    """Bad input. The message is shown to the user as it is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Conflict(Exception):
    """The request clashes with existing data (a duplicate, a stale version); `field` names the input, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
