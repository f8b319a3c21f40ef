"""``hoirecon objects``: the object categories the library knows, with synonyms, parts, interaction modes and sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hoirecon.cli.options import JSON_OUT, MESH_DIR


def objects_cmd(mesh_dir: Optional[list[Path]] = MESH_DIR, json_out: bool = JSON_OUT) -> None:
    """List the object categories (labels accepted by --object), their synonyms, parts, interaction
    modes (accepted by --interaction; the first is the default), makes (other library meshes of the
    category, chosen from the photo unless the label names one: "office chair") and sizes; with --mesh-dir (or
    HOIRECON_MESH_DIRS) also the meshes found there and the label each answers to.

    \b
    Examples:
      hoirecon objects
      hoirecon objects --mesh-dir ~/meshes
      hoirecon objects --json
    """
    from hoirecon.cli.common import print_json, print_notice, user_errors
    from hoirecon.contact.priors import category_modes
    from hoirecon.objects import categories, meshdir

    if json_out:
        with user_errors():
            dirs = meshdir.mesh_dirs(list(mesh_dir or ()))
        cats = []
        for name, entry in sorted(categories().items()):
            cats.append({"category": name, "synonyms": list(entry.get("synonyms", [])), "parts": list(entry.get("parts", [])),
                         "modes": [{"name": m["name"], "about": m.get("about", "")} for m in category_modes(name)],
                         "makes": [{"name": v["name"], "about": v["about"], "synonyms": v["synonyms"], "size_m": v["size_m"]}
                                   for v in entry.get("variants", [])],
                         "size_m": entry["size_m"], "size_source": entry.get("size_source")})  # fmt: skip
        meshes = [{"file": str(e.path), "label": e.label, "synonyms": list(e.synonyms), "category": e.category,
                   "size_m": e.size_m, "up": e.up, "parts": e.parts} for e in meshdir.scan(dirs, print_notice)]  # fmt: skip
        print_json({"categories": cats, "meshes": meshes})
        return
    table = Table(show_header=True)
    for col in ("category", "synonyms", "parts", "interaction modes", "size (m)"):
        table.add_column(col)
    makes = Table(show_header=True, title="makes (other library meshes of a category: the label names one, else the photo chooses)")
    for col in ("category", "make", "labels that name it", "size (m)"):
        makes.add_column(col)
    for name, entry in sorted(categories().items()):
        modes = ", ".join(m["name"] for m in category_modes(name))
        table.add_row(name, ", ".join(entry.get("synonyms", [])), ", ".join(entry.get("parts", [])), modes,
                      f"{entry['size_m']:.2f}")
        for v in entry.get("variants", []):
            makes.add_row(name, v["name"], ", ".join(v["synonyms"]), f"{v['size_m']:.2f}")
    Console().print(table)
    if makes.row_count:
        Console().print(makes)
    with user_errors():
        dirs = meshdir.mesh_dirs(list(mesh_dir or ()))
    if not dirs:
        return
    files = Table(show_header=True, title="meshes in " + ", ".join(str(d) for d in dirs))
    for col in ("file", "label", "synonyms", "category", "size (m)", "up", "parts"):
        files.add_column(col)
    for e in meshdir.scan(dirs, print_notice):
        parts = ("every group" if e.parts == "groups" else ", ".join(e.parts) if isinstance(e.parts, dict)
                 else "(from its category or geometry)")  # fmt: skip
        files.add_row(Text(e.path.name), Text(e.label), Text(", ".join(e.synonyms)), e.category or "(from its label)",
                      "-" if e.size_m is None else f"{e.size_m:.2f}", e.up, Text(parts))  # user strings as plain text
    Console().print(files)
