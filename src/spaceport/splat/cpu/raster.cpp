// Tile binning, depth sort, front-to-back compositing and its backward pass.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels.h"

namespace spaceport {
namespace {

// Inclusive range [lo, hi] of tiles (or pixels, with cell = 1) covered by centre m +- r.
struct Span {
    int lo, hi;
};

Span tile_span(float m, float r, int cell, int count) {
    const float lo = std::floor((m - r) / cell), hi = std::ceil((m + r) / cell);
    return {(int)std::max(0.f, std::min(lo, (float)count)), (int)std::max(0.f, std::min(hi, (float)count)) - 1};
}

// (int)v clamped to [lo, hi]; NaN gives lo. Casting a float outside the int range is undefined
// (x86 gives INT_MIN), which would index far outside the tile: clamp before casting.
inline int clamp_to_int(float v, int lo, int hi) {
    if (!(v >= (float)lo)) return lo;
    if (v > (float)hi) return hi;
    return (int)v;
}

// Pixels of [first, first + size) whose centres may lie inside the box m +- r. One pixel of
// margin: outside the box alpha < alpha_min, so this only skips work, never a contribution.
Span pixel_span(float m, float r, int first, int size) {
    const float lo = std::floor(m - r - 1.f), hi = std::ceil(m + r + 1.f);
    return {clamp_to_int(lo, first, first + size), clamp_to_int(hi, first - 1, first + size - 1)};
}

// Pixels of row span x (within box span `box`) whose centres may have alpha >= alpha_min for a
// Gaussian at mx with conic con, at vertical offset dy = my - row centre. alpha >= alpha_min
// needs sigma <= level = ln(opacity / alpha_min); level is inflated and the ends rounded
// outwards, so this only skips pixels whose alpha is below alpha_min. Empty: lo > hi.
Span row_span(float mx, const float* con, float level, float dy, Span box) {
    const float lv = level * 1.001f + 0.01f;
    // 0.5 a dx^2 + b dy dx + 0.5 c dy^2 <= lv, dx = mx - px
    const float bdy = con[1] * dy;
    const float disc = bdy * bdy - con[0] * (con[2] * dy * dy - 2.f * lv);
    if (disc < 0.f) return {1, 0};
    const float root = std::sqrt(disc);
    const float dx_lo = (-bdy - root) / con[0], dx_hi = (-bdy + root) / con[0];
    const float lo = std::floor(mx - dx_hi - 0.5f), hi = std::ceil(mx - dx_lo - 0.5f);
    return {clamp_to_int(lo, box.lo, box.hi + 1), clamp_to_int(hi, box.lo - 1, box.hi)};
}

// Exponent of a Gaussian with conic (a, b, c) at offset (dx, dy) = mean - pixel centre.
inline float gauss_sigma(const float* con, float dx, float dy) {
    return 0.5f * (con[0] * dx * dx + con[2] * dy * dy) + con[1] * dx * dy;
}

// The pixel rectangle of tile t: origin (x0, y0) and size (w, h).
struct TileRect {
    int x0, y0, w, h;
};

TileRect tile_rect(int t, int tiles_x, const Camera& cam, int tile) {
    const int x0 = (t % tiles_x) * tile, y0 = (t / tiles_x) * tile;
    return {x0, y0, std::min(tile, cam.width - x0), std::min(tile, cam.height - y0)};
}

// Calls visit(p, dx, dy) for each pixel of `rect` whose centre may have alpha >= alpha_min for
// the Gaussian at (mx, my) with conic con, opacity op and box half-sizes (rx, ry): p is the
// pixel's index in the tile (row stride `tile`), (dx, dy) = mean - pixel centre.
template <typename Visit>
inline void for_each_covered_pixel(const Settings& s, const TileRect& rect, float mx, float my, float op,
                                   const float* con, float rx, float ry, Visit visit) {
    const Span sx = pixel_span(mx, rx, rect.x0, rect.w);
    const Span sy = pixel_span(my, ry, rect.y0, rect.h);
    const float level = std::log(op / s.alpha_min);
    for (int py = sy.lo; py <= sy.hi; ++py) {
        const float dy = my - (py + 0.5f);
        const Span row = row_span(mx, con, level, dy, sx);
        for (int px = row.lo; px <= row.hi; ++px)
            visit((py - rect.y0) * s.tile + (px - rect.x0), mx - (px + 0.5f), dy);
    }
}

}  // namespace

void bin_gaussians(int64_t n, const float* means2d, const float* depths, const int32_t* radii,
                   const Camera& cam, const Settings& s, TileBins& bins) {
    bins.tiles_x = (cam.width + s.tile - 1) / s.tile;
    bins.tiles_y = (cam.height + s.tile - 1) / s.tile;
    const int n_tiles = bins.tiles_x * bins.tiles_y;
    std::vector<int32_t> order;
    order.reserve(n);
    for (int64_t i = 0; i < n; ++i)
        if (radii[2 * i] > 0 || radii[2 * i + 1] > 0) order.push_back((int32_t)i);
    std::sort(order.begin(), order.end(), [depths](int32_t a, int32_t b) {
        return depths[a] < depths[b] || (depths[a] == depths[b] && a < b);
    });
    std::vector<Span> xs(order.size()), ys(order.size());
    std::vector<int32_t> counts(n_tiles + 1, 0);
    for (size_t k = 0; k < order.size(); ++k) {
        const int32_t i = order[k];
        xs[k] = tile_span(means2d[2 * i], (float)radii[2 * i], s.tile, bins.tiles_x);
        ys[k] = tile_span(means2d[2 * i + 1], (float)radii[2 * i + 1], s.tile, bins.tiles_y);
        for (int ty = ys[k].lo; ty <= ys[k].hi; ++ty)
            for (int tx = xs[k].lo; tx <= xs[k].hi; ++tx) ++counts[ty * bins.tiles_x + tx + 1];
    }
    std::partial_sum(counts.begin(), counts.end(), counts.begin());
    bins.offsets = counts;
    bins.ids.assign(counts[n_tiles], 0);
    // Scatter in depth order: every tile's list comes out sorted by depth.
    for (size_t k = 0; k < order.size(); ++k)
        for (int ty = ys[k].lo; ty <= ys[k].hi; ++ty)
            for (int tx = xs[k].lo; tx <= xs[k].hi; ++tx) bins.ids[counts[ty * bins.tiles_x + tx]++] = order[k];
}

namespace {

// Per-pixel state of the forward sweep (front to back) inside one tile.
struct TileAccum {
    std::vector<float> t, c;  // transmittance (tile^2), blended colour (3 tile^2)
    std::vector<int32_t> last;
    std::vector<char> done;
    int n_done = 0;

