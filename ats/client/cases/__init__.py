"""The client test cases IFX-CL-<CLASS>-NNN of `ats/catalog.yaml` (section `client_cases`)."""
