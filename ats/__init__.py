"""The InterFlex abstract test suite (ATS) and its pytest plugin.

PYTEST_DONT_REWRITE: `interflex-ats` imports this package before pytest starts; it holds no asserts.
"""
