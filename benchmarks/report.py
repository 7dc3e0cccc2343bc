"""What the runner measured per tool, and its views: the markdown table and JSON."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field

EXACT = 1e-12  # |Δstat| at or below this counts as agreeing exactly


@dataclass
class ToolResult:
    """One tool's measurements; times in seconds, memory in KiB (ru_maxrss)."""

    tool: str
    version: str | None = None
    error: str | None = None  # import or evaluation failure in the worker
    stats: list[float] | None = None  # from the warm-up run
    stats_stable: bool = True  # every timed run gave the warm-up's stats
    first_s: float | None = None  # first call in a fresh process: imports + evaluation
    peak_rss_kib: int | None = None  # fresh process after one evaluation
    wall_s: list[float] = field(default_factory=list)  # warm, in-process
    cpu_s: list[float] = field(default_factory=list)
    cli_s: list[float] = field(default_factory=list)  # fresh process, end to end
    cli_rss_kib: list[int] = field(default_factory=list)
    cli_error: str | None = None
    max_diff: float | None = None  # max |Δstats| against the reference tool

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.wall_s) if self.wall_s else None

    @property
    def cli_median_s(self) -> float | None:
        return statistics.median(self.cli_s) if self.cli_s else None

    @property
    def cpu_per_wall(self) -> float | None:
        if not self.wall_s or not self.cpu_s:
            return None
        return statistics.median(c / w for c, w in zip(self.cpu_s, self.wall_s))


def compare_stats(results: list[ToolResult], reference: str) -> None:
    """Set each result's max |Δstats| against the reference tool's stats."""
    ref = next((r.stats for r in results if r.tool == reference and r.stats), None)
    for r in results:
        if ref is not None and r.stats is not None:
            r.max_diff = max(abs(a - b) for a, b in zip(r.stats, ref))


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _ratio(value: float | None, base: float | None) -> str:
    return "—" if value is None or not base else f"{value / base:.1f}×"


def _diff(r: ToolResult, reference: str) -> str:
    if r.max_diff is None:
        return "—"
    if r.tool == reference:
        return "reference"
    if r.max_diff == 0:
        text = "0 (identical)"
    else:
        verdict = "exact" if r.max_diff <= EXACT else "**differs**"
        text = f"{r.max_diff:.1e} ({verdict})"
    return text + ("" if r.stats_stable else ", **unstable across runs**")


def markdown(results: list[ToolResult], header: list[str], reference: str, notes: list[str]) -> str:
    """The header lines, the table and the notes under it, as markdown."""
    base = next((r for r in results if r.tool == "prcore"), None)
    base_in = base.median_s if base else None
    base_cli = base.cli_median_s if base else None
    lines = [*header, ""]
    lines.append(
        "| tool | in-process median (s) | × prcore | CLI median (s) | × prcore "
        f"| peak RSS (GiB) | CPU/wall | max \\|Δstats\\| vs {reference} |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        if r.error:
            lines.append(f"| {r.tool} | error: {r.error} | | | | | | |")
            continue
        cli = f"error: {r.cli_error}" if r.cli_error else _seconds(r.cli_median_s)
        rss = "—" if r.peak_rss_kib is None else f"{r.peak_rss_kib / 2**20:.2f}"
        cpu = "—" if r.cpu_per_wall is None else f"{r.cpu_per_wall:.2f}"
        lines.append(
            f"| {r.tool} | {_seconds(r.median_s)} | {_ratio(r.median_s, base_in)} | {cli} "
            f"| {_ratio(r.cli_median_s, base_cli)} | {rss} | {cpu} | {_diff(r, reference)} |"
        )
    lines.append("")
    lines.extend(f"- {note}" for note in notes)
    return "\n".join(lines) + "\n"


def as_json(results: list[ToolResult], **extra) -> dict:
    """The raw numbers, with the medians spelled out."""
    tools = []
    for r in results:
        row = asdict(r)
        row.update(median_s=r.median_s, cli_median_s=r.cli_median_s, cpu_per_wall=r.cpu_per_wall)
        tools.append(row)
    return {**extra, "tools": tools}
