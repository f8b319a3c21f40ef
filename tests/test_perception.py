"""Input loading (hoirecon.photo) and perception (MediaPipe person, GrabCut object)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hoirecon.errors import InputError, NoPersonError
from hoirecon.photo import (
    DEFAULT_FOV_DEG,
    Sidecar,
    intrinsics_from_fov,
    load_image,
    load_mask,
    parse_box,
    read_sidecar,
)
from hoirecon.types import Box, ImageInput

# ------------------------------------------------------------------------------------------ load_image


def _gradient(w: int = 64, h: int = 48) -> np.ndarray:
    x = np.linspace(0, 255, w)[None, :, None]
    y = np.linspace(0, 255, h)[:, None, None]
    return np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)), np.full((h, w, 1), 80)], 2).astype(np.uint8)


def test_load_rgb_png_and_default_intrinsics(tmp_path: Path) -> None:
    p = tmp_path / "rgb.png"
    Image.fromarray(_gradient(64, 48)).save(p)
    im = load_image(p)
    assert im.rgb.shape == (48, 64, 3) and im.rgb.dtype == np.uint8
    assert im.path == p
    cam = im.camera
    assert cam.source == "default_fov"
    assert (cam.cx, cam.cy) == (32.0, 24.0) and cam.fx == cam.fy
    assert cam.fx == pytest.approx(0.5 * 64 / math.tan(math.radians(DEFAULT_FOV_DEG) / 2))
    # the field of view along the longer side is the default
    assert math.degrees(2 * math.atan(0.5 * 64 / cam.fx)) == pytest.approx(55.0)


def test_default_fov_math() -> None:
    cam = intrinsics_from_fov(4000, 3000, 90.0)
    assert cam.fx == pytest.approx(2000.0) and cam.fy == pytest.approx(2000.0)
    cam = intrinsics_from_fov(3000, 4000, 55.0)  # portrait: longer side is the height
    assert cam.fx == pytest.approx(2000.0 / math.tan(math.radians(27.5)))
    assert (cam.cx, cam.cy, cam.width, cam.height) == (1500.0, 2000.0, 3000, 4000)


def test_user_focal_and_fov(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    Image.fromarray(_gradient()).save(p)
    assert load_image(p, focal_px=1234.5).camera.fx == 1234.5
    assert load_image(p, focal_px=1234.5).camera.source == "user"
    assert load_image(p, fov_deg=90.0).camera.fx == pytest.approx(32.0)
    with pytest.raises(InputError):
        load_image(p, focal_px=-3.0)


def test_load_grayscale(tmp_path: Path) -> None:
    p = tmp_path / "gray.png"
    g = np.tile(np.arange(64, dtype=np.uint8)[None] * 4, (40, 1))
    Image.fromarray(g, mode="L").save(p)
    im = load_image(p)
    assert im.rgb.shape == (40, 64, 3)
    assert np.array_equal(im.rgb[..., 0], g) and np.array_equal(im.rgb[..., 2], g)


def test_load_rgba_composited_on_white(tmp_path: Path) -> None:
    p = tmp_path / "rgba.png"
    a = np.zeros((40, 50, 4), np.uint8)
    a[..., 0] = 200
    a[:, :25, 3] = 255  # left half opaque red-ish, right half transparent
    Image.fromarray(a, mode="RGBA").save(p)
    im = load_image(p)
    assert im.rgb.shape == (40, 50, 3)
    assert tuple(im.rgb[5, 5]) == (200, 0, 0)
    assert tuple(im.rgb[5, 45]) == (255, 255, 255)


def test_load_16bit_png(tmp_path: Path) -> None:
    p = tmp_path / "deep.png"
    g = (np.tile(np.linspace(0, 65535, 64)[None], (40, 1))).astype(np.uint16)
    Image.fromarray(g).save(p)
    with Image.open(p) as chk:
        assert chk.mode.startswith("I")  # really a 16-bit file
    im = load_image(p)
    assert im.rgb.dtype == np.uint8 and im.rgb.shape == (40, 64, 3)
    assert im.rgb[0, 0, 0] == 0 and im.rgb[0, -1, 0] == 255
    assert 100 < im.rgb[0, 32, 0] < 155  # rescaled, not clipped


def test_load_cmyk_and_palette(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(_gradient()).convert("CMYK").save(p)
    assert load_image(p).rgb.shape == (48, 64, 3)
    p = tmp_path / "pal.gif"
    Image.fromarray(_gradient()).convert("P").save(p)
    assert load_image(p).rgb.shape == (48, 64, 3)


def test_exif_orientation_applied(tmp_path: Path) -> None:
    p = tmp_path / "rot.jpg"
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, :40] = (255, 0, 0)  # left half red, right half blue as stored
    a[:, 40:] = (0, 0, 255)
    img = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW for display
    img.save(p, exif=exif, quality=95)
    im = load_image(p)
    assert im.rgb.shape == (80, 40, 3)  # portrait after orientation
    assert im.camera.width == 40 and im.camera.height == 80
    # stored left (red) ends up on top after a 90-degree clockwise rotation
    assert im.rgb[10, 20, 0] > 200 and im.rgb[70, 20, 2] > 200


def test_exif_focal_35mm(tmp_path: Path) -> None:
    p = tmp_path / "f35.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 28  # FocalLengthIn35mmFilm
    Image.fromarray(_gradient(120, 90)).save(p, exif=exif)
    cam = load_image(p).camera
    assert cam.source == "exif"
    assert cam.fx == pytest.approx(28 / 36 * 120) and cam.fy == cam.fx
    # the user's focal length wins over EXIF
    assert load_image(p, focal_px=500.0).camera.source == "user"


def test_exif_focal_plane_resolution(tmp_path: Path) -> None:
    p = tmp_path / "fmm.jpg"
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x920A] = 4.0  # FocalLength mm
    ifd[0xA20E] = 200.0  # FocalPlaneXResolution, pixels per unit
    ifd[0xA210] = 4  # unit: mm
    Image.fromarray(_gradient(120, 90)).save(p, exif=exif)
    cam = load_image(p).camera
    assert cam.source == "exif" and cam.fx == pytest.approx(800.0)


def test_exif_insane_focal_ignored(tmp_path: Path) -> None:
    p = tmp_path / "bad.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 1  # 1 mm "35 mm equivalent": > 150 degrees, ignored
    Image.fromarray(_gradient(120, 90)).save(p, exif=exif)
    assert load_image(p).camera.source == "default_fov"


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    with pytest.raises(InputError, match="nope.jpg.*not found"):
        load_image(missing)

    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"this is not an image at all")
    with pytest.raises(InputError, match="corrupt.jpg"):
        load_image(corrupt)

    truncated = tmp_path / "trunc.png"
    Image.fromarray(_gradient(200, 200)).save(truncated)
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="trunc.png.*(corrupt|truncated)"):
        load_image(truncated)

    tiny = tmp_path / "tiny.png"
    Image.fromarray(_gradient(20, 100)).save(tiny)
    with pytest.raises(InputError, match="tiny.png.*too small"):
        load_image(tiny)

    with pytest.raises(InputError, match="is a folder"):
        load_image(tmp_path)


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hoirecon.photo as hio

    p = tmp_path / "big.png"
    Image.fromarray(_gradient(100, 100)).save(p)
    monkeypatch.setattr(hio, "MAX_MEGAPIXELS", 0.005)  # 5000 px: cheap stand-in for 40 MP
    with pytest.raises(InputError, match="big.png.*too large.*megapixels"):
        hio.load_image(p)


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "c.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(InputError) as ei:
        load_image(corrupt)
    assert "\n" not in str(ei.value)


# --------------------------------------------------------------------------------------------- sidecar


def test_sidecar_both_names(tmp_path: Path) -> None:
    img = tmp_path / "photo.jpg"
    img.write_bytes(b"")
    assert read_sidecar(img) is None

    (tmp_path / "photo.json").write_text(json.dumps({"object": "chair", "object_box": [1, 2, 30, 40]}))
    sc = read_sidecar(img)
    assert isinstance(sc, Sidecar)
    assert sc.path == tmp_path / "photo.json"
    assert sc.object == "chair" and sc.object_box == (1.0, 2.0, 30.0, 40.0)
    assert sc.focal_px is None and sc.person_box is None

    # <image>.json takes precedence over <stem>.json
    full = {"object": "bicycle", "object_box": [0, 0, 10, 10], "focal_px": 1200.0, "person_box": [5, 5, 50.5, 60]}
    (tmp_path / "photo.jpg.json").write_text(json.dumps(full))
    sc = read_sidecar(img)
    assert sc is not None and sc.path == tmp_path / "photo.jpg.json"
    assert sc.object == "bicycle" and sc.focal_px == 1200.0 and sc.person_box == (5.0, 5.0, 50.5, 60.0)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2, 3]",
        json.dumps({"object": 3}),
        json.dumps({"object_box": [1, 2, 3]}),
        json.dumps({"object_box": "1,2,3,4"}),
        json.dumps({"object_box": [10, 2, 3, 40]}),
        json.dumps({"focal_px": -5}),
        json.dumps({"focal_px": "big"}),
        json.dumps({"person_box": [0, 0, True, 5]}),
        json.dumps({"objekt": "chair"}),
    ],
)
def test_sidecar_malformed(tmp_path: Path, content: str) -> None:
    img = tmp_path / "pic.png"
    side = tmp_path / "pic.png.json"
    side.write_text(content)
    with pytest.raises(InputError, match="pic.png.json"):
        read_sidecar(img)


# ------------------------------------------------------------------------------------------- parse_box


def test_parse_box_ok_and_clipped() -> None:
    assert parse_box("10,20,30,40", 100, 80) == Box(10, 20, 30, 40)
    assert parse_box(" 10, 20 ,30.5, 40 ", 100, 80) == Box(10, 20, 30.5, 40)
    assert parse_box([10, 20, 30, 40], 100, 80) == Box(10, 20, 30, 40)
    assert parse_box((-1.5, -0.5, 101, 50), 100, 80) == Box(0, 0, 100, 50)  # within 2 px: clipped
    assert parse_box((0, 0, 1010, 50), 1000, 80) == Box(0, 0, 1000, 50)  # within 1 % of the side
    with pytest.raises(InputError, match="leaves the 100x80 image"):
        parse_box((-10, -5, 300, 50), 100, 80)  # coordinates of another image: an error, not a silent clip


@pytest.mark.parametrize(
    "value",
    ["1,2,3", "a,b,c,d", "1,2,3,4,5", [1, 2, 3], "30,20,10,40", "10,40,30,20", "10,10,10,20",
     "200,10,300,40", "-50,-50,-10,-10", "10,10,12,40", [1, 2, float("nan"), 4], ""],
)
def test_parse_box_errors(value: object) -> None:
    with pytest.raises(InputError, match="--object-box"):
        parse_box(value, 100, 80)  # type: ignore[arg-type]


def test_parse_box_names_option() -> None:
    with pytest.raises(InputError, match="--person-box"):
        parse_box("1,2", 100, 80, what="--person-box")


# ------------------------------------------------------------------------------------------- load_mask


def test_load_mask(tmp_path: Path) -> None:
    m = np.zeros((40, 60), np.uint8)
    m[10:20, 5:25] = 255
    p = tmp_path / "m.png"
    Image.fromarray(m).save(p)
    got = load_mask(p, 60, 40)
    assert got.dtype == bool and got.shape == (40, 60) and got.sum() == 200

    with pytest.raises(InputError, match=r"m.png.*60x40.*61x40"):
        load_mask(p, 61, 40)

    empty = tmp_path / "empty.png"
    Image.fromarray(np.zeros((40, 60), np.uint8)).save(empty)
    with pytest.raises(InputError, match="empty.png.*empty"):
        load_mask(empty, 60, 40)

    with pytest.raises(InputError, match="missing.png"):
        load_mask(tmp_path / "missing.png", 60, 40)


# ---------------------------------------------------------------------------------------- perception


def _image(rgb: np.ndarray, name: str = "mem.png") -> ImageInput:
    h, w = rgb.shape[:2]
    return ImageInput(Path(name), np.ascontiguousarray(rgb), intrinsics_from_fov(w, h))


@pytest.fixture(scope="module")
def astronaut_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("astro") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(p)
    return p


def test_detect_person_astronaut(astronaut_path: Path) -> None:
    from hoirecon.perception import detect_person

    im = load_image(astronaut_path)
    det = detect_person(im)
    assert det.backend == "mediapipe-pose"
    assert det.keypoints.shape == (33, 2) and det.keypoints.dtype == np.float32
    assert det.visibility.shape == (33,) and det.world_keypoints.shape == (33, 3)
    assert det.mask.shape == (512, 512) and det.mask.dtype == bool
    b = det.box
    assert b.x0 <= 180 and b.x1 >= 280 and b.y0 <= 60 and b.y1 >= 200  # contains the face
    assert b.x0 >= 0 and b.y0 >= 0 and b.x1 <= 512 and b.y1 <= 512
    assert 0.2 < det.mask.mean() < 0.7
    nose = det.keypoints[0]
    assert 180 < nose[0] < 260 and 90 < nose[1] < 170 and det.visibility[0] > 0.9
    # her left shoulder is on the image's right
    assert det.keypoints[11, 0] > det.keypoints[12, 0]
    assert 0.5 < np.ptp(det.world_keypoints[:, 1]) < 2.5  # metres

    # with a person box: crop, mapped back to full-image pixels
    det2 = detect_person(im, person_box=Box(0, 0, 400, 512))
    assert np.abs(det2.keypoints[0] - nose).max() < 25
    assert not det2.mask[:, 460:].any()


def test_mirror_fallback_maps_back() -> None:
    from skimage import data

    from hoirecon.perception.person import _detect_once

    a = data.astronaut()
    r0, r1 = _detect_once(a), _detect_once(a, mirror=True)
    assert r0 is not None and r1 is not None
    # same person, same labels (left/right swapped back), within a few percent of the image
    assert np.abs(r0.kp_norm[[0, 11, 12, 13, 14]] - r1.kp_norm[[0, 11, 12, 13, 14]]).max() < 0.06
    assert np.abs(r0.world[[11, 12]] - r1.world[[11, 12]]).max() < 0.1


def test_detect_person_none() -> None:
    from hoirecon.perception import detect_person

    im = _image(np.full((240, 320, 3), 128, np.uint8), "grey.png")
    with pytest.raises(NoPersonError, match="grey.png: no person found"):
        detect_person(im)


def _disk_scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    rgb = rng.integers(60, 190, size=(h, w, 3)).astype(np.uint8)
    rgb[..., 0] //= 2  # background: noisy, not red
    yy, xx = np.mgrid[:h, :w]
    disk = (xx + 0.5 - 220) ** 2 + (yy + 0.5 - 140) ** 2 <= 60**2
    rgb[disk] = (230, 30, 30) + rng.integers(-15, 15, size=(int(disk.sum()), 3))
    return rgb.astype(np.uint8), disk


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_segment_object_grabcut() -> None:
    from hoirecon.perception import segment_object

    rgb, disk = _disk_scene()
    im = _image(rgb)
    det = segment_object(im, Box(145, 65, 295, 215), "ball")
    assert det.backend == "grabcut" and det.label == "ball"
    assert det.mask.shape == disk.shape and det.mask.dtype == bool
    assert _iou(det.mask, disk) > 0.8
    assert not det.mask[:, :140].any()  # restricted to the box


def test_segment_object_person_mask_and_user_mask() -> None:
    from hoirecon.perception import segment_object

    rgb, disk = _disk_scene(1)
    im = _image(rgb)
    person = np.zeros_like(disk)
    person[:, :150] = True  # a person beside the object, overlapping the box's left edge
    det = segment_object(im, Box(140, 60, 300, 220), "ball", person_mask=person)
    assert det.backend == "grabcut" and _iou(det.mask, disk) > 0.8

    det = segment_object(im, Box(145, 65, 295, 215), "ball", mask=disk)
    assert det.backend == "user-mask" and np.array_equal(det.mask, disk)
    with pytest.raises(InputError):
        segment_object(im, Box(145, 65, 295, 215), "ball", mask=np.zeros_like(disk))


def test_segment_object_ellipse_fallback() -> None:
    from hoirecon.perception import segment_object
    from hoirecon.perception.objects import ellipse_mask

    # flat grey: nothing for GrabCut to separate -> tiny/empty -> inscribed ellipse minus the person
    im = _image(np.full((200, 200, 3), 120, np.uint8))
    person = np.zeros((200, 200), bool)
    person[:, :100] = True
    det = segment_object(im, Box(50, 40, 150, 160), "thing", person_mask=person)
    assert det.backend == "box-ellipse"
    ell = ellipse_mask(Box(50, 40, 150, 160), 200, 200)
    assert np.array_equal(det.mask, ell & ~person)
    assert abs(ell.sum() - math.pi * 50 * 60) < 0.03 * math.pi * 50 * 60


def test_segment_object_box_is_whole_image() -> None:
    from hoirecon.perception import segment_object

    rgb, disk = _disk_scene(2)
    det = segment_object(_image(rgb), Box(0, 0, 400, 300), "ball")
    assert det.mask.shape == disk.shape and det.mask.any()
    assert det.backend in ("grabcut", "box-ellipse")


# ----------------------------------------------------------------------------------------- working copy


def test_working_copy_scales_intrinsics_and_keeps_the_photo_size(tmp_path: Path) -> None:
    from hoirecon.photo import resize_mask, scale_box, working_copy

    p = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (1500, 2000, 3), dtype=np.uint8)).save(p)
    photo = load_image(p)
    w = working_copy(photo, 1280)
    assert (w.width, w.height) == (1280, 960) and w.original_size == (2000, 1500)
    assert w.scale == pytest.approx(0.64) and w.camera.fx == pytest.approx(photo.camera.fx * 0.64)
    assert (w.camera.cx, w.camera.cy) == (640.0, 480.0)
    orig = w.original_camera()
    assert orig.fx == pytest.approx(photo.camera.fx) and (orig.width, orig.height) == (2000, 1500)
    # a 3D point projects to the same place, up to the scale
    X = np.array([[0.3, -0.2, 2.5]])
    assert np.allclose(w.camera.project(X), photo.camera.project(X) * 0.64)
    # within the cap: the photo itself
    same = working_copy(photo, 4000)
    assert same.rgb is photo.rgb and same.scale == 1.0
    assert scale_box(Box(100, 50, 300, 250), 0.64) == Box(64, 32, 192, 160)
    m = np.zeros((1500, 2000), bool)
    m[300:900, 500:1000] = True
    small = resize_mask(m, 1280, 960)
    assert small.shape == (960, 1280) and abs(int(small.sum()) - int(600 * 500 * 0.64**2)) < 2000
    dot = np.zeros((1500, 2000), bool)
    dot[700, 1000] = True  # a one-pixel mask does not vanish
    assert resize_mask(dot, 128, 96).sum() == 1


def test_person_box_prefers_the_box_person(monkeypatch) -> None:
    """A more prominent person beside the box (two players at a header): the crop is tried again with
    everything outside the box grey, and the person whose landmarks lie inside the box is kept."""
    from hoirecon.perception import person as P

    rgb = np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)
    im = ImageInput(Path("two.png"), rgb, intrinsics_from_fov(400, 200))
    box = Box(200, 20, 300, 180)
    calls = []

    def fake(crop: np.ndarray, *, mirror: bool = False):
        grey = bool((crop[:, :10] == 127).all())  # the crop starts 25 px left of the box
        calls.append(grey)
        # in crop-normalised coordinates: the other person left of the box, the box's person inside it
        x = 0.55 if grey else 0.1
        kp = np.column_stack([np.linspace(x - 0.05, x + 0.05, 33), np.linspace(0.2, 0.8, 33)]).astype(np.float32)
        return P._Raw(kp, np.ones(33, np.float32), np.zeros((33, 3), np.float32), None)

    monkeypatch.setattr(P, "_detect_once", fake)
    det = P.detect_person(im, person_box=box)
    assert calls == [False, True]
    assert box.x0 <= det.keypoints[:, 0].min() and det.keypoints[:, 0].max() <= box.x1
    # a person found inside the box on the first try: no second run
    calls.clear()
    monkeypatch.setattr(P, "BOX_INSIDE", 0.0)
    P.detect_person(im, person_box=box)
    assert calls == [False]


def test_grey_outside_keeps_the_box() -> None:
    from hoirecon.perception.person import _grey_outside

    crop = np.full((50, 60, 3), 9, np.uint8)
    out = _grey_outside(crop, Box(15, 12, 35.5, 30), (10, 10))  # the crop's corner at (10, 10)
    assert (out[2:20, 5:26] == 9).all() and (out[:2] == 127).all() and (out[:, 26:] == 127).all()
    assert (out[:, :5] == 127).all() and (crop == 9).all()
