"""Import a hoirecon result folder into Blender and save a .blend (shipped with hoirecon; run by
``hoirecon blender OUT_DIR``, or by hand)::

    blender -b --factory-startup --python import_scene.py -- OUT_DIR BLEND_FILE [--no-background]

What it does, in a new empty scene:

* works around Debian 12's Blender 3.4 glTF importer bug (``module 'numpy' has no attribute
  'bool'`` with NumPy >= 1.24) before importing;
* imports ``OUT_DIR/scene.glb`` (the ``human`` and ``object_<category>`` meshes with their vertex
  colours, and the ``photo_camera``);
* makes ``photo_camera`` the scene's camera and sets the render resolution to the photo's size
  (``params.json`` ``camera``), so *View > Cameras > Active Camera* (Numpad 0) looks through the
  photo;
* puts the photo (``params.json`` ``image.path``, when the file is there) behind the meshes as the
  camera's background image (half transparent: Blender shows it in the camera view without further
  clicks; renders do not include it);
* adds a sun light above the scene so that a render is not black;
* saves ``BLEND_FILE``.

Prints one line ``hoirecon-blender: saved BLEND_FILE`` on success; exits 1 with a one-line
``hoirecon-blender: error: ...`` otherwise.
"""

import json
import sys
from pathlib import Path

import bpy


def _fail(message):
    print(f"hoirecon-blender: error: {message}", flush=True)
    sys.exit(1)


def patch_numpy_bool():
    """Debian 12's Blender 3.4.1 glTF importer uses ``np.bool``, which NumPy 1.24 removed."""
    try:
        import numpy
    except ImportError:  # the glTF importer then fails with its own message
        return
    if "bool" not in vars(numpy):  # (hasattr would print NumPy's FutureWarning)
        numpy.bool = bool


def main(argv):
    background = "--no-background" not in argv
    argv = [a for a in argv if a != "--no-background"]
    if len(argv) != 2:
        _fail("usage: blender -b --python import_scene.py -- OUT_DIR BLEND_FILE [--no-background]")
    out, blend = Path(argv[0]), Path(argv[1]).absolute()
    glb, params_path = out / "scene.glb", out / "params.json"
    for f in (glb, params_path):
        if not f.is_file():
            _fail(f"{f}: not found (a hoirecon result folder holds scene.glb and params.json)")
    params = json.loads(params_path.read_text(encoding="utf-8"))
    patch_numpy_bool()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(glb))
    scene = bpy.context.scene
    cams = [o for o in scene.objects if o.type == "CAMERA"]
    if not cams:
        _fail(f"{glb}: no photo_camera in the file (written by hoirecon before 2026-12-03?)")
    cam = cams[0]
    scene.camera = cam
    c = params.get("camera", {})
    if c.get("width") and c.get("height"):
        scene.render.resolution_x, scene.render.resolution_y = int(c["width"]), int(c["height"])
        scene.render.resolution_percentage = 100
        scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    photo = Path(str(params.get("image", {}).get("path", "")))
    if background and photo.is_file():
        try:
            img = bpy.data.images.load(str(photo.absolute()), check_existing=True)
            cam.data.show_background_images = True
            bg = cam.data.background_images.new()
            bg.image = img
            bg.alpha = 0.5
            bg.display_depth = "BACK"
        except RuntimeError as err:  # an image format this Blender cannot read: the scene without it
            print(f"hoirecon-blender: notice: background photo not loaded: {err}", flush=True)
    sun_data = bpy.data.lights.new("hoirecon_sun", type="SUN")
    sun_data.energy = 3.0
    sun = bpy.data.objects.new("hoirecon_sun", sun_data)
    sun.location = (0.0, 0.0, 5.0)
    scene.collection.objects.link(sun)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), check_existing=False)
    print(f"hoirecon-blender: saved {blend}", flush=True)


if __name__ == "__main__":  # Blender's --python runs it as __main__; scripts/blender_check.py imports the patch
    main(sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else [])
