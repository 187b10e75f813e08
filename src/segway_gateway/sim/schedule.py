"""Whether a tick loop keeps its period: how long ticks take and how late they start."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScheduleReport:
    """Ticks since the previous report: their work time and how late each started."""

    ticks: int
    work_p50: float
    work_p99: float
    late_max: float

    def __str__(self) -> str:
        return (
            f"{self.ticks} ticks, work p50 {self.work_p50 * 1000:.1f} ms"
            f" p99 {self.work_p99 * 1000:.1f} ms, start late by at most"
            f" {self.late_max * 1000:.1f} ms"
        )


@dataclass
class ScheduleStats:
    """Collects per-tick figures; `report()` summarises and starts over."""

    work: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)

    def record(self, late: float, work: float) -> None:
        self.late.append(late)
        self.work.append(work)

    def report(self) -> ScheduleReport:
        work, late = sorted(self.work), self.late
        self.work, self.late = [], []
        if not work:
            return ScheduleReport(0, 0.0, 0.0, 0.0)
        return ScheduleReport(
            len(work),
            work[len(work) // 2],
            work[min(len(work) - 1, int(len(work) * 0.99))],
            max(late),
        )
