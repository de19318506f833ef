"""Shared pytest wiring: service fixtures live in tests/services.py."""
pytest_plugins = ["tests.services"]
