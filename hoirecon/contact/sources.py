"""The table of contact sources, and the contact stage's entry points.

``CONTACT_SOURCES`` maps each source's name to its class (one module per source; the class declares
its own properties: ``precise``, ``requires``, ``uses``, ``needs_cuda``, ``needs_body_model``; see
``hoirecon.contact.base``). Adding a source: write its module with a ``ContactSource`` subclass and add
one entry here; the command line's choices, the config check and the pipeline follow from the table.

Entry points::

    check_contact_config(config)                       # name and required settings, before any model loads
    source = make_contact_source(config, body_model)   # once per run (checks the source's inputs)
    contacts, localization = infer_contacts(source, image, detections, body, mesh, label)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from hoirecon.body.open_pose import open_pose_vertices
from hoirecon.contact.base import ContactSource
from hoirecon.contact.config import ContactStageConfig
from hoirecon.contact.interactvlm_import import InteractVLMImport
from hoirecon.contact.interactvlm_run import InteractVLMRun
from hoirecon.contact.prior_source import PriorSource
from hoirecon.contact.records import Localization
from hoirecon.contact.selection import contacts_from_localization
from hoirecon.errors import InputError
from hoirecon.types import BodyFit, ContactSet, Detections, ImageInput, ObjectMesh

__all__ = ["CONTACT_SOURCES", "check_contact_config", "make_contact_source", "infer_contacts"]

#: name -> source class, in the order the command line lists them (the first is the default)
CONTACT_SOURCES: dict[str, type[ContactSource]] = {
    cls.name: cls for cls in (PriorSource, InteractVLMImport, InteractVLMRun)
}


def check_contact_config(config: ContactStageConfig) -> type[ContactSource]:
    """The class of ``config.source``; InputError for an unknown name or a missing required setting
    (no file is read, no model loaded)."""
    cls = CONTACT_SOURCES.get(config.source)
    if cls is None:
        raise InputError(f"unknown contact source '{config.source}'; use one of {', '.join(CONTACT_SOURCES)}")
    for setting, option in cls.requires.items():
        if not getattr(config, setting):
            raise InputError(f"--contacts-from {cls.name} needs {option}")
    return cls


def make_contact_source(config: ContactStageConfig = ContactStageConfig(), body_model: Any = None) -> ContactSource:
    """The contact source ``config.source``, built from ``config`` (its inputs checked now: the
    contacts folder, the InteractVLM checkout and weights). ``body_model``: the loaded body model
    (required by sources with ``needs_body_model``; with it every source also records the open-pose
    body for the contact pictures)."""
    cls = check_contact_config(config)
    if cls.needs_body_model and body_model is None:
        raise ValueError(f"the {cls.name} contact source needs the body model")
    return cls.from_config(config, body_model)


def _open_pose(body_model: Any, body: BodyFit) -> tuple[np.ndarray | None, np.ndarray | None]:
    if body_model is None:
        return None, None
    faces = np.asarray(body_model.faces, np.int64)
    verts = open_pose_vertices(body_model)
    if len(verts) != len(body.vertices):
        return None, None
    return verts, faces


def infer_contacts(source: ContactSource, image: ImageInput, detections: Detections, body: BodyFit, mesh: ObjectMesh,
                   label: str | None = None, config: ContactStageConfig | None = None, mode: str | None = None
                   ) -> tuple[ContactSet, Localization]:  # fmt: skip
    """source -> lift -> ContactSet, for one image. ``label``: the object's label (default the
    detection's, else the mesh's category); ``config``: the stage config whose ``rll`` settings the
    lift and selection use (default the one the source was made from); ``mode``: the interaction mode
    whose contacts are asked for (default: the category's first; see ``ContactSource.__call__``).

    Returns the contacts and the source's Localization with ``open_pose_vertices`` /
    ``open_pose_faces`` (when the source has the body model) and ``human_contact`` /
    ``object_contact`` filled in: everything the contact pictures need."""
    cfg = config if config is not None else (getattr(source, "config", None) or ContactStageConfig())
    loc = source(image, detections, body, mesh, label or detections.object.label or mesh.category, mode=mode)
    contacts = contacts_from_localization(loc, body, mesh, cfg.rll, mode=mode)
    verts, faces = _open_pose(getattr(source, "body_model", None), body)
    loc = dataclasses.replace(loc, open_pose_vertices=verts, open_pose_faces=faces,
                              human_contact=contacts.human_prob, object_contact=contacts.object_prob)  # fmt: skip
    return contacts, loc
