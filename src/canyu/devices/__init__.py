"""The device registry: identity and tokens, sightings, pushes and telemetry over MQTT."""
