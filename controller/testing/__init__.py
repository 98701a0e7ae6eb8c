"""Test infrastructure shipped with the controller (API server emulator)."""
