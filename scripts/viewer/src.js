// hoirecon's scene viewer: three.js + GLTFLoader + OrbitControls bundled into one classic script
// (scripts/viewer/build.sh writes hoirecon/data/viewer/viewer.js). A classic script and GLB bytes
// embedded in a script file are the only things a browser loads from file:// with default settings:
// ES modules and fetch() of a local file are refused there.
import {
  Box3, Color, DirectionalLight, GridHelper, HemisphereLight, PerspectiveCamera, Scene, Vector3, WebGLRenderer,
} from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

const live = []; // open viewers, oldest first: browsers cap WebGL contexts at about 16
const MAX_LIVE = 8;

function decode(b64) {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes.buffer;
}

function close(v) {
  if (v.closed) return;
  v.closed = true;
  const i = live.indexOf(v);
  if (i >= 0) live.splice(i, 1);
  cancelAnimationFrame(v.frame);
  v.controls.dispose();
  v.scene.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    if (o.material) [].concat(o.material).forEach((m) => m.dispose());
  });
  v.renderer.dispose();
  v.renderer.forceContextLoss();
  v.renderer.domElement.remove();
  v.container.classList.remove("open");
  if (v.onclose) v.onclose();
}

// The scene's script (scene.glb.js) calls hoireconScene(key, base64): it arrives asynchronously.
// Several viewers of one scene may wait at once: one callback per script added, first in first out.
const pending = {};
window.hoireconScene = function (key, b64) {
  const cb = (pending[key] || []).shift();
  if (cb) cb(b64);
};

function loadScript(src, key, done, fail) {
  (pending[key] = pending[key] || []).push(done);
  const el = document.createElement("script");
  el.src = src;
  el.onload = () => el.remove();
  el.onerror = () => {
    const i = (pending[key] || []).indexOf(done);
    if (i >= 0) pending[key].splice(i, 1);
    el.remove();
    fail(new Error(src + ": could not be loaded"));
  };
  document.head.appendChild(el);
}

function frameView(v, gltf) {
  const box = new Box3().setFromObject(v.root);
  const centre = box.getCenter(new Vector3());
  const radius = Math.max(box.getSize(new Vector3()).length() / 2, 0.1);
  const cam = v.camera;
  const photo = gltf.cameras && gltf.cameras[0];
  if (photo) {
    // start looking through the photo's camera: the meshes line up with the overlay
    photo.updateWorldMatrix(true, false);
    photo.getWorldPosition(cam.position);
    photo.getWorldQuaternion(cam.quaternion);
    cam.fov = photo.fov;
    const forward = new Vector3(0, 0, -1).applyQuaternion(cam.quaternion);
    const d = Math.max(centre.clone().sub(cam.position).dot(forward), radius);
    v.controls.target.copy(cam.position).addScaledVector(forward, d);
  } else {
    cam.position.copy(centre).add(new Vector3(0, radius * 0.4, radius * 2.5));
    v.controls.target.copy(centre);
  }
  cam.near = radius / 100;
  cam.far = radius * 100;
  cam.updateProjectionMatrix();
  v.controls.update();
}

// Open a viewer in `container` for the GLB in `src` (a scene.glb.js script) under `key`.
// options: {floor: true to draw the Z=0 (glTF Y=0) floor grid, onready, onerror, onclose}
function open(container, src, key, options) {
  const opts = options || {};
  while (live.length >= MAX_LIVE) close(live[0]);
  const width = container.clientWidth || 480;
  const height = container.clientHeight || 360;
  const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(width, height);
  container.appendChild(renderer.domElement);
  container.classList.add("open");
  const scene = new Scene();
  scene.background = new Color(0xeeeeee);
  scene.add(new HemisphereLight(0xffffff, 0x888888, 2.0));
  const sun = new DirectionalLight(0xffffff, 1.5);
  sun.position.set(1, 3, 2);
  scene.add(sun);
  const camera = new PerspectiveCamera(45, width / height, 0.01, 100);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  const v = { container, renderer, scene, camera, controls, frame: 0, root: null, onclose: opts.onclose };
  live.push(v);
  const tick = () => {
    v.frame = requestAnimationFrame(tick);
    controls.update();
    renderer.render(scene, camera);
  };
  const fail = (err) => {
    close(v);
    if (opts.onerror) opts.onerror(err);
    else console.error(err);
  };
  loadScript(src, key, (b64) => {
    if (v.closed) return; // closed (more than MAX_LIVE opened) before its scene arrived
    new GLTFLoader().parse(decode(b64), "", (gltf) => {
      if (v.closed) return;
      v.root = gltf.scene;
      gltf.scene.traverse((o) => {
        if (o.isMesh) {
          // our GLBs carry the contact colours as COLOR_0; keep them matte and two-sided
          [].concat(o.material).forEach((m) => { m.metalness = 0; m.roughness = 0.85; m.side = 2; });
        }
      });
      scene.add(gltf.scene);
      if (opts.floor) {
        const grid = new GridHelper(6, 12, 0x888888, 0xbbbbbb);
        scene.add(grid);
      }
      frameView(v, gltf);
      tick();
      if (opts.onready) opts.onready(v);
    }, fail);
  }, fail);
  return v;
}

window.HoireconViewer = { open, close, live };
