"""Seasonal greetings: every country's festivals, friends' greetings for them, packs for phones."""
