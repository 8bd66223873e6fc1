"""No test builds a key (or any text compared with one) from a date by hand.

bitmapist keys are unpadded (``trackist_e_2026-12-1``) while ``%m``/``%d`` pad: a test that
formats today's date itself passes only when month and day are both >= 10. Tests take keys from
the library (``bm.DayEvents(name).redis_key``, :class:`KeyScheme`) or mark with an explicit
``now=``. A line that formats a date for something other than a key says so with the marker
below.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MARKER = "# date text, not a key"

#: ``{expr:%Y...}`` in an f-string, ``strftime("%...")``, ``format(x, "%...")``.
_HAND_MADE = re.compile(r"""\{[^{}]*:%[A-Za-z]|strftime\(|format\([^)]*["']%[A-Za-z]""")


def offending_lines(text: str) -> list[str]:
    return [
        line.strip() for line in text.splitlines() if _HAND_MADE.search(line) and MARKER not in line
    ]


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        # (the bad sample is assembled, so that this file does not hold the shape it forbids)
        ('day = f"trackist_e_{datetime.now(timezone.utc)' + ':%Y-%m-%d}"', True),
        ('key = "trackist_e_" + now.strftime("%Y-%m")', True),
        ('key = format(now, "%Y-%m-%d")', True),
        ('day = bm.DayEvents("e").redis_key', False),
        ('when = datetime.strptime(text, "%Y-%m-%d")', False),
        (f'cell = row[0].strftime("%Y-%m-%d")  {MARKER}', False),
    ],
)
def test_the_guard_tells_hand_made_dates(line: str, bad: bool) -> None:
    assert bool(offending_lines(line)) is bad


def test_no_test_formats_a_date_by_hand() -> None:
    found = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve() and (lines := offending_lines(path.read_text()))
    }
    assert found == {}, "take keys from the library or mark with now= (see this module)"
