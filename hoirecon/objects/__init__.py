"""Object mesh library: the category table (``catalog``, from ``hoirecon/data/objects.json``), label
resolution (``labels``, with the text-embedding fallback in ``embedding``), the procedural models
(``models``, built from the primitives in ``shapes``) and user meshes, all in the canonical object
frame (see ``hoirecon.objects.library``).

Import order (no circles): ``catalog`` <- ``embedding`` <- ``labels`` <- ``library``;
``shapes`` <- ``models`` <- ``library``."""

from hoirecon.objects.catalog import ObjectProperties, categories
from hoirecon.objects.labels import match_label, resolve_label, resolve_label_verbose
from hoirecon.objects.library import (OBJECT_SOURCES, build_mesh, load_user_mesh, object_mesh, properties,
                                      read_mesh_file, size_prior)

__all__ = ["categories", "resolve_label", "resolve_label_verbose", "build_mesh", "load_user_mesh", "match_label",
           "read_mesh_file", "size_prior", "properties", "ObjectProperties", "object_mesh", "OBJECT_SOURCES"]
