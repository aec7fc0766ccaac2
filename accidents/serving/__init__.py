"""Serving: the typed request schema of the BentoML service and its prediction log."""
