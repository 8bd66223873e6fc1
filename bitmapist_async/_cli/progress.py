"""Progress on standard error for the long commands (``import``, ``export``, ``import-store``,
``migrate``).

On a terminal, a bar redrawn in place at most five times a second: done and total, bytes,
rate, ETA and rejected rows. Elsewhere (a pipe, a log file), one plain line per chunk, and only
when asked with ``--progress``; ``--no-progress`` turns both off. :func:`bar_text` is the pure
rendering, tested without a terminal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import IO

__all__ = ("PROGRESS_HELP", "CountProgress", "Progress", "Snapshot", "bar_text", "duration")

PROGRESS_HELP = (
    "progress on standard error: a bar when it is a terminal (the default there), one line per "
    "chunk elsewhere (only with --progress); --no-progress: none"
)
_WIDTH = 24
_REDRAW_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Snapshot:
    """How far a command got: *done* of *total* (``None``: unknown) *unit*, *nbytes* of
    *bytes_total*; the fraction done is taken from bytes when both are known, else from units."""

    done: int
    unit: str
    seconds: float
    total: int | None = None
    nbytes: int | None = None
    bytes_total: int | None = None
    rejected: int = 0

    def fraction(self) -> float | None:
        if self.bytes_total and self.nbytes is not None:
            return min(1.0, self.nbytes / self.bytes_total)
        if self.total:
            return min(1.0, self.done / self.total)
        if self.total == 0:
            return 1.0
        return None


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def bar_text(snap: Snapshot) -> str:
    """One line: ``[#####-----]  42% 1,234/2,938 keys, 1.2 MiB, 3,456 keys/s, ETA 0:05``."""
    parts = []
    fraction = snap.fraction()
    if fraction is not None:
        filled = int(fraction * _WIDTH)
        parts.append(f"[{'#' * filled}{'-' * (_WIDTH - filled)}] {100 * fraction:3.0f}%")
    count = f"{snap.done:,}" + ("" if snap.total is None else f"/{snap.total:,}")
    fields = [f"{count} {snap.unit}"]
    if snap.nbytes is not None:
        fields.append(_size(snap.nbytes))
    rate = snap.done / snap.seconds if snap.seconds > 0 else 0.0
    fields.append(f"{rate:,.0f} {snap.unit}/s")
    if fraction is not None and fraction < 1 and snap.seconds > 0 and fraction > 0:
        fields.append(f"ETA {duration(snap.seconds * (1 - fraction) / fraction)}")
    elif fraction is not None and fraction >= 1:
        fields.append("ETA 0:00")
    if snap.rejected:
        fields.append(f"{snap.rejected:,} rejected")
    parts.append(", ".join(fields))
    return " ".join(parts)


class Progress:
    """Progress on *stream*; *enabled* is the ``--progress`` flag (``None``: not given)."""

    def __init__(self, stream: IO[str], enabled: bool | None) -> None:
        self._stream = stream
        self.tty = stream.isatty()
        self.enabled = self.tty if enabled is None else enabled
        self.began = time.monotonic()
        self._shown_at = 0.0
        self._drawn = False

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def draw(self, snap: Snapshot, *, final: bool = False) -> None:
        """Redraw the bar (a terminal only; at most every 0.2 s unless *final*)."""
        if not (self.enabled and self.tty):
            return
        now = time.monotonic()
        if final or now - self._shown_at >= _REDRAW_SECONDS:
            self._shown_at = now
            self._stream.write("\r\x1b[K" + bar_text(snap))
            self._stream.flush()
            self._drawn = True

    def line(self, text: str) -> None:
        """One line for a chunk written (off a terminal only)."""
        if self.enabled and not self.tty:
            self._stream.write(text + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


class CountProgress:
    """Progress of a copy of *total* keys: call it with the keys and bytes done so far; off a
    terminal, a line every *every* keys and at the end."""

    def __init__(self, progress: Progress, total: int, unit: str = "keys", every: int = 1000):
        self._progress, self._total, self._unit, self._every = progress, total, unit, every

    def __call__(self, done: int, nbytes: int) -> None:
        snap = Snapshot(done, self._unit, self._progress.elapsed(), self._total, nbytes)
        self._progress.draw(snap, final=done >= self._total)
        if done % self._every == 0 or done >= self._total:
            self._progress.line(f"{done:,}/{self._total:,} {self._unit} copied ({_size(nbytes)})")
