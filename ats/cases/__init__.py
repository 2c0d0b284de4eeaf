"""The abstract test cases, one pytest module per area."""
