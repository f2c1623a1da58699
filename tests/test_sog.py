"""SOG v2 round trips: encode -> decode within the format's quantization bounds."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from sog_support import synthetic_splats
from spaceport.cli import main
from spaceport.errors import InputError
from spaceport.progress import Progress
from spaceport.sog import SogOptions, codebook, compress_splats, container, decompress, read_sog, run
from spaceport.splat.ply import SH_C0, Splats, read_ply, write_ply

FAST = dict(ordering="morton", webp_method=0, kmeans_iterations=3)


def encode_and_decode(tmp_path, splats, **options):
    """(cleaned splats in written order, decoded splats, meta) through a .sog bundle on disk."""
    files, cleaned, order, notes, seconds, palette = compress_splats(splats, SogOptions(**{**FAST, **options}), Progress())
    container.write_bundle(tmp_path / "scene.sog", files)
    return cleaned.subset(order), read_sog(tmp_path / "scene.sog"), json.loads(files["meta.json"])


def assert_within_bounds(original: Splats, decoded: Splats, meta: dict) -> None:
    """Every attribute within what its SOG quantization allows."""
    # positions: 16 bits over the per-axis range of sign(v) ln(|v| + 1)
    step = (np.asarray(meta["means"]["maxs"]) - np.asarray(meta["means"]["mins"])) / 65535
    bound = (np.abs(original.means) + 1) * np.expm1(step / 2 + 1e-7) + 1e-6
    assert (np.abs(decoded.means - original.means) <= bound).all()
    # rotations: three components in 8 bits each over +-1/sqrt(2): well under 1 degree
    q1 = original.rotations / np.linalg.norm(original.rotations, axis=1, keepdims=True)
    dot = np.abs((q1 * decoded.rotations).sum(axis=1))
    assert np.degrees(2 * np.arccos(np.clip(dot, 0, 1))).max() < 1.0
    # codebook attributes decode to the nearest codebook entry
    for values, decoded_values, book in (
        (original.scales, decoded.scales, meta["scales"]["codebook"]),
        (original.sh_dc, decoded.sh_dc, meta["sh0"]["codebook"]),
    ):
        book = np.asarray(book, np.float32)
        assert np.all(np.diff(book) >= 0) and book.size == 256
        nearest = np.abs(values[..., None] - book).min(axis=-1)
        np.testing.assert_allclose(np.abs(decoded_values - values), nearest, atol=1e-6)
    # opacity: 8 bits after the sigmoid
    sigmoid = lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))  # noqa: E731
    assert np.abs(sigmoid(decoded.opacities) - sigmoid(original.opacities)).max() <= 0.5 / 255 + 2e-6


def test_round_trip_within_bounds_all_bands(tmp_path):
    splats = synthetic_splats(3000, bands=3, seed=1)
    original, decoded, meta = encode_and_decode(tmp_path, splats, palette_size=512)
    assert len(decoded) == 3000
    assert_within_bounds(original, decoded, meta)
    assert meta["version"] == 2 and meta["count"] == 3000
    assert meta["shN"]["bands"] == 3 and meta["shN"]["count"] == 512
    assert decoded.sh_rest.shape == (3000, 3, 15)
    # a 512-entry palette of 45 values per splat: loose, but far better than nothing
    error = np.sqrt(((decoded.sh_rest - original.sh_rest) ** 2).mean())
    assert error < 0.9 * np.sqrt((original.sh_rest**2).mean())


def test_sh_palette_exact_when_few_distinct_vectors(tmp_path):
    """With fewer distinct SH vectors than entries and <= 256 distinct values, SH is lossless."""
    splats = synthetic_splats(2000, bands=2, seed=2)
    rng = np.random.default_rng(0)
    levels = np.linspace(-1, 1, 200, dtype=np.float32)
    vectors = levels[rng.integers(0, 200, size=(40, 3, 8))]
    splats.sh_rest = vectors[rng.integers(0, 40, 2000)]
    original, decoded, meta = encode_and_decode(tmp_path, splats, palette_size=64)
    np.testing.assert_array_equal(decoded.sh_rest, original.sh_rest)


@pytest.mark.parametrize("count", [1, 2, 5, 1001])
def test_small_and_uneven_counts(tmp_path, count):
    splats = synthetic_splats(count, bands=1, seed=count)
    original, decoded, meta = encode_and_decode(tmp_path, splats)
    assert len(decoded) == count
    assert_within_bounds(original, decoded, meta)
    if count <= 256:  # few values: the codebooks hold them exactly
        np.testing.assert_array_equal(decoded.scales, original.scales)
        np.testing.assert_array_equal(decoded.sh_rest, original.sh_rest)


def test_images_are_multiples_of_4_and_zip_is_plain(tmp_path):
    splats = synthetic_splats(1001, bands=3, seed=3)
    encode_and_decode(tmp_path, splats, palette_size=100)
    with zipfile.ZipFile(tmp_path / "scene.sog") as archive:
        assert archive.comment == b""
        infos = archive.infolist()
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
        names = {i.filename for i in infos}
        assert names == {"meta.json", "means_l.webp", "means_u.webp", "quats.webp", "scales.webp", "sh0.webp",
                         "shN_centroids.webp", "shN_labels.webp"}
        for name in names - {"meta.json"}:
            image = container.decode_webp(archive.read(name), name)
            if name == "shN_centroids.webp":
                assert image.shape[:2] == (2, 64 * 15)  # 100 entries, 64 per row
            else:
                assert image.shape[0] % 4 == 0 and image.shape[1] % 4 == 0
                assert image.shape[0] * image.shape[1] >= 1001
    assert (tmp_path / "scene.sog").read_bytes()[-22:-20] == b"PK"  # end record without a comment


def test_webp_keeps_colour_under_zero_alpha():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(8, 12, 4), dtype=np.uint8)
    rgba[::2, :, 3] = 0
    assert np.array_equal(container.decode_webp(container.encode_webp(rgba, 0), "t"), rgba)


def test_zero_opacity_huge_and_tiny_scales_wide_scene(tmp_path):
    splats = synthetic_splats(2000, bands=0, seed=4, extent_m=600.0)
    splats.opacities[:100] = -40.0  # invisible
    splats.opacities[100:200] = 30.0  # fully opaque
    splats.scales[:50] = 6.0  # 400 m
    splats.scales[50:100] = -18.0  # 15 nm
    original, decoded, meta = encode_and_decode(tmp_path, splats)
    assert_within_bounds(original, decoded, meta)
    assert np.abs(original.means).max() > 250
    # hundreds of metres across: still centimetres at the edge (16-bit log encoding)
    assert np.abs(decoded.means - original.means).max() < 0.05
    assert decoded.scales.max() == pytest.approx(6.0, abs=0.01) and decoded.scales.min() == pytest.approx(-18.0, abs=0.01)


def test_nan_and_inf_are_dropped_or_clamped_with_a_warning(tmp_path):
    splats = synthetic_splats(500, bands=1, seed=5)
    splats.means[3, 1] = np.nan
    splats.sh_rest[4, 2, 0] = np.inf
    splats.rotations[5] = 0.0
    splats.opacities[6] = np.inf
    splats.scales[7, 0] = -np.inf
    with pytest.warns(UserWarning) as caught:
        original, decoded, meta = encode_and_decode(tmp_path, splats)
    messages = " ".join(str(w.message) for w in caught)
    assert "dropped 3 of 500" in messages and "clamped 2" in messages
    assert len(decoded) == 497
    assert np.isfinite(decoded.means).all() and np.isfinite(decoded.scales).all()
    assert_within_bounds(original, decoded, meta)


def test_all_invalid_is_refused():
    splats = synthetic_splats(3, bands=0)
    splats.means[:] = np.nan
    with pytest.raises(InputError, match="nothing to compress"):
        compress_splats(splats, SogOptions(**FAST), Progress())


def test_fewer_bands_kept_on_request(tmp_path):
    splats = synthetic_splats(300, bands=3, seed=6)
    original, decoded, meta = encode_and_decode(tmp_path, splats, sh_bands=1)
    assert decoded.sh_bands == 1 and meta["shN"]["bands"] == 1
    _, decoded0, meta0 = encode_and_decode(tmp_path, splats, sh_bands=0)
    assert decoded0.sh_bands == 0 and "shN" not in meta0


def test_plas_order_round_trips_too(tmp_path):
    splats = synthetic_splats(5000, bands=1, seed=7)
    original, decoded, meta = encode_and_decode(tmp_path, splats, ordering="plas", plas_iterations=2)
    assert_within_bounds(original, decoded, meta)


def test_run_writes_scene_and_report_from_a_train_folder(tmp_path):
    write_ply(tmp_path / "train" / "scene.ply", synthetic_splats(2500, bands=2, seed=8))
    report = run(tmp_path / "train", tmp_path / "compress", SogOptions(**FAST), Progress())
    assert (tmp_path / "compress" / "scene.sog").stat().st_size == report.output_bytes
    saved = json.loads((tmp_path / "compress" / "report.json").read_text())
    assert saved["splats"] == 2500 and saved["ratio"] == pytest.approx(report.input_bytes / report.output_bytes, rel=1e-3)
    assert set(saved["errors"]) == {"position_m", "rotation_deg", "scale_log", "color", "opacity", "sh_rest"}
    assert 0 < saved["errors"]["rotation_deg"]["max"] < 1.0
    assert {"order", "quantize", "sh_palette", "webp"} <= set(saved["seconds"])
    assert report.ratio > 3


def test_folder_form(tmp_path):
    write_ply(tmp_path / "s.ply", synthetic_splats(700, bands=1, seed=9))
    run(tmp_path / "s.ply", tmp_path / "out", SogOptions(bundle=False, **FAST), Progress())
    assert (tmp_path / "out" / "scene" / "meta.json").is_file()
    a = read_sog(tmp_path / "out" / "scene")
    b = read_sog(tmp_path / "out" / "scene" / "meta.json")
    np.testing.assert_array_equal(a.means, b.means)
    assert len(a) == 700


def test_decoder_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match="no such SOG"):
        read_sog(tmp_path / "missing.sog")
    container.write_bundle(tmp_path / "x.sog", {"other.txt": b"hi"})
    with pytest.raises(InputError, match="no meta.json"):
        read_sog(tmp_path / "x.sog")
    container.write_bundle(tmp_path / "v.sog", {"meta.json": b'{"version": 1}'})
    with pytest.raises(InputError, match="version 2"):
        read_sog(tmp_path / "v.sog")


def test_codebook_is_exact_for_few_values_and_nearest_otherwise():
    values = np.repeat(np.arange(200, dtype=np.float32) * 0.5, 3)
    book, labels = codebook.encode(values)
    np.testing.assert_array_equal(book[labels], values)
    rng = np.random.default_rng(0)
    values = rng.standard_cauchy(100_000).astype(np.float32)
    book, labels = codebook.encode(values)
    assert np.all(np.diff(book) >= 0)
    np.testing.assert_allclose(np.abs(book[labels] - values), np.abs(values[:, None] - book).min(axis=1), atol=1e-5)
    # dense middle gets fine steps, the tails still get entries
    assert np.abs(book[labels] - values)[np.abs(values) < 1].max() < 0.1  # a uniform step would be ~2.5
    assert book[0] < -100 and book[-1] > 100


def test_cli_compress_and_decompress(tmp_path):
    write_ply(tmp_path / "s.ply", synthetic_splats(1200, bands=1, seed=10))
    runner = CliRunner()
    result = runner.invoke(main, ["compress", str(tmp_path / "s.ply"), str(tmp_path / "c"), "--ordering", "morton", "--webp-method", "0"])
    assert result.exit_code == 0, result.output
    assert "1200 splats" in result.output
    result = runner.invoke(main, ["decompress", str(tmp_path / "c" / "scene.sog"), str(tmp_path / "back.ply")])
    assert result.exit_code == 0, result.output
    assert len(read_ply(tmp_path / "back.ply")) == 1200
    result = runner.invoke(main, ["compress", str(tmp_path / "nothing.ply"), str(tmp_path / "c2")])
    assert result.exit_code == 1 and "no such PLY" in result.output
    result = runner.invoke(main, ["compress", str(tmp_path / "s.ply"), str(tmp_path / "c3"), "--sh-bands", "4"])
    assert result.exit_code == 1 and "sh_bands" in result.output


def test_decompress_writes_the_decoded_splats(tmp_path):
    splats = synthetic_splats(400, bands=3, seed=11)
    files, *_ = compress_splats(splats, SogOptions(**FAST), Progress())
    container.write_bundle(tmp_path / "s.sog", files)
    decoded = decompress(tmp_path / "s.sog", tmp_path / "s.ply")
    back = read_ply(tmp_path / "s.ply")
    np.testing.assert_array_equal(back.sh_rest, decoded.sh_rest)
    np.testing.assert_allclose(SH_C0 * back.sh_dc + 0.5, SH_C0 * decoded.sh_dc + 0.5)
