"""``python -m vidsal_core.analysis.border --profile quick`` (see :mod:`vidsal_core.analysis.border.cli`)."""

import sys

from vidsal_core.analysis.border.cli import main

sys.exit(main())
