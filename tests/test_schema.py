"""The JSON Schemas shipped in hoirecon/data/schemas/ (draft 2020-12) hold for real outputs:
``params.json`` written by write_outputs (a Reconstruction built as in test_export, and the real
pipeline's outputs of the session's shared ``hoirecon batch`` run), and the rows of the batch's
``summary.json`` / ``summary.csv``."""

from __future__ import annotations

import copy
import csv
import json

import pytest

jsonschema = pytest.importorskip("jsonschema")

from hoirecon.export import write_outputs  # noqa: E402
from hoirecon.export.params import SCHEMA_VERSION  # noqa: E402
from hoirecon.export.schemas import SCHEMAS, coerce_csv_row, load_schema, validate  # noqa: E402

from ._batch_support import real_batch_output, write_small_inputs  # noqa: E402
from .test_export import _recon  # noqa: E402


def _walk_properties(schema, path="#"):
    """Every (path, spec) of a named property, at any depth (properties, $defs, items)."""
    if not isinstance(schema, dict):
        return
    for name, spec in schema.get("properties", {}).items():
        yield f"{path}/{name}", spec
        yield from _walk_properties(spec, f"{path}/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _walk_properties(schema[key], f"{path}/{key}")
    for name, spec in schema.get("$defs", {}).items():
        yield from _walk_properties(spec, f"{path}/$defs/{name}")


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_and_documented(name):
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["description"] and schema["title"]
    from hoirecon.batch import SUMMARY_SCHEMA_VERSION

    assert schema["properties"]["schema_version"]["const"] == (SCHEMA_VERSION if name == "params" else SUMMARY_SCHEMA_VERSION)
    defs = schema.get("$defs", {})

    def described(spec):
        ref = spec.get("$ref", "")
        return bool(spec.get("description") or defs.get(ref.rpartition("/")[2], {}).get("description"))

    undocumented = [p for p, spec in _walk_properties(schema) if not described(spec)]
    assert undocumented == []


@pytest.fixture(scope="module")
def written_params(tmp_path_factory):
    out = []
    for probs in (False, True):
        folder = tmp_path_factory.mktemp("schema") / "out"
        write_outputs(_recon(with_probs=probs), folder)
        out.append(json.loads((folder / "params.json").read_text()))
    return out


def test_params_of_a_written_reconstruction_validate(written_params):
    for p in written_params:
        assert p["schema_version"] == SCHEMA_VERSION
        validate(p, "params")


def test_params_with_gravity_and_floor_validate(tmp_path):
    """A reconstruction with the ground stage's records: params.json carries both, and they validate."""
    from dataclasses import replace

    import numpy as np

    from hoirecon.ground import Floor, gravity_from_up

    recon = _recon()
    up = np.array([0.1, -0.99, 0.05]) / np.linalg.norm([0.1, -0.99, 0.05])
    floor = Floor(normal=up, height_m=-1.2, point=np.array([0.0, 1.2, 3.0]), visible=True, confidence=0.7,
                  supports=({"name": "feet", "seen": True, "gap_m": 0.001, "held": True},))  # fmt: skip
    recon = replace(recon, gravity=gravity_from_up(up, 2.0), fit=replace(recon.fit, floor=floor),
                    config={**recon.config, "object_upright": True})  # fmt: skip
    write_outputs(recon, tmp_path / "out")
    p = json.loads((tmp_path / "out" / "params.json").read_text())
    validate(p, "params")
    assert p["gravity"]["up"] == pytest.approx(list(up), abs=1e-6) and "object_tilt_deg" in p["gravity"]["checks"]
    assert p["floor"]["supports"][0]["name"] == "feet" and p["floor"]["height_m"] == -1.2
    bad = copy.deepcopy(p)
    bad["floor"]["supports"][0]["name"] = "hands"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad, "params")


def test_params_schema_has_teeth(written_params):
    good = written_params[1]
    for breaks in (
        lambda p: p.pop("schema_version"),
        lambda p: p.update(schema_version=SCHEMA_VERSION + 1),
        lambda p: p["object"].update(translation=[0.0, 1.0]),
        lambda p: p["camera"].update(fx=-1.0),
        lambda p: p["contacts"]["human_prob"].__setitem__(0, 1.5),
        lambda p: p["body"].pop("height_m"),
        lambda p: p.update(unexpected=1),
    ):
        bad = copy.deepcopy(good)
        breaks(bad)
        with pytest.raises(jsonschema.ValidationError):
            validate(bad, "params")


def test_summary_rows_of_a_fake_batch_validate(tmp_path):
    from hoirecon import batch as B

    src = tmp_path / "in"
    write_small_inputs(src, good=2)
    out = tmp_path / "out"
    B.run_batch(src, out, pipeline_factory="tests._batch_support:fake_factory", turntable=False, index=False)
    _check_summary(out)
    B.run_batch(src, out, pipeline_factory="tests._batch_support:fake_factory", turntable=False, index=False)
    _check_summary(out, skipped=True)  # rows of images done before


def _check_summary(out, skipped=False):
    s = json.loads((out / "summary.json").read_text())
    statuses = set()
    for row in s["images"]:
        validate(row, "summary")
        statuses.add(row["status"])
    assert ("skipped" in statuses) == skipped and "failed" in statuses
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert len(rows) == len(s["images"])
    for row in rows:
        typed = coerce_csv_row(row)
        validate(typed, "summary")
    with pytest.raises(jsonschema.ValidationError):
        validate(dict(coerce_csv_row(rows[0]), status="done"), "summary")


@pytest.fixture(scope="module")
def real(anny_body):
    out, code, output = real_batch_output()
    assert (out / "camera" / "done").is_file() and (out / "astronaut" / "done").is_file(), output
    return out


def test_real_outputs_validate(real):
    for name in ("camera", "astronaut"):
        p = json.loads((real / name / "params.json").read_text())
        validate(p, "params")
        assert p["contacts"]["source"] == "prior" and len(p["contacts"]["human_prob"]) == p["body"]["num_vertices"]
    _check_summary(real)
