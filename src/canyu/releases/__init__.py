"""The weekly release train, changelogs, TUF repositories, staged rollouts and health gates."""
