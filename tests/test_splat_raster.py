"""The compiled CPU rasterizer against the plain-PyTorch reference, and closed-form sanity checks.

Tolerances. Both backends compute in float32. Images: the two sum the same few hundred
terms (each <= 1) in a different association, so they differ by ~1e-6; we allow 1e-4 per
pixel. The one exception: the two use different exp implementations (glibc's and torch's,
which may differ by an ulp), so a Gaussian whose alpha lies within an ulp of 1/255, or
whose transmittance lands within an ulp of 1e-4, may be skipped by one and blended by the
other; that moves one pixel by at most alpha * T <= 1/255. We allow that on at most 0.1 %
of the pixels. A real logic mismatch (a wrong constant, culling rule or sort) changes far
more pixels, by more (checked by hand by perturbing each constant on one side). Gradients: the CPU backward recovers
each transmittance by dividing by (1 - alpha) (as gsplat does), which can amplify float32
rounding by up to 1/(1 - 0.999) per opaque layer; measured differences are ~1e-6 of the
gradient's norm. We require a relative error (L2) below 1e-4 per parameter and every
element within 1e-3 of that parameter's largest gradient.
"""

from __future__ import annotations

import math

import pytest
import torch

from spaceport.splat import conventions as cv
from spaceport.splat import rasterize
from spaceport.splat.rasterize import gsplat_available, resolve_backend

PARAMS = ("means", "quats", "scales", "opacities", "colors")


