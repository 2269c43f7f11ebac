"""The page tests' browser fixtures live in tests/browser.py, loaded once for the whole run."""
