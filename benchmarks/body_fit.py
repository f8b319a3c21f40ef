"""Body fitting accuracy and speed: keypoints generated from known parameters, fitted back.

Anny, and SMPL-X on a synthetic SMPL-X-format file (real SMPL-X files are licence-gated; pass
--smplx-dir to use yours). Prints the median over --runs random poses of: mean 2D keypoint error (px),
mean 3D keypoint error (cm, camera frame) and seconds per fit.

    python benchmarks/body_fit.py --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--smplx-dir", type=Path, default=None)
    args = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    from benchmarks.support.smplx_synthetic import write_synthetic_smplx
    from benchmarks.support.synthetic import synthetic_person
    from hoirecon.body import load_body_model
    from hoirecon.body.fit import fit_body
    from hoirecon.types import CameraIntrinsics

    cam = CameraIntrinsics(fx=800, fy=800, cx=320, cy=240, width=640, height=480)
    smplx_dir = args.smplx_dir
    if smplx_dir is None:
        smplx_dir = Path(tempfile.mkdtemp())
        write_synthetic_smplx(smplx_dir)
    models = {"anny": load_body_model("anny"),
              "smplx" + ("" if args.smplx_dir else " (synthetic file)"): load_body_model("smplx", smplx_dir=smplx_dir)}  # fmt: skip
    table = Table(title=f"body fit to synthetic landmarks, median of {args.runs} poses (CPU)")
    for col in ("model", "vertices", "2D error px", "3D error cm", "seconds / fit"):
        table.add_column(col, justify="right")
    for name, model in models.items():
        rows = []
        for seed in range(args.runs):
            g = torch.Generator().manual_seed(seed)
            pose = 0.2 * torch.randn(len(model.pose_joints), 3, generator=g)
            R = Rotation.from_rotvec([0.1, 0.5 * (seed - 1), 0.05]).as_matrix().astype(np.float32)
            person, kp = synthetic_person(model, pose, R, np.array([0.1, 0.2, 3.0], np.float32), cam)
            t0 = time.perf_counter()
            fit = fit_body(model, person, cam)
            dt = time.perf_counter() - t0
            rows.append((fit.reprojection_error_px, 100 * float(np.linalg.norm(fit.keypoints3d - kp, axis=1).mean()), dt))
        med = [statistics.median(r[i] for r in rows) for i in range(3)]
        table.add_row(name, str(fit.vertices.shape[0]), f"{med[0]:.2f}", f"{med[1]:.1f}", f"{med[2]:.2f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
