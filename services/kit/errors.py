"""The two kinds of failure the kit tells apart: ones that retrying can fix, and ones it cannot.

A DomainError keeps its detail in `args` (message, info) so that it crosses RPC intact: the
gateway turns it into problem details with the field errors.
"""


class DomainError(Exception):
    """A rule refused the command. Never retried; an event that hits one is dead-lettered."""

    status = 409

    def __init__(self, message: str, info: dict | None = None, **details):
        info = {**(info or {}), **{k: v for k, v in details.items() if v is not None}}
        super().__init__(message, info)
        self.message = message
        self.info = info

    @property
    def errors(self) -> dict:
        """Field name -> reasons, for problem details."""
        return self.info.get("errors", {})

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    status = 404


class InvalidInput(DomainError):
    """Input that fails validation: `InvalidInput("…", errors={field: [reason, …]})`."""

    status = 422


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class Rebuilding(DomainError):
    """Asked while the read models are rebuilt from the events (`peixun replay`): ask again
    when the rebuild is done."""

    status = 503


class Unavailable(DomainError):
    """A service the answer depends on did not answer in time: nothing changed; ask again."""

    status = 503


class Tampered(DomainError):
    """Stored bytes (a report file, a filed version) no longer match the sha256 kept for them."""

    status = 500


class RetryLater(Exception):
    """Not yet possible (a reference not seen yet, a dependency away): try the event again later."""
