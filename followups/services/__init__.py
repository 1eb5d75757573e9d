"""Write services of the loops; import them from here."""

from followups.services.coding import root_cause_create
from followups.services.teams import team_create, team_update

__all__ = ["root_cause_create", "team_create", "team_update"]
