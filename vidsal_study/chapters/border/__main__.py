"""``python -m vidsal_study.chapters.border --profile quick`` (see :mod:`vidsal_study.chapters.border.cli`)."""

import sys

from vidsal_study.chapters.border.cli import main

sys.exit(main())
