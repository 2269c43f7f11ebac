"""canyu: a device business run with its users as friends."""

__version__ = "0.1.0"
