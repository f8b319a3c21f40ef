"""Contact source ``interactvlm-import``: per-vertex probabilities straight from a folder of
InteractVLM demo outputs (``ContactStageConfig.contacts_dir``; file rules in
``hoirecon.contact.interactvlm``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hoirecon.contact.base import ContactSource
from hoirecon.contact.config import ContactStageConfig
from hoirecon.contact.interactvlm import import_contacts
from hoirecon.contact.records import Localization
from hoirecon.errors import InputError
from hoirecon.types import BodyFit, Detections, ImageInput, ObjectMesh

__all__ = ["InteractVLMImport"]


class InteractVLMImport(ContactSource):
    """``interactvlm-import``: reads ``<contacts_dir>/**/*_hcontact_vertices.npz`` and
    ``*_oafford_vertices.npz`` (the image's, by stem, when there are several)."""

    name = "interactvlm-import"
    description = "InteractVLM's per-vertex contacts, read from a folder of its demo outputs"
    precise = True
    requires = {"contacts_dir": "--contacts DIR (InteractVLM demo outputs)"}
    uses = ("contacts_dir", "rll")
    needs_cuda = False
    needs_body_model = False

    def __init__(self, directory: str | os.PathLike[str], body_model: Any = None) -> None:
        self.directory = Path(directory).expanduser()
        if not self.directory.is_dir():
            raise InputError(f"--contacts {directory}: no such folder")
        self.body_model = body_model
        self.config = ContactStageConfig(source=self.name, contacts_dir=str(directory))

    @classmethod
    def from_config(cls, config: ContactStageConfig, body_model: Any = None) -> "InteractVLMImport":
        src = cls(config.contacts_dir, body_model)
        src.config = config
        return src

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str, mode: str | None = None) -> Localization:  # fmt: skip
        hp, op, files = import_contacts(self.directory, body, object_mesh, stem=Path(image.path).stem)
        return Localization(source=self.name, human_prob=hp, object_prob=op, details={"files": files},
                            precise=self.precise)  # fmt: skip