    explicit TileAccum(int tp) : t(tp), c(3 * tp), last(tp), done(tp) {}

    void reset() {
        std::fill(t.begin(), t.end(), 1.f);
        std::fill(c.begin(), c.end(), 0.f);
        std::fill(last.begin(), last.end(), -1);
        std::fill(done.begin(), done.end(), 0);
        n_done = 0;
    }
};

// Blends Gaussian g (entry k of the tile list) into the tile's pixels inside its ellipse.
void gauss_forward(const Settings& s, const TileRect& rect, int k, float mx, float my, float op, const float* con,
                   const float* col, float rx, float ry, TileAccum& acc) {
    for_each_covered_pixel(s, rect, mx, my, op, con, rx, ry, [&](int p, float dx, float dy) {
        if (acc.done[p]) return;
        const float sigma = gauss_sigma(con, dx, dy);
        const float a = std::min(s.alpha_max, op * std::exp(-sigma));
        if (sigma < 0.f || a < s.alpha_min) return;
        const float next_t = acc.t[p] * (1.f - a);
        if (next_t <= s.transmittance_min) {  // exclusive stop: g is not blended here
            acc.done[p] = 1;
            ++acc.n_done;
            return;
        }
        const float w = a * acc.t[p];
        for (int ch = 0; ch < 3; ++ch) acc.c[3 * p + ch] += w * col[ch];
        acc.t[p] = next_t;
        acc.last[p] = k;
    });
}

void store_tile(const Camera& cam, const Settings& s, const TileRect& rect, const TileAccum& acc,
                const float* background, float* image, float* alpha, float* transmittance, int32_t* last) {
    for (int py = 0; py < rect.h; ++py)
        for (int px = 0; px < rect.w; ++px) {
            const int p = py * s.tile + px;
            const int64_t o = (int64_t)(rect.y0 + py) * cam.width + rect.x0 + px;
            for (int ch = 0; ch < 3; ++ch)
                image[3 * o + ch] = acc.c[3 * p + ch] + (background ? acc.t[p] * background[ch] : 0.f);
            alpha[o] = 1.f - acc.t[p];
            transmittance[o] = acc.t[p];
            last[o] = acc.last[p];
        }
}

}  // namespace

void raster_forward(const Camera& cam, const Settings& s, const int32_t* offsets, const int32_t* ids,
                    const float* means2d, const float* conics, const float* opacities,
                    const float* colors, const int32_t* radii, const float* background,
                    float* image, float* alpha, float* transmittance, int32_t* last) {
    const int tiles_x = (cam.width + s.tile - 1) / s.tile, tiles_y = (cam.height + s.tile - 1) / s.tile;
    const bool parallel = offsets[tiles_x * tiles_y] > kParallelIsects;
#pragma omp parallel if (parallel)
    {
        TileAccum acc(s.tile * s.tile);
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tiles_x * tiles_y; ++t) {
            const TileRect rect = tile_rect(t, tiles_x, cam, s.tile);
            acc.reset();
            const int n_pix = rect.w * rect.h;
            for (int k = offsets[t]; k < offsets[t + 1] && acc.n_done < n_pix; ++k) {
                const int32_t g = ids[k];
                gauss_forward(s, rect, k, means2d[2 * g], means2d[2 * g + 1], opacities[g], conics + 3 * g,
                              colors + 3 * g, (float)radii[2 * g], (float)radii[2 * g + 1], acc);
            }
            store_tile(cam, s, rect, acc, background, image, alpha, transmittance, last);
        }
    }
}

