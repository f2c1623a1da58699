// PyTorch bindings of the CPU kernels: tensors in, tensors out (float32, contiguous, CPU).
#include <omp.h>
#include <torch/extension.h>

#include <cstring>

#include "kernels.h"

namespace {

using spaceport::Camera;
using spaceport::Settings;
using torch::Tensor;

void check(const Tensor& t, const char* name, torch::ScalarType type = torch::kFloat32) {
    TORCH_CHECK(t.device().is_cpu(), name, " must be on the CPU");
    TORCH_CHECK(t.scalar_type() == type, name, " has the wrong dtype");
    TORCH_CHECK(t.is_contiguous(), name, " must be contiguous");
}

Camera make_camera(const Tensor& viewmat, const Tensor& K, int64_t width, int64_t height) {
    check(viewmat, "viewmat");
    check(K, "K");
    Camera cam;
    const float* v = viewmat.data_ptr<float>();
    const float* k = K.data_ptr<float>();
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) cam.R[3 * r + c] = v[4 * r + c];
        cam.t[r] = v[4 * r + 3];
    }
    cam.fx = k[0];
    cam.fy = k[4];
    cam.cx = k[2];
    cam.cy = k[5];
    cam.width = (int)width;
    cam.height = (int)height;
    return cam;
}

// A camera that only carries the image size (all the 2D kernels need).
Camera image_only(int64_t width, int64_t height) {
    Camera cam{};
    cam.width = (int)width;
    cam.height = (int)height;
    return cam;
}

// Settings from the 9 constants of conventions.py plus the thread count (which is applied).
Settings make_settings(const std::vector<double>& c) {
    TORCH_CHECK(c.size() == 10, "settings must have 10 values");
    omp_set_num_threads(std::max(1, (int)c[9]));
    return Settings{(float)c[0], (float)c[1], (float)c[2], (float)c[3], (float)c[4],
                    (float)c[5], (float)c[6], (float)c[7], (int)c[8]};
}

const float* optional_ptr(const c10::optional<Tensor>& t) {
    if (!t.has_value()) return nullptr;
    check(*t, "background");
    return t->data_ptr<float>();
}

Tensor from_vector(const std::vector<int32_t>& v) {
    Tensor out = torch::empty({(int64_t)v.size()}, torch::kInt32);
    if (!v.empty()) std::memcpy(out.data_ptr<int32_t>(), v.data(), v.size() * sizeof(int32_t));
    return out;
}

// Projection. Returns means2d (N,2), conics (N,3), depths (N), radii (N,2) int32.
std::vector<Tensor> project(Tensor means, Tensor quats, Tensor scales, Tensor opacities, Tensor viewmat, Tensor K,
                            int64_t width, int64_t height, std::vector<double> settings) {
    for (auto [t, name] : {std::pair{&means, "means"}, {&quats, "quats"}, {&scales, "scales"}, {&opacities, "opacities"}})
        check(*t, name);
    const int64_t n = means.size(0);
    const Camera cam = make_camera(viewmat, K, width, height);
    const Settings s = make_settings(settings);
    Tensor means2d = torch::empty({n, 2}), conics = torch::empty({n, 3}), depths = torch::empty({n});
    Tensor radii = torch::empty({n, 2}, torch::kInt32);
    spaceport::project_forward(n, means.data_ptr<float>(), quats.data_ptr<float>(), scales.data_ptr<float>(),
                               opacities.data_ptr<float>(), cam, s, means2d.data_ptr<float>(),
                               conics.data_ptr<float>(), depths.data_ptr<float>(), radii.data_ptr<int32_t>());
    return {means2d, conics, depths, radii};
}

// Backward of project. Returns v_means (N,3), v_quats (N,4), v_scales (N,3).
std::vector<Tensor> project_backward(Tensor means, Tensor quats, Tensor scales, Tensor viewmat, Tensor K,
                                     int64_t width, int64_t height, std::vector<double> settings, Tensor radii,
                                     Tensor v_means2d, Tensor v_conics) {
    check(v_means2d, "v_means2d");
    check(v_conics, "v_conics");
    const int64_t n = means.size(0);
    const Camera cam = make_camera(viewmat, K, width, height);
    const Settings s = make_settings(settings);
    Tensor v_means = torch::empty({n, 3}), v_quats = torch::empty({n, 4}), v_scales = torch::empty({n, 3});
    spaceport::project_backward(n, means.data_ptr<float>(), quats.data_ptr<float>(), scales.data_ptr<float>(), cam, s,
                                radii.data_ptr<int32_t>(), v_means2d.data_ptr<float>(), v_conics.data_ptr<float>(),
                                v_means.data_ptr<float>(), v_quats.data_ptr<float>(), v_scales.data_ptr<float>());
    return {v_means, v_quats, v_scales};
}

// Tile binning. Returns tile offsets (tiles+1) and depth-sorted Gaussian ids, int32.
std::vector<Tensor> bin(Tensor means2d, Tensor depths, Tensor radii, int64_t width, int64_t height,
                        std::vector<double> settings) {
    check(means2d, "means2d");
    check(depths, "depths");
    check(radii, "radii", torch::kInt32);
    const Camera cam = image_only(width, height);
    const Settings s = make_settings(settings);
    spaceport::TileBins bins;
    spaceport::bin_gaussians(means2d.size(0), means2d.data_ptr<float>(), depths.data_ptr<float>(),
                             radii.data_ptr<int32_t>(), cam, s, bins);
    return {from_vector(bins.offsets), from_vector(bins.ids)};
}

