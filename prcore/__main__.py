"""``python -m prcore`` runs the command line."""

import sys

from prcore.cli import main

sys.exit(main())