namespace {

// Per-pixel state of the backward sweep (back to front) inside one tile.
struct PixelState {
    double t;        // transmittance in front of the current Gaussian
    float s[3];      // colour blended behind the current Gaussian, per unit transmittance
    float dc[3];     // dL/d image
    float t_final;   // transmittance after the last blended Gaussian
    float bg_term;   // (dL/d alpha_out - background . dL/d image) * t_final
    int32_t last;    // index of the last blended Gaussian, -1 if none
};

// Gradient accumulators of one Gaussian over one tile.
struct GaussGrad {
    float mean2d[2] = {0.f, 0.f}, conic[3] = {0.f, 0.f, 0.f}, color[3] = {0.f, 0.f, 0.f}, opacity = 0.f;
};

void load_tile_state(const Camera& cam, const Settings& s, const TileRect& rect, const float* background,
                     const float* transmittance, const int32_t* last, const float* v_image,
                     const float* v_alpha, std::vector<PixelState>& px) {
    for (int py = 0; py < rect.h; ++py)
        for (int qx = 0; qx < rect.w; ++qx) {
            PixelState& st = px[py * s.tile + qx];
            const int64_t o = (int64_t)(rect.y0 + py) * cam.width + rect.x0 + qx;
            st.t = transmittance[o];
            st.t_final = transmittance[o];
            st.last = last[o];
            float bg_dot = 0.f;
            for (int ch = 0; ch < 3; ++ch) {
                st.s[ch] = 0.f;
                st.dc[ch] = v_image[3 * o + ch];
                bg_dot += background ? background[ch] * st.dc[ch] : 0.f;
            }
            st.bg_term = (v_alpha[o] - bg_dot) * st.t_final;
        }
}

// Accumulates the gradient of Gaussian g at entry k of the tile list over the tile's pixels.
void gauss_backward(const Settings& s, const TileRect& rect, int k, float mx, float my, float op,
                    const float* con, const float* col, float rx, float ry, std::vector<PixelState>& px,
                    GaussGrad& gg) {
    for_each_covered_pixel(s, rect, mx, my, op, con, rx, ry, [&](int p, float dx, float dy) {
        PixelState& st = px[p];
        if (k > st.last) return;
        const float sigma = gauss_sigma(con, dx, dy);
        const float vis = std::exp(-sigma);
        const float a = std::min(s.alpha_max, op * vis);
        if (sigma < 0.f || a < s.alpha_min) return;
        const float one_minus = 1.f - a;
        st.t /= one_minus;  // transmittance in front of this Gaussian
        const float t = (float)st.t;
        float v_a = 0.f;
        for (int ch = 0; ch < 3; ++ch) {
            gg.color[ch] += a * t * st.dc[ch];
            v_a += (col[ch] - st.s[ch]) * t * st.dc[ch];
            st.s[ch] = a * col[ch] + one_minus * st.s[ch];
        }
        v_a += st.bg_term / one_minus;
        if (op * vis <= s.alpha_max) {
            gg.opacity += v_a * vis;
            const float v_sigma = -v_a * a;
            gg.conic[0] += 0.5f * v_sigma * dx * dx;
            gg.conic[1] += v_sigma * dx * dy;
            gg.conic[2] += 0.5f * v_sigma * dy * dy;
            gg.mean2d[0] += v_sigma * (con[0] * dx + con[1] * dy);
            gg.mean2d[1] += v_sigma * (con[1] * dx + con[2] * dy);
        }
    });
}

}  // namespace

