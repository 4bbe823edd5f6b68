"""The few error types, named by how they are handled."""


class LibrarianError(Exception):
    """Base of the errors below; `str(err)` is the one-line reason shown to users."""


class BadInput(LibrarianError):
    """The caller's input is wrong (missing/corrupt/unsupported file, blocked URL): 4xx."""


class TooLarge(BadInput):
    """Input over a configured limit (its `LIBRARIAN_MAX_*` setting is named): 413."""


class NotFound(LibrarianError):
    """No such source, artifact or job (or it belongs to someone else): 404."""


class Forbidden(LibrarianError):
    """Not allowed: licence refusal, missing key, budget exceeded."""


class Retryable(LibrarianError):
    """A transient failure (network, busy service): the job runner retries with backoff."""


class ConfigError(LibrarianError):
    """Settings are malformed or a required credential/model is missing: fail at start."""


class Conflict(LibrarianError):
    """The request clashes with work in progress (e.g. deleting a source a running job uses)."""


class Cancelled(LibrarianError):
    """The job was cancelled by request (raised by `storage.cancel.check` inside long work)."""


def is_transient(exc: BaseException) -> bool:
    """Whether retrying may help: `Retryable`, timeouts, and lost connections to the network,
    Redis or the database (a restarting service). Bad input, bugs and a full disk are not."""
    if isinstance(exc, Retryable | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, LibrarianError):
        return False
    import httpx
    import redis.exceptions
    import sqlalchemy.exc

    if isinstance(exc, httpx.TransportError | redis.exceptions.ConnectionError
                  | redis.exceptions.TimeoutError):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError) and not \
            _sqlite_error(exc)
    return isinstance(exc, OSError) and _lost_connection(exc)


def _sqlite_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return type(orig).__module__.startswith("sqlite3") and "locked" not in str(orig)


def _lost_connection(exc: OSError) -> bool:
    import errno

    return exc.errno in {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED,
                         errno.EPIPE, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH}
