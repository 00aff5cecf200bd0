"""``python -m crownwatch.scan PATH... [--format table|json|sarif] [--lake DIR]``."""

import sys

from .cli import main

sys.exit(main())
