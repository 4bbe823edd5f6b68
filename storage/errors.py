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
