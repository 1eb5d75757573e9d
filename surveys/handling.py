"""Who handled the ticket a response answers: the help desk names them on the invitation.

A response's team and agent are those of its ticket (``Invitation.team``, a team slug, and
``Invitation.agent``, a username), reached through the invitation it answers; a response that
answers none has neither. Praise, the dashboard's segments and filters, the rollup and the theme
filters all read them through these lookups.
"""

HANDLING_TEAM = "invitation__team"
HANDLING_AGENT = "invitation__agent"
