"""``hoirecon objects``: the object categories the library knows, with synonyms and sizes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def objects_cmd() -> None:
    """List the object categories (labels accepted by --object), their synonyms, parts and sizes.

    \b
    Example:
      hoirecon objects
    """
    from hoirecon.objects import categories

    table = Table(show_header=True)
    for col in ("category", "synonyms", "parts", "size (m)"):
        table.add_column(col)
    for name, entry in sorted(categories().items()):
        table.add_row(name, ", ".join(entry.get("synonyms", [])), ", ".join(entry.get("parts", [])), f"{entry['size_m']:.2f}")
    Console().print(table)
