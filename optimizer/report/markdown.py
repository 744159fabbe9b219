"""Render the report tables as Markdown."""

from __future__ import annotations

from optimizer.backends.base import option_words
from optimizer.interpret import Solution
from optimizer.report.contents import all_tables
from optimizer.report.notices import OptionNamer, word_notices
from optimizer.report.tables import Table, policy_lines, summary


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def table_md(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    if table.caption:
        lines += [f"*{table.caption}*", ""]
    lines.append("| " + " | ".join(_escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if i in table.numeric else "---"
                                for i in range(len(table.columns))) + "|")
    rows = [*table.rows, *([[f"**{c}**" if c else "" for c in table.footer]]
                           if table.footer else [])]
    for row in rows:
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def render(sol: Solution, log_path: str | None = None, images: str = "",
           name: OptionNamer = option_words) -> str:
    """The report as Markdown; ``images`` (Markdown image lines) go after the summary;
    ``name``: how the notes name options (the SolveOptions names; the CLI passes its flags)."""
    parts = [f"# eastwest report: {sol.instance}", ""]
    parts += [f"- **{k}**: {v}" for k, v in summary(sol, log_path)]
    parts.append("")
    if images:
        parts += [images]
    parts += [table_md(t) for t in all_tables(sol)]
    if policy_lines(sol):
        parts += ["## Policy", "", *(f"- {line}" for line in policy_lines(sol)), ""]
    notes = [*word_notices(sol.notices, name), *sol.notes]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    if sol.warnings:
        parts += ["## Warnings", "", *(f"- {w}" for w in sol.warnings), ""]
    if not sol.has_values:
        parts += ["No solution to report: " + sol.message, ""]
    return "\n".join(parts)
