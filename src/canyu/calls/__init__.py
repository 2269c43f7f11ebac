"""Spam-call interception: marks, reputation, private lookups, offline packs, appeals, SMS."""
