"""``python -m bitmapist_async`` runs the console script."""

from __future__ import annotations

import sys

from ._cli import main

sys.exit(main())
