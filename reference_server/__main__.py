"""`python -m reference_server`: the same as `interflex-server`."""

import sys

from reference_server.cli import main

sys.exit(main())