void raster_backward(int64_t n, const Camera& cam, const Settings& s, const int32_t* offsets,
                     const int32_t* ids, const float* means2d, const float* conics,
                     const float* opacities, const float* colors, const int32_t* radii,
                     const float* background, const float* transmittance, const int32_t* last,
                     const float* v_image, const float* v_alpha, float* v_means2d,
                     float* v_conics, float* v_colors, float* v_opacities) {
    const int tiles_x = (cam.width + s.tile - 1) / s.tile, tiles_y = (cam.height + s.tile - 1) / s.tile;
    const int n_threads = offsets[tiles_x * tiles_y] > kParallelIsects ? omp_get_max_threads() : 1;
    constexpr int kStride = 9;  // mean2d 2, conic 3, color 3, opacity 1
    std::vector<float> partial((size_t)n_threads * n * kStride, 0.f);
#pragma omp parallel num_threads(n_threads)
    {
        std::vector<PixelState> px(s.tile * s.tile);
        float* mine = partial.data() + (size_t)omp_get_thread_num() * n * kStride;
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tiles_x * tiles_y; ++t) {
            const TileRect rect = tile_rect(t, tiles_x, cam, s.tile);
            load_tile_state(cam, s, rect, background, transmittance, last, v_image, v_alpha, px);
            int32_t max_last = -1;
            for (int py = 0; py < rect.h; ++py)
                for (int qx = 0; qx < rect.w; ++qx) max_last = std::max(max_last, px[py * s.tile + qx].last);
            for (int k = max_last; k >= offsets[t]; --k) {
                const int32_t g = ids[k];
                GaussGrad gg;
                gauss_backward(s, rect, k, means2d[2 * g], means2d[2 * g + 1], opacities[g], conics + 3 * g,
                               colors + 3 * g, (float)radii[2 * g], (float)radii[2 * g + 1], px, gg);
                float* out = mine + (size_t)g * kStride;
                out[0] += gg.mean2d[0]; out[1] += gg.mean2d[1];
                out[2] += gg.conic[0]; out[3] += gg.conic[1]; out[4] += gg.conic[2];
                out[5] += gg.color[0]; out[6] += gg.color[1]; out[7] += gg.color[2];
                out[8] += gg.opacity;
            }
        }
#pragma omp for schedule(static)
        for (int64_t g = 0; g < n; ++g) {
            float sum[kStride] = {0.f};
            for (int th = 0; th < n_threads; ++th)
                for (int j = 0; j < kStride; ++j) sum[j] += partial[((size_t)th * n + g) * kStride + j];
            v_means2d[2 * g] = sum[0]; v_means2d[2 * g + 1] = sum[1];
            v_conics[3 * g] = sum[2]; v_conics[3 * g + 1] = sum[3]; v_conics[3 * g + 2] = sum[4];
            v_colors[3 * g] = sum[5]; v_colors[3 * g + 1] = sum[6]; v_colors[3 * g + 2] = sum[7];
            v_opacities[g] = sum[8];
        }
    }
}

}  // namespace spaceport
