"""Conformance suite of apiserver_emulator against the official client and kubectl."""
