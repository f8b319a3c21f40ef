"""The JSON Schemas of hoirecon's JSON outputs, shipped in ``hoirecon/data/schemas/`` (draft 2020-12):

* ``params.schema.json``: one reconstruction's ``params.json`` (:func:`hoirecon.export.params.build_params`);
* ``summary.schema.json``: one row of a batch's ``summary.csv`` / an entry of ``summary.json``'s
  ``images`` (:data:`hoirecon.batch.SUMMARY_FIELDS`).

Each schema's ``properties.schema_version.const`` is the version it describes (``"MAJOR.MINOR"``;
:data:`hoirecon.export.params.SCHEMA_VERSION` for params). :func:`validate` checks a document with the
``jsonschema`` package (a test dependency; imported only when called).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["SCHEMAS", "load_schema", "validate", "coerce_csv_row"]

SCHEMAS = ("params", "summary")


@lru_cache(maxsize=None)
def _text(name: str) -> str:
    if name not in SCHEMAS:
        raise ValueError(f"unknown schema '{name}' (one of {', '.join(SCHEMAS)})")
    return resources.files("hoirecon.data").joinpath("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The parsed ``<name>.schema.json`` (a fresh copy)."""
    return json.loads(_text(name))


def validate(document: Any, name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` conforms to schema ``name``
    (formats not checked; the schema itself is checked against the draft 2020-12 metaschema)."""
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    error = jsonschema.exceptions.best_match(cls(schema).iter_errors(document))
    if error is not None:
        raise error


def coerce_csv_row(row: dict[str, str], name: str = "summary") -> dict[str, Any]:
    """A ``csv.DictReader`` row as the typed row schema ``name`` describes: an empty cell -> None; a
    cell whose property allows an integer or a number (and not a string) -> int or float (an integer
    property with a non-integral value, or a non-number, is left as the string, so validation reports
    it); anything else stays a string."""
    schema = load_schema(name)
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    out: dict[str, Any] = {}
    for key, cell in row.items():
        if cell is None or cell == "":
            out[key] = None
            continue
        spec = props.get(key, {})
        if "$ref" in spec:  # "#/$defs/<name>"
            spec = {**defs.get(spec["$ref"].rpartition("/")[2], {}), **spec}
        types = spec.get("type", [])
        types = [types] if isinstance(types, str) else list(types)
        if "const" in spec and not isinstance(spec["const"], str):
            types.append(type(spec["const"]).__name__.replace("int", "integer").replace("float", "number"))
        value: Any = cell
        if "string" not in types:
            try:
                if "integer" in types and "number" not in types:
                    value = int(cell)
                elif "number" in types or "integer" in types:
                    f = float(cell)
                    value = int(f) if "integer" in types and f.is_integer() and "." not in cell else f
            except ValueError:
                value = cell
        out[key] = value
    return out
