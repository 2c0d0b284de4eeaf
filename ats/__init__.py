"""The InterFlex abstract test suite (ATS) and its pytest plugin."""
