"""The bundled InterFlex reference server (Starlette on uvicorn)."""
