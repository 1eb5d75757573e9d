"""Pages of the loops for agents, team leads and managers (server-rendered, htmx-enhanced)."""
