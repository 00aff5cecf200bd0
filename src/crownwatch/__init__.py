"""crownwatch: find and explain attacks on an organisation's AI crown jewels."""

__version__ = "0.1.0"
