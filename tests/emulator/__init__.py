"""Conformance suite of controller.testing.apiserver against the official client and kubectl."""
