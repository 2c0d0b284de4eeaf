"""`interflex-load`: conformance under load on Locust, every answer judged (issue 13, docs/load.md).

Importing this package imports nothing else: Locust (which monkey-patches the process with gevent)
is imported only by `ats.load.cli.main` and the modules it alone imports (`run`, `users`).
"""
