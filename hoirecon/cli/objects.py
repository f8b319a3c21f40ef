"""``hoirecon objects``: the object categories the library knows, with synonyms, parts, interaction modes and sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hoirecon.cli.options import MESH_DIR


def objects_cmd(mesh_dir: Optional[list[Path]] = MESH_DIR) -> None:
    """List the object categories (labels accepted by --object), their synonyms, parts, interaction
    modes (accepted by --interaction; the first is the default) and sizes; with --mesh-dir (or
    HOIRECON_MESH_DIRS) also the meshes found there and the label each answers to.

    \b
    Examples:
      hoirecon objects
      hoirecon objects --mesh-dir ~/meshes
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
    from hoirecon.cli.common import print_notice, user_errors
    from hoirecon.objects import meshdir

    with user_errors():
        dirs = meshdir.mesh_dirs(list(mesh_dir or ()))
    if not dirs:
        return
    files = Table(show_header=True, title="meshes in " + ", ".join(str(d) for d in dirs))
    for col in ("file", "label", "synonyms", "category", "size (m)", "up"):
        files.add_column(col)
    for e in meshdir.scan(dirs, print_notice):
        files.add_row(Text(e.path.name), Text(e.label), Text(", ".join(e.synonyms)), e.category or "(from its label)",
                      "-" if e.size_m is None else f"{e.size_m:.2f}", e.up)  # user strings as plain text
    Console().print(files)
