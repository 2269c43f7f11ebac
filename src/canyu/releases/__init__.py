"""The weekly release train, changelogs, TUF repositories, staged rollouts, health gates,
and the update service devices check in with."""
