"""Calendar quarters, the periods of a quarterly business review. Pure, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

_LABEL = re.compile(r"(\d{4})-Q([1-4])")


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, label: str) -> Quarter:
        """``2026-Q3`` as a quarter; ValueError for anything else."""
        match = _LABEL.fullmatch(label.strip())
        if match is None:
            raise ValueError(f"a quarter reads like 2026-Q3, not {label!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    def previous(self) -> Quarter:
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)

    def next(self) -> Quarter:
        return Quarter(self.year, self.number + 1) if self.number < 4 else Quarter(self.year + 1, 1)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The quarter's first instant and the next quarter's, at midnight in ``tz``."""
        return (
            datetime.combine(self.first_day, time.min, tzinfo=tz),
            datetime.combine(self.next().first_day, time.min, tzinfo=tz),
        )


def recent_quarters(today: date, count: int) -> list[Quarter]:
    """The quarter of ``today`` and the ``count - 1`` before it, newest first."""
    quarters = [Quarter.containing(today)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters
