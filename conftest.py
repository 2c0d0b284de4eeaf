"""Repository-level pytest configuration for the project's own tests (`tests/`).

The conformance suite's plugin (`ats.plugin`) is registered through the `pytest11` entry
point; `pytester` lets the tests run pytest inside pytest like a user would.
"""

pytest_plugins = ["pytester"]
