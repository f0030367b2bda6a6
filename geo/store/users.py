"""Who may do what with scenarios: the team's users and their roles.

Roles: ``lecteur`` (reads the scenarios shared with the team), ``editeur`` (creates scenarios, edits
his own and those shared in writing), ``arbitre`` (ARS or CPAM: also sets the « arbitré » and
« validé ARS » statuses, locks and unlocks territories, manages users).

With no user recorded, the store is in single-user mode (« poste local »): everything is allowed,
as before team mode. Once a user exists, every action names a known user and is checked here;
a refused action raises a French ``DataError`` and records nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from geo.errors import DataError

ROLES = ("lecteur", "editeur", "arbitre")
SHARING = ("prive", "lecture", "ecriture")
SHARING_LABELS = {
    "prive": "privé",
    "lecture": "équipe en lecture",
    "ecriture": "équipe en écriture",
}
LOCAL_USER = "poste local"
USER_VAR = "CARTOCPTS_USER"
ARBITRE_STATUSES = ("arbitré", "validé ARS")


def current_user(explicit: str | None = None) -> str:
    """The command line's user: ``--user``, else ``CARTOCPTS_USER``, else « poste local »."""
    return clean_user(explicit or os.environ.get(USER_VAR) or LOCAL_USER)


def clean_user(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise DataError("Le nom d'utilisateur est vide.")
    if len(text) > 120:
        raise DataError("Le nom d'utilisateur dépasse 120 caractères.")
    return text


def check_role(role: str) -> str:
    if role not in ROLES:
        raise DataError(f"Rôle « {role} » inconnu ; rôles possibles : {', '.join(ROLES)}.")
    return role


def check_sharing(level: str) -> str:
    if level not in SHARING:
        raise DataError(
            f"Niveau de partage « {level} » inconnu ; niveaux possibles : {', '.join(SHARING)}."
        )
    return level


@dataclass(frozen=True)
class Actor:
    """The person acting, with the role the store knows (``None`` in single-user mode)."""

    name: str
    role: str | None

    @property
    def team_mode(self) -> bool:
        return self.role is not None

    def can_read(self, owner: str, sharing: str) -> bool:
        return (
            not self.team_mode
            or owner == self.name
            or sharing in ("lecture", "ecriture")
            or self.role == "arbitre"
        )

    def can_write(self, owner: str, sharing: str) -> bool:
        if not self.team_mode:
            return True
        if self.role == "lecteur":
            return False
        return owner == self.name or sharing == "ecriture" or self.role == "arbitre"

    def require_write(self, scenario: str, owner: str, sharing: str) -> None:
        if self.can_write(owner, sharing):
            return
        if self.role == "lecteur":
            raise DataError(
                f"{self.name} a le rôle « lecteur » : il peut consulter « {scenario} » mais pas le "
                "modifier."
            )
        raise DataError(
            f"Le scénario « {scenario} » appartient à {owner} et n'est pas partagé en écriture : "
            f"{self.name} ne peut pas le modifier."
        )

    def require(self, role: str, what: str) -> None:
        """Refuse ``what`` unless the actor has ``role`` (or more) in team mode."""
        if not self.team_mode or ROLES.index(self.role) >= ROLES.index(role):
            return
        raise DataError(
            f"{self.name} a le rôle « {self.role} » : {what} demande le rôle « {role} »."
        )
