"""``python -m tools.classroom student|check|grade ...`` (``make student``, ``make grade SUBMISSION=...``)."""

import sys

from tools.classroom import main

sys.exit(main())
