"""Object mesh library: the category table (``catalog``, from ``hoirecon/data/objects.json``), label
resolution (``labels``, with the text-embedding fallback in ``embedding``), the procedural models
(``models``, built from the primitives in ``shapes``) and user meshes, all in the canonical object
frame (see ``hoirecon.objects.library``).

Import order (no circles): ``catalog`` <- ``embedding`` <- ``labels`` <- ``library``;
``shapes`` <- ``models`` <- ``library`` <- ``proxy`` (the mesh of a label no category matches)."""

from hoirecon.objects.catalog import ObjectProperties, categories
from hoirecon.objects.labels import LabelMatch, match_label, resolve_label, resolve_label_verbose, resolve_or_proxy
from hoirecon.objects.library import (OBJECT_SOURCES, build_mesh, load_user_mesh, object_mesh, properties,
                                      read_mesh_file, size_prior, variant_for_label, variant_names)

__all__ = ["categories", "resolve_label", "resolve_label_verbose", "resolve_or_proxy", "LabelMatch", "build_mesh", "load_user_mesh", "match_label",
           "read_mesh_file", "size_prior", "properties", "ObjectProperties", "object_mesh", "OBJECT_SOURCES", "variant_names", "variant_for_label"]
