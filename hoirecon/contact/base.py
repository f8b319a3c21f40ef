"""The interface every contact source implements, and the properties each one declares.

A contact source answers, for one image: where on the body and on the object is the contact? ::

    source(image, detections, body, object_mesh, label) -> Localization

Each source is one class in its own module, listed once in ``hoirecon.contact.sources.CONTACT_SOURCES``
under its ``name``. It declares, as class attributes, what the rest of hoirecon needs to know about it
instead of guessing from the name:

* ``precise``: True when its contacts are the touching regions themselves (per-vertex predictions),
  False when it paints whole body and object parts (the prior); goes to ``ContactSet.precise``;
* ``requires``: the ``ContactStageConfig`` settings it cannot run without, each with the option that
  sets it on the command line (``{"contacts_dir": "--contacts DIR (...)"}``);
* ``uses``: the ``ContactStageConfig`` settings it reads when given (required or not);
* ``needs_cuda``: it runs a model that needs a CUDA GPU (its own environment's, for InteractVLM);
* ``needs_body_model``: its constructor needs the loaded body model.

``from_config(config, body_model)`` builds one from the stage config (settings already checked by
:func:`hoirecon.contact.make_contact_source`); it keeps ``config`` and ``body_model`` as attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hoirecon.contact.config import ContactStageConfig
from hoirecon.contact.records import Localization
from hoirecon.types import BodyFit, Detections, ImageInput, ObjectMesh

__all__ = ["ContactSource"]


class ContactSource:
    """Base class of the contact sources (see the module docstring)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    precise: ClassVar[bool] = True
    requires: ClassVar[dict[str, str]] = {}
    uses: ClassVar[tuple[str, ...]] = ()
    needs_cuda: ClassVar[bool] = False
    needs_body_model: ClassVar[bool] = False

    config: ContactStageConfig = ContactStageConfig()
    body_model: Any = None

    @classmethod
    def from_config(cls, config: ContactStageConfig, body_model: Any = None) -> "ContactSource":
        raise NotImplementedError

    @classmethod
    def properties(cls) -> dict[str, Any]:
        """JSON-ready summary of what the source declares (for help texts and ``doctor``)."""
        return {"name": cls.name, "description": cls.description, "precise": cls.precise,
                "requires": dict(cls.requires), "uses": list(cls.uses), "needs_cuda": cls.needs_cuda,
                "needs_body_model": cls.needs_body_model}  # fmt: skip

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str, mode: str | None = None) -> Localization:  # fmt: skip
        """Localize the contacts. ``mode``: the interaction mode (``contacts.json``) the contacts are
        asked for; a source that reads the contacts from the photo itself (InteractVLM) ignores it."""
        raise NotImplementedError
