"""`python -m seen_core`: the command line."""

import os
import sys

from seen_core.cli import main

code = main()
if len(sys.argv) > 1 and sys.argv[1] in ("inspect", "validate"):
    # These only read and print. Tearing the interpreter down would free a 100k-row sheet's
    # million small objects one by one (0.2 s, an eighth of a validate) for memory the OS takes
    # back anyway; so flush what was printed and leave at once. `send` and `sandbox` exit
    # normally, so the journal and the server close as they should.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: nothing more can be said
        pass
    os._exit(code)
sys.exit(code)
