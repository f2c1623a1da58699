// Tile-based Gaussian splatting kernels for the CPU (forward and backward), plain C++ + OpenMP.
// No torch headers here, so this part compiles quickly; bindings.cpp wraps it for PyTorch.
// Conventions follow gsplat 1.5.3 classic mode; constants come from conventions.py.
#pragma once
#include <cstdint>
#include <vector>

namespace spaceport {

// Work below these sizes runs on one thread: there a parallel region costs more than it
// saves, above all on a shared machine where a descheduled thread stalls the barrier.
constexpr int64_t kParallelMin = 8192;     // Gaussians, for per-Gaussian loops
constexpr int64_t kParallelIsects = 16384;  // tile-Gaussian pairs, for compositing

// One pinhole camera. R row-major world->camera rotation, t translation (x' = R x + t).
struct Camera {
    float R[9];
    float t[3];
    float fx, fy, cx, cy;  // pixels
    int width, height;     // pixels
};

// Rasterization constants (see conventions.py).
struct Settings {
    float near_plane, far_plane, eps2d, fov_clamp, extent_sigmas;
    float alpha_min, alpha_max, transmittance_min;
    int tile;
};

// Projection of N Gaussians. Outputs: means2d (N,2) px, conics (N,3) inverse 2D covariance
// (xx, xy, yy), depths (N) camera z, radii (N,2) int px box half-size, 0 where culled.
void project_forward(int64_t n, const float* means, const float* quats, const float* scales,
                     const float* opacities, const Camera& cam, const Settings& s,
                     float* means2d, float* conics, float* depths, int32_t* radii);

// Vector-Jacobian product of project_forward for the Gaussians with radii > 0.
// Inputs v_means2d (N,2), v_conics (N,3); outputs (overwritten) v_means (N,3),
// v_quats (N,4), v_scales (N,3).
void project_backward(int64_t n, const float* means, const float* quats, const float* scales,
                      const Camera& cam, const Settings& s, const int32_t* radii,
                      const float* v_means2d, const float* v_conics,
                      float* v_means, float* v_quats, float* v_scales);

// Tile lists: for tile t (row-major, tiles_x * tiles_y), the Gaussians touching it are
// ids[offsets[t] .. offsets[t+1]) in increasing depth.
struct TileBins {
    int tiles_x = 0, tiles_y = 0;
    std::vector<int32_t> offsets;
    std::vector<int32_t> ids;
};
void bin_gaussians(int64_t n, const float* means2d, const float* depths, const int32_t* radii,
                   const Camera& cam, const Settings& s, TileBins& bins);

// Front-to-back compositing. Outputs image (H,W,3), alpha (H,W), transmittance (H,W) left
// after the last blended Gaussian, last (H,W) index into ids of that Gaussian (-1: none).
// background (3) may be null (black).
void raster_forward(const Camera& cam, const Settings& s, const int32_t* offsets, const int32_t* ids,
                    const float* means2d, const float* conics, const float* opacities,
                    const float* colors, const int32_t* radii, const float* background,
                    float* image, float* alpha, float* transmittance, int32_t* last);

// Backward of raster_forward given v_image (H,W,3) and v_alpha (H,W). Outputs (overwritten)
// v_means2d (N,2), v_conics (N,3), v_colors (N,3), v_opacities (N).
void raster_backward(int64_t n, const Camera& cam, const Settings& s, const int32_t* offsets,
                     const int32_t* ids, const float* means2d, const float* conics,
                     const float* opacities, const float* colors, const int32_t* radii,
                     const float* background, const float* transmittance, const int32_t* last,
                     const float* v_image, const float* v_alpha, float* v_means2d,
                     float* v_conics, float* v_colors, float* v_opacities);

}  // namespace spaceport

namespace spaceport {

// SH coefficients sh (N,K,3) of degree <= 3 to colours (N,3) for camera centre campos (3).
void sh_forward(int64_t n, int64_t k, int degree, const float* sh, const float* means, const float* campos,
                float* colors);

// VJP of sh_forward given its output colors and v_colors (N,3): v_sh (N,K,3), v_means (N,3).
void sh_backward(int64_t n, int64_t k, int degree, const float* sh, const float* means, const float* campos,
                 const float* colors, const float* v_colors, float* v_sh, float* v_means);

}  // namespace spaceport
