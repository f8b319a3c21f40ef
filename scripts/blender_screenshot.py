"""Screenshot of Blender's camera view of a saved hoirecon .blend (the README's picture).

Run Blender with a window (under Xvfb where there is no display):

    xvfb-run -s "-screen 0 1400x1000x24" blender --factory-startup OUT/scene.blend \
        --python scripts/blender_screenshot.py -- docs/blender_camera_view.png

It turns the largest 3D viewport to "view through camera" (Numpad 0), frames the camera, shades solid
with the vertex colours (the photo is the camera's half-transparent background, as
``hoirecon blender`` sets it), waits a few redraws, saves a screenshot of the whole Blender window and
quits. Nothing here changes the .blend.
"""

import sys

import bpy

OUT = sys.argv[sys.argv.index("--") + 1] if "--" in sys.argv else "blender_camera_view.png"
_state = {"ticks": 0}


def _view3d():
    win = bpy.context.window_manager.windows[0]
    areas = [a for a in win.screen.areas if a.type == "VIEW_3D"]
    area = max(areas, key=lambda a: a.width * a.height)
    region = next(r for r in area.regions if r.type == "WINDOW")
    return win, area, region


def _setup():
    win, area, region = _view3d()
    space = area.spaces.active
    space.region_3d.view_perspective = "CAMERA"
    space.shading.type = "SOLID"
    space.shading.color_type = "VERTEX"
    space.overlay.show_floor = True
    for obj in bpy.context.view_layer.objects:  # no selection outlines over the picture
        obj.select_set(False)
    with bpy.context.temp_override(window=win, area=area, region=region):
        bpy.ops.view3d.view_center_camera()


def _tick():
    _state["ticks"] += 1
    if _state["ticks"] == 1:
        _setup()
        return 0.5
    if _state["ticks"] < 4:  # a few redraws so that the background image and meshes are drawn
        return 0.5
    win, area, _ = _view3d()
    with bpy.context.temp_override(window=win, area=area):
        bpy.ops.screen.screenshot(filepath=OUT)
    print(f"hoirecon-screenshot: saved {OUT}", flush=True)
    bpy.ops.wm.quit_blender()
    return None


bpy.app.timers.register(_tick, first_interval=1.0)
