// Spherical harmonics (degree <= 3) to RGB, and the vector-Jacobian product, per Gaussian.
// colour = sum_k sh[k] * B_k(d) + 0.5, clamped at 0, d = unit(mean - camera centre).
#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace spaceport {
namespace {

constexpr float C0 = 0.28209479177387814f, C1 = 0.4886025119029199f;
constexpr float C2[5] = {1.0925484305920792f, -1.0925484305920792f, 0.31539156525252005f, -1.0925484305920792f,
                         0.5462742152960396f};
constexpr float C3[7] = {-0.5900435899266435f, 2.890611442640554f, -0.4570457994644658f, 0.3731763325901154f,
                         -0.4570457994644658f, 1.445305721320277f, -0.5900435899266435f};

// Basis values b[0 .. (degree+1)^2) at unit direction (x, y, z); gradients g[k] (d b_k / d(x,y,z)) if g.
void basis(float x, float y, float z, int degree, float* b, float (*g)[3]) {
    b[0] = C0;
    if (g) g[0][0] = g[0][1] = g[0][2] = 0.f;
    if (degree < 1) return;
    b[1] = -C1 * y; b[2] = C1 * z; b[3] = -C1 * x;
    if (g) {
        g[1][0] = 0.f; g[1][1] = -C1; g[1][2] = 0.f;
        g[2][0] = 0.f; g[2][1] = 0.f; g[2][2] = C1;
        g[3][0] = -C1; g[3][1] = 0.f; g[3][2] = 0.f;
    }
    if (degree < 2) return;
    const float xx = x * x, yy = y * y, zz = z * z;
    b[4] = C2[0] * x * y; b[5] = C2[1] * y * z; b[6] = C2[2] * (2.f * zz - xx - yy);
    b[7] = C2[3] * x * z; b[8] = C2[4] * (xx - yy);
    if (g) {
        g[4][0] = C2[0] * y; g[4][1] = C2[0] * x; g[4][2] = 0.f;
        g[5][0] = 0.f; g[5][1] = C2[1] * z; g[5][2] = C2[1] * y;
        g[6][0] = -2.f * C2[2] * x; g[6][1] = -2.f * C2[2] * y; g[6][2] = 4.f * C2[2] * z;
        g[7][0] = C2[3] * z; g[7][1] = 0.f; g[7][2] = C2[3] * x;
        g[8][0] = 2.f * C2[4] * x; g[8][1] = -2.f * C2[4] * y; g[8][2] = 0.f;
    }
    if (degree < 3) return;
    b[9] = C3[0] * y * (3.f * xx - yy);
    b[10] = C3[1] * x * y * z;
    b[11] = C3[2] * y * (4.f * zz - xx - yy);
    b[12] = C3[3] * z * (2.f * zz - 3.f * xx - 3.f * yy);
    b[13] = C3[4] * x * (4.f * zz - xx - yy);
    b[14] = C3[5] * z * (xx - yy);
    b[15] = C3[6] * x * (xx - 3.f * yy);
    if (g) {
        g[9][0] = C3[0] * 6.f * x * y; g[9][1] = C3[0] * (3.f * xx - 3.f * yy); g[9][2] = 0.f;
        g[10][0] = C3[1] * y * z; g[10][1] = C3[1] * x * z; g[10][2] = C3[1] * x * y;
        g[11][0] = C3[2] * -2.f * x * y; g[11][1] = C3[2] * (4.f * zz - xx - 3.f * yy); g[11][2] = C3[2] * 8.f * y * z;
        g[12][0] = C3[3] * -6.f * x * z; g[12][1] = C3[3] * -6.f * y * z; g[12][2] = C3[3] * (6.f * zz - 3.f * xx - 3.f * yy);
        g[13][0] = C3[4] * (4.f * zz - 3.f * xx - yy); g[13][1] = C3[4] * -2.f * x * y; g[13][2] = C3[4] * 8.f * x * z;
        g[14][0] = C3[5] * 2.f * x * z; g[14][1] = C3[5] * -2.f * y * z; g[14][2] = C3[5] * (xx - yy);
        g[15][0] = C3[6] * (3.f * xx - 3.f * yy); g[15][1] = C3[6] * -6.f * x * y; g[15][2] = 0.f;
    }
}

// Unit direction from the camera centre to mean m; returns the distance.
float direction(const float* m, const float* campos, float* d) {
    const float v[3] = {m[0] - campos[0], m[1] - campos[1], m[2] - campos[2]};
    const float len = std::max(std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]), 1e-12f);
    for (int i = 0; i < 3; ++i) d[i] = v[i] / len;
    return len;
}

}  // namespace

void sh_forward(int64_t n, int64_t k, int degree, const float* sh, const float* means, const float* campos,
                float* colors) {
    const int nb = (degree + 1) * (degree + 1);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
        float d[3], b[16];
        direction(means + 3 * i, campos, d);
        basis(d[0], d[1], d[2], degree, b, nullptr);
        const float* c = sh + i * k * 3;
        for (int ch = 0; ch < 3; ++ch) {
            float sum = 0.f;
            for (int j = 0; j < nb; ++j) sum += b[j] * c[3 * j + ch];
            colors[3 * i + ch] = std::max(sum + 0.5f, 0.f);
        }
    }
}

void sh_backward(int64_t n, int64_t k, int degree, const float* sh, const float* means, const float* campos,
                 const float* colors, const float* v_colors, float* v_sh, float* v_means) {
    const int nb = (degree + 1) * (degree + 1);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
        float d[3], b[16], g[16][3];
        const float len = direction(means + 3 * i, campos, d);
        basis(d[0], d[1], d[2], degree, b, g);
        const float* c = sh + i * k * 3;
        float* vs = v_sh + i * k * 3;
        std::fill(vs, vs + k * 3, 0.f);
        float vc[3];
        for (int ch = 0; ch < 3; ++ch) vc[ch] = colors[3 * i + ch] > 0.f ? v_colors[3 * i + ch] : 0.f;
        float vd[3] = {0.f, 0.f, 0.f};
        for (int j = 0; j < nb; ++j) {
            const float w = c[3 * j] * vc[0] + c[3 * j + 1] * vc[1] + c[3 * j + 2] * vc[2];
            for (int ch = 0; ch < 3; ++ch) vs[3 * j + ch] = b[j] * vc[ch];
            for (int a = 0; a < 3; ++a) vd[a] += g[j][a] * w;
        }
        // d = v / |v|: dL/dv = (vd - d (d . vd)) / |v|
        const float dot = d[0] * vd[0] + d[1] * vd[1] + d[2] * vd[2];
        for (int a = 0; a < 3; ++a) v_means[3 * i + a] = (vd[a] - d[a] * dot) / len;
    }
}

}  // namespace spaceport
