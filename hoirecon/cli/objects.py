"""``hoirecon objects``: the object categories the library knows, with synonyms, parts, interaction modes and sizes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def objects_cmd() -> None:
    """List the object categories (labels accepted by --object), their synonyms, parts, interaction
    modes (accepted by --interaction; the first is the default) and sizes.

    \b
    Example:
      hoirecon objects
    """
    from hoirecon.contact.priors import category_modes
    from hoirecon.objects import categories

    table = Table(show_header=True)
    for col in ("category", "synonyms", "parts", "interaction modes", "size (m)"):
        table.add_column(col)
    for name, entry in sorted(categories().items()):
        modes = ", ".join(m["name"] for m in category_modes(name))
        table.add_row(name, ", ".join(entry.get("synonyms", [])), ", ".join(entry.get("parts", [])), modes,
                      f"{entry['size_m']:.2f}")
    Console().print(table)
