"""The demo systems' people: who may sign in to a deep link with HTTP Basic, and what they see.

Each system has a ``staff`` person; HR also has an ``hr-manager``, the one person who sees
compensation (`DemoPerson.sees_compensation`), as in a real HR system where colleagues see
the directory and only HR sees pay. Passwords are drawn fresh by `demo_people` at every
start and never stored: the demo prints them beside its client lines.

    people = People(demo_people("hr"))
    person = people.verify(request.headers.get("authorization", ""))   # DemoPerson or None
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

PERSON_KEY = "demo.person"
"""Where `sign_in.SignInMiddleware` puts the signed-in `DemoPerson` in the ASGI scope."""
STAFF = "staff"
HR_MANAGER = "hr-manager"
# Roles who see pay: a real HR system shows salaries to HR, not to every colleague.
COMPENSATION_ROLES = frozenset({HR_MANAGER})
ROLES_BY_SYSTEM: dict[str, tuple[str, ...]] = {"hr": (HR_MANAGER, STAFF)}
DEFAULT_ROLES = (STAFF,)


@dataclass(frozen=True)
class DemoPerson:
    """A person who signs in to one demo system.

    Attributes:
        user: the sign-in name (also the role: one person per role).
        password: never shown by ``repr``.
        role: ``staff`` or ``hr-manager``.
    """

    user: str
    password: str = field(repr=False)
    role: str = STAFF

    @property
    def sees_compensation(self) -> bool:
        return self.role in COMPENSATION_ROLES

    def line(self, system: str) -> str:
        """What the demo prints so that a person can sign in."""
        sees = " (sees salaries)" if system == "hr" and self.sees_compensation else ""
        return f"demo sign-in {system}: user={self.user} password={self.password}{sees}"


def demo_people(system: str) -> tuple[DemoPerson, ...]:
    """The people of `system` with fresh random passwords."""
    roles = ROLES_BY_SYSTEM.get(system, DEFAULT_ROLES)
    return tuple(DemoPerson(role, secrets.token_urlsafe(12), role) for role in roles)


class People:
    """The people who may sign in, checked in constant time."""

    def __init__(self, people: Iterable[DemoPerson] = ()):
        self._people = tuple(
            (person.user.encode(), person.password.encode(), person) for person in people
        )

    def __bool__(self) -> bool:
        return bool(self._people)

    def verify(self, authorization: str) -> DemoPerson | None:
        """The person an ``Authorization: Basic`` header signs in, or None."""
        given = _basic(authorization)
        if given is None:
            return None
        user, password = given
        found = None
        # Every person is compared, name and password alike (`&`, not `and`), so the time
        # taken tells neither which name exists nor how much of a password was right.
        for known_user, known_password, person in self._people:
            match = hmac.compare_digest(user, known_user) & hmac.compare_digest(
                password, known_password
            )
            if match:
                found = person
        return found


def _basic(header: str) -> tuple[bytes, bytes] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user, password) if sep else None