// Compositing. Returns image (H,W,3), alpha (H,W), transmittance (H,W), last (H,W).
std::vector<Tensor> render(Tensor offsets, Tensor ids, Tensor means2d, Tensor conics, Tensor opacities,
                           Tensor colors, Tensor radii, c10::optional<Tensor> background, int64_t width,
                           int64_t height, std::vector<double> settings) {
    check(offsets, "offsets", torch::kInt32);
    check(ids, "ids", torch::kInt32);
    check(means2d, "means2d");
    check(conics, "conics");
    check(colors, "colors");
    check(opacities, "opacities");
    const Camera cam = image_only(width, height);
    const Settings s = make_settings(settings);
    Tensor image = torch::empty({height, width, 3}), alpha = torch::empty({height, width});
    Tensor trans = torch::empty({height, width}), last = torch::empty({height, width}, torch::kInt32);
    spaceport::raster_forward(cam, s, offsets.data_ptr<int32_t>(), ids.data_ptr<int32_t>(), means2d.data_ptr<float>(),
                              conics.data_ptr<float>(), opacities.data_ptr<float>(), colors.data_ptr<float>(),
                              radii.data_ptr<int32_t>(), optional_ptr(background), image.data_ptr<float>(),
                              alpha.data_ptr<float>(), trans.data_ptr<float>(), last.data_ptr<int32_t>());
    return {image, alpha, trans, last};
}

// Backward of render. Returns v_means2d (N,2), v_conics (N,3), v_opacities (N), v_colors (N,3).
std::vector<Tensor> render_backward(Tensor offsets, Tensor ids, Tensor means2d, Tensor conics, Tensor opacities,
                                    Tensor colors, Tensor radii, c10::optional<Tensor> background, Tensor trans,
                                    Tensor last, Tensor v_image, Tensor v_alpha, int64_t width, int64_t height,
                                    std::vector<double> settings) {
    check(v_image, "v_image");
    check(v_alpha, "v_alpha");
    const int64_t n = means2d.size(0);
    const Camera cam = image_only(width, height);
    const Settings s = make_settings(settings);
    Tensor v_means2d = torch::empty({n, 2}), v_conics = torch::empty({n, 3});
    Tensor v_colors = torch::empty({n, 3}), v_opacities = torch::empty({n});
    spaceport::raster_backward(n, cam, s, offsets.data_ptr<int32_t>(), ids.data_ptr<int32_t>(),
                               means2d.data_ptr<float>(), conics.data_ptr<float>(), opacities.data_ptr<float>(),
                               colors.data_ptr<float>(), radii.data_ptr<int32_t>(), optional_ptr(background),
                               trans.data_ptr<float>(), last.data_ptr<int32_t>(), v_image.data_ptr<float>(),
                               v_alpha.data_ptr<float>(), v_means2d.data_ptr<float>(), v_conics.data_ptr<float>(),
                               v_colors.data_ptr<float>(), v_opacities.data_ptr<float>());
    return {v_means2d, v_conics, v_opacities, v_colors};
}

// SH coefficients (N,K,3) to colours (N,3) seen from campos (3).
Tensor sh_colors(Tensor sh, Tensor means, Tensor campos, int64_t degree, int64_t threads) {
    omp_set_num_threads(std::max<int>(1, (int)threads));
    check(sh, "sh");
    check(means, "means");
    check(campos, "campos");
    TORCH_CHECK(degree >= 0 && degree <= 3 && sh.size(1) >= (degree + 1) * (degree + 1), "bad SH degree");
    Tensor colors = torch::empty({sh.size(0), 3});
    spaceport::sh_forward(sh.size(0), sh.size(1), (int)degree, sh.data_ptr<float>(), means.data_ptr<float>(),
                          campos.data_ptr<float>(), colors.data_ptr<float>());
    return colors;
}

// Backward of sh_colors. Returns v_sh (N,K,3), v_means (N,3).
std::vector<Tensor> sh_colors_backward(Tensor sh, Tensor means, Tensor campos, int64_t degree, Tensor colors,
                                       Tensor v_colors, int64_t threads) {
    omp_set_num_threads(std::max<int>(1, (int)threads));
    check(v_colors, "v_colors");
    Tensor v_sh = torch::empty_like(sh), v_means = torch::empty_like(means);
    spaceport::sh_backward(sh.size(0), sh.size(1), (int)degree, sh.data_ptr<float>(), means.data_ptr<float>(),
                           campos.data_ptr<float>(), colors.data_ptr<float>(), v_colors.data_ptr<float>(),
                           v_sh.data_ptr<float>(), v_means.data_ptr<float>());
    return {v_sh, v_means};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
    m.def("project", &project, "EWA projection of 3D Gaussians");
    m.def("project_backward", &project_backward, "Gradients of project");
    m.def("bin", &bin, "Depth-sorted tile lists of projected Gaussians");
    m.def("render", &render, "Front-to-back compositing of binned Gaussians");
    m.def("render_backward", &render_backward, "Gradients of render");
    m.def("sh_colors", &sh_colors, "Spherical harmonics to RGB");
    m.def("sh_colors_backward", &sh_colors_backward, "Gradients of sh_colors");
}
