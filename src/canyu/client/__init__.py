"""The device client: acts as a phone against the canyu API."""
