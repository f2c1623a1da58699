"""Independent checks with PlayCanvas splat-transform (pinned in tools/node, run with node).

`make test` installs it; these tests fail (never skip) when it is missing.
"""

from __future__ import annotations

import numpy as np
import pytest

from sog_support import splat_transform, synthetic_splats
from spaceport.progress import Progress
from spaceport.sog import SogOptions, read_sog, run
from spaceport.splat.ply import FIELDS, read_ply, write_ply

FAST = dict(webp_method=0, kmeans_iterations=3)


@pytest.mark.parametrize("bands, count, bundle", [(3, 3001, True), (1, 517, False), (0, 1, True)])
def test_splat_transform_reads_our_sog_as_we_do(tmp_path, bands, count, bundle):
    write_ply(tmp_path / "in.ply", synthetic_splats(count, bands=bands, seed=count))
    run(tmp_path / "in.ply", tmp_path / "out", SogOptions(bundle=bundle, **FAST), Progress())
    scene = tmp_path / "out" / ("scene.sog" if bundle else "scene/meta.json")
    splat_transform(scene, tmp_path / "theirs.ply")
    theirs, ours = read_ply(tmp_path / "theirs.ply"), read_sog(scene)
    assert len(theirs) == count and theirs.sh_bands == bands
    for name in FIELDS:
        np.testing.assert_allclose(getattr(theirs, name), getattr(ours, name), rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("bands", [0, 3])
def test_we_read_the_sog_splat_transform_writes(tmp_path, bands):
    original = synthetic_splats(1500, bands=bands, seed=bands + 20)
    write_ply(tmp_path / "in.ply", original)
    splat_transform("-i", "2", tmp_path / "in.ply", tmp_path / "theirs.sog")
    splat_transform(tmp_path / "theirs.sog", tmp_path / "theirs_decoded.ply")
    ours, theirs = read_sog(tmp_path / "theirs.sog"), read_ply(tmp_path / "theirs_decoded.ply")
    for name in FIELDS:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-6, atol=1e-6, err_msg=name)
    # and it is the input scene, up to quantization (splat-transform reorders: match by nearest position)
    distance = np.linalg.norm(ours.means[:, None, :] - original.means[None, :, :], axis=2)
    nearest = distance.argmin(axis=1)
    assert distance.min(axis=1).max() < 0.01
    sigmoid = lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))  # noqa: E731
    hits = np.bincount(nearest, minlength=len(original))
    unique = hits[nearest] == 1  # splats matched one to one
    assert unique.mean() > 0.98
    # 8-bit opacity (splat-transform truncates, so up to one step)
    assert np.abs(sigmoid(ours.opacities[unique]) - sigmoid(original.opacities[nearest[unique]])).max() <= 1.01 / 255
