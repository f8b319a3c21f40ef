"""Object mesh library: category table, label resolution, procedural and user meshes in the
canonical object frame (see ``hoirecon.objects.library``)."""

from hoirecon.objects.library import (
    build_mesh,
    categories,
    load_user_mesh,
    match_label,
    read_mesh_file,
    resolve_label,
    resolve_label_verbose,
    size_prior,
)

__all__ = ["categories", "resolve_label", "resolve_label_verbose", "build_mesh", "load_user_mesh", "match_label", "read_mesh_file", "size_prior"]
