"""pytest plugin of the InterFlex conformance suite (registered via the `pytest11` entry point)."""
