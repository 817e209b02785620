"""Domain errors: what went wrong in words a user understands. Views turn them into messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Seconds a client is told to wait (Retry-After) when the database cannot be reached.
DATABASE_RETRY_AFTER = 30
DATABASE_UNAVAILABLE = _l("The database cannot be reached at the moment; please try again shortly.")
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o")


def database_unavailable(exc) -> bool:
    """Whether a driver's OperationalError (``exc``, as SQLAlchemy wraps it) means the database is down,
    restarting, unreachable or busy, so that the same request may succeed later. PostgreSQL's driver
    raises it for those only; SQLite's also for a missing table or column, which is the portal's fault."""
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(words in str(exc.orig).lower() for words in _SQLITE_UNAVAILABLE)
    return True


class DomainError(Exception):
    """Base of every refusal a user should read. ``message`` is translatable text."""

    status_code = 400
    message = _l("The action could not be done.")

    def __init__(self, message=None, **params):
        self.params = params
        if message is not None:
            self.message = message
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class ValidationFailed(DomainError):
    """Input breaks a rule the form alone cannot check; ``field`` names the field if any."""

    def __init__(self, message, field: str | None = None, **params):
        self.field = field
        super().__init__(message, **params)


class CaseNotFoundError(DomainError):
    status_code = 404
    message = _l("No case with that code was found.")


class CaseForbiddenError(DomainError):
    status_code = 403
    message = _l("You are not allowed to see or act on this case.")


class TaskNotYoursError(DomainError):
    status_code = 403
    message = _l("This step is not assigned to you or your unit.")


class TaskAlreadyDoneError(DomainError):
    status_code = 409
    message = _l("This step has already been completed by %(who)s at %(when)s; nothing was changed.")


class ClaimedByOtherError(DomainError):
    status_code = 409
    message = _l("%(who)s has claimed this step; only they (or your unit leader, by reassigning it) can act on it.")


class StepNotOpenError(DomainError):
    status_code = 409
    message = _l("This step is no longer open in the case's process; nothing was changed. Reload the case.")


class StaleCaseError(DomainError):
    status_code = 409
    message = _l("Someone else updated this case at the same moment; nothing was saved. "
                 "Reload the case and try again.")


class ProcessNotPublishedError(DomainError):
    status_code = 503
    message = _l("No published mediation process is available; an administrator must publish one.")


class ScriptsNotAllowedError(DomainError):
    status_code = 403
    message = _l("You do not hold the right to allow scripts in a diagram; nothing was published.")


def choice(enum_cls, value, field: str):
    """``value`` as a member of ``enum_cls``, or a ValidationFailed naming the field."""
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationFailed(_l("Choose a valid value."), field=field) from None


def required_text(value, field: str) -> str:
    """``value`` stripped, or a ValidationFailed naming the field when it is empty."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(_l("This field is required."), field=field)
    return text
