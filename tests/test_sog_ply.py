"""The standard 3DGS PLY reader and writer."""

from __future__ import annotations

import numpy as np
import pytest
from plyfile import PlyData, PlyElement

from sog_support import synthetic_splats
from spaceport.errors import InputError
from spaceport.splat.ply import FIELDS, property_names, read_ply, write_ply


@pytest.mark.parametrize("bands", [0, 1, 2, 3])
def test_write_then_read_is_exact(tmp_path, bands):
    splats = synthetic_splats(777, bands=bands, seed=bands)
    write_ply(tmp_path / "s.ply", splats)
    back = read_ply(tmp_path / "s.ply")
    assert back.sh_bands == bands
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(splats, name))


def test_file_layout_is_the_standard_one(tmp_path):
    write_ply(tmp_path / "s.ply", synthetic_splats(5, bands=3))
    vertex = PlyData.read(str(tmp_path / "s.ply"))["vertex"]
    names = [p.name for p in vertex.properties]
    assert names[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert names[9:54] == [f"f_rest_{i}" for i in range(45)]
    assert names[54:] == ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    assert all(p.val_dtype in ("f4", "float32", "float") for p in vertex.properties)


def test_f_rest_is_channel_major(tmp_path):
    splats = synthetic_splats(3, bands=1)
    write_ply(tmp_path / "s.ply", splats)
    vertex = PlyData.read(str(tmp_path / "s.ply"))["vertex"]
    # f_rest_0..2 are the red coefficients, 3..5 green, 6..8 blue
    assert vertex["f_rest_4"][1] == splats.sh_rest[1, 1, 1]
    assert vertex["f_rest_6"][2] == splats.sh_rest[2, 2, 0]


def write_vertices(path, names, rows):
    records = np.array([tuple(row) for row in rows], dtype=[(name, "f4") for name in names])
    PlyData([PlyElement.describe(records, "vertex")], text=True).write(str(path))


def test_reads_ascii_and_extra_properties(tmp_path):
    names = property_names(0) + ["extra"]
    write_vertices(tmp_path / "a.ply", names, [np.arange(len(names), dtype=np.float32)])
    splats = read_ply(tmp_path / "a.ply")
    assert splats.means.tolist() == [[0.0, 1.0, 2.0]]
    assert splats.rotations.tolist() == [[13.0, 14.0, 15.0, 16.0]]


def test_missing_properties_are_named(tmp_path):
    names = [n for n in property_names(0) if n not in ("rot_2", "opacity")]
    write_vertices(tmp_path / "m.ply", names, [np.zeros(len(names))])
    with pytest.raises(InputError, match="opacity, rot_2"):
        read_ply(tmp_path / "m.ply")


def test_odd_number_of_sh_coefficients_is_refused(tmp_path):
    names = property_names(0) + ["f_rest_0", "f_rest_1"]
    write_vertices(tmp_path / "o.ply", names, [np.zeros(len(names))])
    with pytest.raises(InputError, match="2 f_rest"):
        read_ply(tmp_path / "o.ply")


def test_empty_and_broken_files(tmp_path):
    names = property_names(0)
    write_vertices(tmp_path / "e.ply", names, [])
    with pytest.raises(InputError, match="0 vertices"):
        read_ply(tmp_path / "e.ply")
    (tmp_path / "b.ply").write_bytes(b"not a ply at all")
    with pytest.raises(InputError, match="not a readable PLY"):
        read_ply(tmp_path / "b.ply")
    with pytest.raises(InputError, match="no such PLY"):
        read_ply(tmp_path / "none.ply")
