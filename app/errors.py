"""Domain errors: raised by services, shown by screens as a flash and by the API as 4xx JSON."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from app.extensions import db


class CrmError(Exception):
    """A refusal the user can understand. `message` is a (lazy) translated string."""

    status = 400

    def __init__(self, message, field: Optional[str] = None, status: Optional[int] = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return str(self.message)


class NotFound(CrmError):
    status = 404


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit everything done inside, or nothing: a refusal or a crash rolls the whole change back."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
