"""Device registry, check-ins, install reports and pushes over MQTT."""
