"""`python -m sesbot`: the same as the `sesbot` console script."""

import sys

from sesbot.main import main

sys.exit(main())
