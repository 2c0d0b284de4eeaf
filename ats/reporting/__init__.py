"""Conformance and certification reports built from the suite's verdicts."""
