"""The hand-written async I/O layer. ``bitmapist_async/_sync`` is generated from it."""
