"""I/O-free building blocks: validation, periods, key naming, bit-operation plans, decoding.

Nothing in this package talks to storage; the ``_async`` layer (and its generated ``_sync``
twin) does.
"""
