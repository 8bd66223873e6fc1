# This file is generated from bitmapist_async/_async/__init__.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""The hand-written async I/O layer. ``bitmapist_async/_sync`` is generated from it."""
