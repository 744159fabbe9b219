"""Render the report tables with rich."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table as RichTable

from optimizer.backends.base import Status, option_words
from optimizer.interpret import Solution
from optimizer.report.contents import all_tables
from optimizer.report.notices import OptionNamer, word_notices
from optimizer.report.tables import Table, policy_lines, summary

STATUS_STYLE = {
    Status.OPTIMAL: "bold green", Status.FEASIBLE: "bold yellow",
    Status.TIME_LIMIT: "bold yellow", Status.INFEASIBLE: "bold red",
    Status.UNBOUNDED: "bold red", Status.ERROR: "bold red",
}


def to_rich(table: Table) -> RichTable:
    out = RichTable(title=table.title, title_justify="left", title_style="bold",
                    caption=table.caption or None, caption_justify="left", box=box.SIMPLE_HEAD,
                    show_footer=table.footer is not None, pad_edge=False)
    for i, col in enumerate(table.columns):
        out.add_column(col, justify="right" if i in table.numeric else "left",
                       footer=(table.footer[i] if table.footer and i < len(table.footer) else ""),
                       no_wrap=i == 0)
    for row in table.rows:
        out.add_row(*row)
    return out


def render(sol: Solution, console: Console, log_path: str | None = None,
           name: OptionNamer = option_words) -> None:
    """The report on ``console``; ``name``: how the notes name options (the SolveOptions
    names; the CLI passes its flags)."""
    grid = RichTable.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for key, value in summary(sol, log_path):
        style = STATUS_STYLE[sol.status] if key == "status" else ""
        grid.add_row(key, f"[{style}]{value}[/]" if style else value)
    console.print(Panel(grid, title="eastwest", title_align="left", expand=False))
    for table in all_tables(sol):
        console.print(to_rich(table))
    for line in policy_lines(sol):
        console.print(f"[bold]policy:[/] {line}", highlight=False)
    for note in [*word_notices(sol.notices, name), *sol.notes]:
        console.print(f"[dim]note:[/] {note}", highlight=False)
    for warning in sol.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not sol.has_values:
        console.print(Group(f"[bold red]No solution to report:[/] {sol.message}"))
