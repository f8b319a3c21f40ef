"""Write a benchmark's table into a Markdown file between markers, replacing the previous one."""

from __future__ import annotations

from pathlib import Path


def run_note(total_s: float, jobs: int) -> str:
    """``"6.2 min with 2 worker processes on x86_64, 2 cores, CPU, 2026-12-03."``: how long a pool run
    took and on what, for a benchmark's caption."""
    import datetime
    import os
    import platform

    return (f"{total_s / 60:.1f} min with {jobs} worker processes on {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, CPU, {datetime.date.today().isoformat()}.")  # fmt: skip


def update_block(path: Path, name: str, heading: str, block: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``path`` (created
    with a title if missing; the block is appended under ``heading`` the first time)."""
    from hoirecon.fsutil import write_text

    text = path.read_text() if path.exists() else "# Benchmarks\n"
    a, b = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    body = f"{a}\n{block.strip()}\n{b}"
    if a in text and b in text:
        text = text[: text.index(a)] + body + text[text.index(b) + len(b):]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n{body}\n"
    write_text(path, text)