def look_at(eye: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(4, 4) world->camera matrix of a camera at `eye` looking at `target` (OpenCV axes)."""
    forward = (target - eye) / (target - eye).norm()
    right = torch.linalg.cross(forward, torch.tensor([0.0, -1.0, 0.0]))
    right = right / right.norm()
    down = torch.linalg.cross(forward, right)
    rot = torch.stack([right, down, forward])
    view = torch.eye(4)
    view[:3, :3] = rot
    view[:3, 3] = -rot @ eye
    return view


def random_scene(seed: int, n: int = 400, width: int = 83, height: int = 61, sh_degree: int | None = None) -> dict:
    """Gaussians around the origin seen by a camera 3 units away, image size not a multiple
    of the tile size. Mixes tiny (sub-pixel) and huge (screen-filling) Gaussians, nearly
    opaque ones (alpha clamp, early stop), ones behind the camera and off-screen."""
    g = torch.Generator().manual_seed(seed)
    kind = torch.randint(0, 20, (n,), generator=g)
    means = torch.randn(n, 3, generator=g) * 1.5
    log_scale = torch.randn(n, 3, generator=g) * 0.7 - 3.0
    log_scale[kind < 2] = -7.0  # tiny: far below a pixel, the 0.3 px^2 low-pass dominates
    log_scale[kind == 2] = torch.rand(int((kind == 2).sum()), 3, generator=g) * 0.5 - 0.5  # huge
    opacities = torch.rand(n, generator=g) * 0.7
    opacities[kind == 2] *= 0.3
    opacities[kind == 3] = 1.0 - torch.rand(int((kind == 3).sum()), generator=g) * 1e-3  # nearly opaque
    opacities[kind == 4] = torch.rand(int((kind == 4).sum()), generator=g) * 0.01  # some below 1/255
    eye = torch.tensor([0.3, -0.8, -3.0]) + torch.randn(3, generator=g) * 0.2
    scene = {
        "means": means,
        "quats": torch.randn(n, 4, generator=g),
        "scales": log_scale.exp(),
        "opacities": opacities,
        "viewmat": look_at(eye, torch.randn(3, generator=g) * 0.2),
        "K": torch.tensor([[0.9 * width, 0.0, width / 2 + 3.3], [0.0, 0.95 * width, height / 2 - 2.1], [0, 0, 1.0]]),
        "width": width,
        "height": height,
    }
    if sh_degree is None:
        scene["colors"] = torch.rand(n, 3, generator=g)
    else:
        scene["colors"] = torch.randn(n, (sh_degree + 1) ** 2, 3, generator=g) * 0.4
    return scene


def render_with_grads(scene: dict, backend: str, background=None, sh_degree=None) -> dict:
    """Image, alpha and the gradients of a fixed random linear loss of both."""
    params = {name: scene[name].clone().requires_grad_() for name in PARAMS}
    bg = None if background is None else background.clone().requires_grad_()
    image, alpha, info = rasterize(
        params["means"], params["quats"], params["scales"], params["opacities"], params["colors"],
        scene["viewmat"], scene["K"], scene["width"], scene["height"],
        sh_degree=sh_degree, background=bg, backend=backend, return_info=True,
    )  # fmt: skip
    info["means2d"].retain_grad()
    g = torch.Generator().manual_seed(1234)
    loss = (image * torch.randn(image.shape, generator=g)).sum() + (alpha * torch.randn(alpha.shape, generator=g)).sum()
    loss.backward()
    grads = {name: p.grad for name, p in params.items()}
    if bg is not None:
        grads["background"] = bg.grad
    grads["means2d (screen)"] = info["means2d"].grad.reshape(-1, 2)
    return {"image": image.detach(), "alpha": alpha.detach(), "grads": grads, "radii": info["radii"].cpu()}


def assert_images_close(got: torch.Tensor, want: torch.Tensor) -> None:
    """Within 1e-4 everywhere except at most 0.1 % of pixels, which are within 1/255 + 1e-4
    (one threshold decision at one pixel; see the module docstring)."""
    diff = (got - want).abs().reshape(-1, got.shape[-1]).amax(dim=1)
    off = int((diff > 1e-4).sum())
    assert off <= max(1, diff.numel() // 1000), f"{off} of {diff.numel()} pixels differ by more than 1e-4"
    assert diff.max() <= 1 / 255 + 1e-4, f"largest difference {diff.max():.3g}"


def assert_grads_close(got: dict, want: dict) -> None:
    for name, ref in want.items():
        diff = (got[name] - ref).norm() / ref.norm().clamp_min(1e-12)
        assert diff < 1e-4, f"{name}: relative L2 error {diff:.2e}"
        torch.testing.assert_close(got[name], ref, rtol=0, atol=1e-3 * float(ref.abs().max()), msg=name)


def test_scenes_exercise_the_edge_cases():
    """The random scenes really contain what the agreement tests claim to cover."""
    from spaceport.splat.reference import project

    s = random_scene(0)
    proj = project(s["means"], s["quats"], s["scales"], s["opacities"], s["viewmat"], s["K"], s["width"], s["height"])
    depth_culled = proj.depths < cv.NEAR_PLANE
    visible = proj.valid
    mx, rx = proj.means2d[:, 0], proj.radii[:, 0]
    assert depth_culled.sum() > 5  # behind the camera
    assert (visible & ((mx - rx < 0) | (mx + rx > s["width"]))).sum() > 5  # partly off-screen
    assert (visible & (proj.radii.max(dim=1).values >= s["width"])).sum() > 3  # huge
    assert (visible & (proj.radii.max(dim=1).values <= 2)).sum() > 5  # tiny
    assert (visible & (rx > cv.TILE_SIZE)).sum() > 10  # spanning several tiles
    assert (~visible & ~depth_culled).sum() > 5  # culled for other reasons (opacity, off-screen)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_cpu_matches_reference(seed):
    scene = random_scene(seed)
    background = torch.tensor([0.2, 0.5, 0.9]) if seed % 2 else None
    ref = render_with_grads(scene, "reference", background)
    cpu = render_with_grads(scene, "cpu", background)
    assert ref["alpha"].max() > 0.99 and ref["alpha"].min() < 0.5  # opaque and see-through pixels
    assert_images_close(cpu["image"], ref["image"])
    assert_images_close(cpu["alpha"], ref["alpha"])
    assert torch.equal(cpu["radii"], ref["radii"])  # same culling and screen boxes
    assert_grads_close(cpu["grads"], ref["grads"])


@pytest.mark.parametrize("sh_degree", [0, 1, 3])
def test_cpu_matches_reference_with_sh(sh_degree):
    scene = random_scene(10 + sh_degree, n=250, sh_degree=sh_degree)
    ref = render_with_grads(scene, "reference", sh_degree=sh_degree)
    cpu = render_with_grads(scene, "cpu", sh_degree=sh_degree)
    assert_images_close(cpu["image"], ref["image"])
    assert_grads_close(cpu["grads"], ref["grads"])


def test_cpu_matches_reference_on_opaque_stack():
    """Many large, nearly opaque layers: pixels stop early (transmittance floor)."""
    scene = random_scene(7, n=200)
    scene["scales"] = scene["scales"].clamp_min(0.4)
    scene["opacities"] = scene["opacities"].clamp_min(0.9)
    ref = render_with_grads(scene, "reference")
    cpu = render_with_grads(scene, "cpu")
    assert ref["alpha"].min() > 0.99  # every pixel is (nearly) opaque: most stop early
    assert_images_close(cpu["image"], ref["image"])
    assert_grads_close(cpu["grads"], ref["grads"])


def single_gaussian(x: float, y: float, z: float, scale: float = 0.05, opacity: float = 0.8) -> dict:
    """One axis-aligned Gaussian at camera coordinates (x, y, z), identity camera pose."""
    width, height, f = 64, 48, 50.0
    return {
        "means": torch.tensor([[x, y, z]]),
        "quats": torch.tensor([[1.0, 0.0, 0.0, 0.0]]),
        "scales": torch.full((1, 3), scale),
        "opacities": torch.tensor([opacity]),
        "colors": torch.tensor([[1.0, 0.5, 0.25]]),
        "viewmat": torch.eye(4),
        "K": torch.tensor([[f, 0.0, 30.0], [0.0, f, 20.0], [0.0, 0.0, 1.0]]),
        "width": width,
        "height": height,
    }


def render(scene: dict, backend: str, background=None):
    args = [scene[k] for k in (*PARAMS, "viewmat", "K", "width", "height")]
    return rasterize(*args, background=background, backend=backend)


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_single_gaussian_renders_where_it_projects(backend):
    scene = single_gaussian(0.4, -0.2, 2.0)
    image, alpha = render(scene, backend)
    # projects to u = f x / z + cx = 40, v = f y / z + cy = 15: its alpha-weighted centroid
    ys, xs = torch.meshgrid(torch.arange(48) + 0.5, torch.arange(64) + 0.5, indexing="ij")
    weight = alpha[..., 0] / alpha.sum()
    assert (weight * xs).sum().item() == pytest.approx(40.0, abs=0.02)
    assert (weight * ys).sum().item() == pytest.approx(15.0, abs=0.02)
    # closed form at pixel (row 15, column 40), centre offset (0.5, 0.5) from the mean:
    # 2D covariance s^2 J J^T + 0.3 I with J = [[f/z, 0, -f x/z^2], [0, f/z, -f y/z^2]]
    f, x, y, z, s2 = 50.0, 0.4, -0.2, 2.0, 0.05**2
    cxx = s2 * (f * f / z**2 + (f * x / z**2) ** 2) + cv.EPS2D
    cyy = s2 * (f * f / z**2 + (f * y / z**2) ** 2) + cv.EPS2D
    cxy = s2 * (f * x / z**2) * (f * y / z**2)
    det = cxx * cyy - cxy * cxy
    dx = dy = 0.5
    expected = 0.8 * math.exp(-0.5 * (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det)
    assert alpha[15, 40, 0].item() == pytest.approx(expected, rel=1e-5)
    torch.testing.assert_close(image[15, 40], expected * scene["colors"][0], rtol=1e-5, atol=0)
    # nothing far from it, and it fades out within its 3-sigma box
    assert alpha[:, :20].max() == 0 and alpha[35:].max() == 0


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_gaussians_behind_or_at_the_camera_are_culled(backend):
    bg = torch.tensor([0.1, 0.2, 0.3])
    for z in (-2.0, 0.0, cv.NEAR_PLANE * 0.5):
        image, alpha = render(single_gaussian(0.0, 0.0, z, scale=0.5), backend, background=bg)
        assert alpha.max() == 0
        torch.testing.assert_close(image, bg.expand(48, 64, 3))


def test_auto_backend_and_errors():
    assert resolve_backend("auto") == ("cuda" if gsplat_available() else "cpu")
    scene = single_gaussian(0.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="unknown rasterizer backend"):
        render(scene, "opengl")
    scene["quats"] = torch.ones(1, 3)
    with pytest.raises(ValueError, match="quats must have shape"):
        render(scene, "cpu")


@pytest.mark.skipif(not gsplat_available(), reason="needs a CUDA GPU and gsplat (the `cuda` extra)")
@pytest.mark.parametrize("seed", [0, 1])
def test_cuda_matches_reference(seed):
    scene = random_scene(seed)
    ref = render_with_grads(scene, "reference")
    gpu = render_with_grads({k: v.cuda() if torch.is_tensor(v) else v for k, v in scene.items()}, "cuda")
    torch.testing.assert_close(gpu["image"].cpu(), ref["image"], rtol=0, atol=1e-3)
    for name, want in ref["grads"].items():
        got = gpu["grads"][name].cpu()
        assert (got - want).norm() / want.norm() < 1e-2, name


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_cpu_sh_colors_match_torch(degree):
    """The compiled SH evaluation against the PyTorch one: colours, and gradients w.r.t. the
    coefficients and the means (through the viewing direction); some colours clamp at 0."""
    from spaceport.splat.cpu import sh_colors_cpu
    from spaceport.splat.sh import sh_to_colors

    g = torch.Generator().manual_seed(degree)
    sh = torch.randn(300, 16, 3, generator=g).requires_grad_()
    means = (torch.randn(300, 3, generator=g) * 2).requires_grad_()
    view = look_at(torch.tensor([0.5, -1.0, -4.0]), torch.zeros(3))
    weights = torch.randn(300, 3, generator=g)
    results = []
    for fn in (sh_colors_cpu, sh_to_colors):
        colors = fn(sh, means, view, degree)
        grads = torch.autograd.grad((colors * weights).sum(), [sh, means], allow_unused=True, materialize_grads=True)
        results.append((colors, *grads))
    (got, got_sh, got_means), (want, want_sh, want_means) = results
    assert (want == 0).any() and (want > 0).any()
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    torch.testing.assert_close(got_sh, want_sh, rtol=0, atol=1e-5)
    assert (want_sh[:, (degree + 1) ** 2 :] == 0).all()
    if degree:
        torch.testing.assert_close(got_means, want_means, rtol=1e-4, atol=1e-5 * float(want_means.abs().max()))


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_empty_and_fully_culled_scenes_render_the_background(backend):
    bg = torch.tensor([0.3, 0.6, 0.1])
    empty = {k: (v[:0] if torch.is_tensor(v) and k in PARAMS else v) for k, v in single_gaussian(0.0, 0.0, 2.0).items()}
    behind = random_scene(5, n=50)
    behind["means"] = behind["means"] * 0.1 - torch.tensor([0.0, 0.0, 50.0])  # all far behind the camera
    for scene in (empty, behind):
        params = {k: scene[k].clone().requires_grad_() for k in PARAMS}
        image, alpha = rasterize(
            *params.values(), scene["viewmat"], scene["K"], scene["width"], scene["height"], background=bg, backend=backend
        )
        torch.testing.assert_close(image, bg.expand_as(image))
        assert alpha.abs().max() == 0
        image.sum().backward()
        assert all(p.grad is None or (p.grad == 0).all() for p in params.values())
