"""`python -m seen_core`: the command line."""

import sys

from seen_core.cli import main

sys.exit(main())
