"""Friends, team roles, web sessions and API tokens."""
