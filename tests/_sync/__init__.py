# This file is generated from tests/_async/__init__.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
