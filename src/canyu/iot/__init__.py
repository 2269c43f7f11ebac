"""Small devices (IoT): pairing to an owner, per-device broker credentials, telemetry, commands."""
