// EWA projection of 3D Gaussians to the image plane, and its vector-Jacobian product.
#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace spaceport {
namespace {

using Mat3 = float[3][3];

// Rotation matrix (row-major) of the normalized quaternion q = (w, x, y, z).
void rotation(const float* q, Mat3 r) {
    const float w = q[0], x = q[1], y = q[2], z = q[3];
    r[0][0] = 1.f - 2.f * (y * y + z * z); r[0][1] = 2.f * (x * y - w * z); r[0][2] = 2.f * (x * z + w * y);
    r[1][0] = 2.f * (x * y + w * z); r[1][1] = 1.f - 2.f * (x * x + z * z); r[1][2] = 2.f * (y * z - w * x);
    r[2][0] = 2.f * (x * z - w * y); r[2][1] = 2.f * (y * z + w * x); r[2][2] = 1.f - 2.f * (x * x + y * y);
}

// out = a * b^T
void mul_abt(const Mat3 a, const Mat3 b, Mat3 out) {
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) out[i][j] = a[i][0] * b[j][0] + a[i][1] * b[j][1] + a[i][2] * b[j][2];
}

// out = a * b
void mul_ab(const Mat3 a, const Mat3 b, Mat3 out) {
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) out[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
}

// out = a^T * b
void mul_atb(const Mat3 a, const Mat3 b, Mat3 out) {
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) out[i][j] = a[0][i] * b[0][j] + a[1][i] * b[1][j] + a[2][i] * b[2][j];
}

// Everything the forward pass computes for one Gaussian, kept for the backward pass.
struct Geometry {
    float q[4];          // normalized quaternion
    float qnorm;         // norm of the input quaternion
    Mat3 rot;            // rotation of q
    Mat3 m;              // rot * diag(scale)
    Mat3 cov_c;          // camera-space covariance
    float mc[3];         // camera-space mean
    float tx, ty;        // clamped x, y used in the Jacobian
    bool clamp_x, clamp_y;
    float j00, j02, j11, j12;  // Jacobian of the projection
    float a, b, c;       // 2D covariance with the low-pass added
};

void camera_mean(const Camera& cam, const float* p, float* mc) {
    for (int i = 0; i < 3; ++i)
        mc[i] = cam.R[3 * i] * p[0] + cam.R[3 * i + 1] * p[1] + cam.R[3 * i + 2] * p[2] + cam.t[i];
}

// Computes the geometry of Gaussian (mean p, quaternion q, scale sc), z already checked > 0.
void geometry(const Camera& cam, const Settings& s, const float* p, const float* q, const float* sc,
              Geometry& g) {
    camera_mean(cam, p, g.mc);
    g.qnorm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (int i = 0; i < 4; ++i) g.q[i] = q[i] / g.qnorm;
    rotation(g.q, g.rot);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g.m[i][j] = g.rot[i][j] * sc[j];
    Mat3 cov, w, tmp;
    mul_abt(g.m, g.m, cov);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) w[i][j] = cam.R[3 * i + j];
    mul_ab(w, cov, tmp);
    mul_abt(tmp, w, g.cov_c);

    const float x = g.mc[0], y = g.mc[1], z = g.mc[2], rz = 1.f / z;
    const float half_x = s.fov_clamp * 0.5f * cam.width / cam.fx, half_y = s.fov_clamp * 0.5f * cam.height / cam.fy;
    const float lim_xp = (cam.width - cam.cx) / cam.fx + half_x, lim_xn = cam.cx / cam.fx + half_x;
    const float lim_yp = (cam.height - cam.cy) / cam.fy + half_y, lim_yn = cam.cy / cam.fy + half_y;
    const float ux = x * rz, uy = y * rz;
    g.clamp_x = !(ux <= lim_xp && ux >= -lim_xn);
    g.clamp_y = !(uy <= lim_yp && uy >= -lim_yn);
    g.tx = z * std::min(lim_xp, std::max(-lim_xn, ux));
    g.ty = z * std::min(lim_yp, std::max(-lim_yn, uy));
    g.j00 = cam.fx * rz;
    g.j02 = -cam.fx * g.tx * rz * rz;
    g.j11 = cam.fy * rz;
    g.j12 = -cam.fy * g.ty * rz * rz;
    // cov2d = J cov_c J^T with J = [[j00, 0, j02], [0, j11, j12]]
    const auto& v = g.cov_c;
    const float r0[3] = {g.j00 * v[0][0] + g.j02 * v[2][0], g.j00 * v[0][1] + g.j02 * v[2][1], g.j00 * v[0][2] + g.j02 * v[2][2]};
    const float r1[3] = {g.j11 * v[1][0] + g.j12 * v[2][0], g.j11 * v[1][1] + g.j12 * v[2][1], g.j11 * v[1][2] + g.j12 * v[2][2]};
    g.a = r0[0] * g.j00 + r0[2] * g.j02 + s.eps2d;
    g.b = r0[1] * g.j11 + r0[2] * g.j12;
    g.c = r1[1] * g.j11 + r1[2] * g.j12 + s.eps2d;
}

void cull(int64_t i, int32_t* radii) {
    radii[2 * i] = 0;
    radii[2 * i + 1] = 0;
}

// Gradient w.r.t. the unnormalized quaternion from the gradient w.r.t. its rotation matrix.
void quat_vjp(const Geometry& g, const Mat3 v_r, float* v_q) {
    const float w = g.q[0], x = g.q[1], y = g.q[2], z = g.q[3];
    const float gw = 2.f * (-z * v_r[0][1] + y * v_r[0][2] + z * v_r[1][0] - x * v_r[1][2] - y * v_r[2][0] + x * v_r[2][1]);
    const float gx = 2.f * (y * v_r[0][1] + z * v_r[0][2] + y * v_r[1][0] - 2.f * x * v_r[1][1] - w * v_r[1][2] +
                            z * v_r[2][0] + w * v_r[2][1] - 2.f * x * v_r[2][2]);
    const float gy = 2.f * (-2.f * y * v_r[0][0] + x * v_r[0][1] + w * v_r[0][2] + x * v_r[1][0] + z * v_r[1][2] -
                            w * v_r[2][0] + z * v_r[2][1] - 2.f * y * v_r[2][2]);
    const float gz = 2.f * (-2.f * z * v_r[0][0] - w * v_r[0][1] + x * v_r[0][2] + w * v_r[1][0] - 2.f * z * v_r[1][1] +
                            y * v_r[1][2] + x * v_r[2][0] + y * v_r[2][1]);
    const float dot = w * gw + x * gx + y * gy + z * gz;
    v_q[0] = (gw - w * dot) / g.qnorm;
    v_q[1] = (gx - x * dot) / g.qnorm;
    v_q[2] = (gy - y * dot) / g.qnorm;
    v_q[3] = (gz - z * dot) / g.qnorm;
}

}  // namespace

void project_forward(int64_t n, const float* means, const float* quats, const float* scales,
                     const float* opacities, const Camera& cam, const Settings& s,
                     float* means2d, float* conics, float* depths, int32_t* radii) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
        float mc[3];
        camera_mean(cam, means + 3 * i, mc);
        depths[i] = mc[2];
        means2d[2 * i] = means2d[2 * i + 1] = 0.f;
        conics[3 * i] = conics[3 * i + 1] = conics[3 * i + 2] = 0.f;
        const float op = opacities[i];
        if (!(mc[2] >= s.near_plane && mc[2] <= s.far_plane) || !(op >= s.alpha_min)) {
            cull(i, radii);
            continue;
        }
        Geometry g;
        geometry(cam, s, means + 3 * i, quats + 4 * i, scales + 3 * i, g);
        const float det = g.a * g.c - g.b * g.b;
        if (!(det > 0.f)) {
            cull(i, radii);
            continue;
        }
        const float extent = std::min(s.extent_sigmas, std::sqrt(2.f * std::log(op / s.alpha_min)));
        const float rx = std::ceil(extent * std::sqrt(g.a)), ry = std::ceil(extent * std::sqrt(g.c));
        const float mx = cam.fx * g.mc[0] / g.mc[2] + cam.cx, my = cam.fy * g.mc[1] / g.mc[2] + cam.cy;
        if ((rx <= 0.f && ry <= 0.f) || mx + rx <= 0.f || mx - rx >= cam.width || my + ry <= 0.f ||
            my - ry >= cam.height) {
            cull(i, radii);
            continue;
        }
        radii[2 * i] = (int32_t)rx;
        radii[2 * i + 1] = (int32_t)ry;
        means2d[2 * i] = mx;
        means2d[2 * i + 1] = my;
        conics[3 * i] = g.c / det;
        conics[3 * i + 1] = -g.b / det;
        conics[3 * i + 2] = g.a / det;
    }
}

void project_backward(int64_t n, const float* means, const float* quats, const float* scales,
                      const Camera& cam, const Settings& s, const int32_t* radii,
                      const float* v_means2d, const float* v_conics,
                      float* v_means, float* v_quats, float* v_scales) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
        float* vm = v_means + 3 * i;
        float* vq = v_quats + 4 * i;
        float* vs = v_scales + 3 * i;
        vm[0] = vm[1] = vm[2] = vs[0] = vs[1] = vs[2] = 0.f;
        vq[0] = vq[1] = vq[2] = vq[3] = 0.f;
        if (radii[2 * i] <= 0 && radii[2 * i + 1] <= 0) continue;
        Geometry g;
        geometry(cam, s, means + 3 * i, quats + 4 * i, scales + 3 * i, g);
        const float det = g.a * g.c - g.b * g.b;
        // conic P = inverse(C); v_C = -P V P with V the symmetric gradient w.r.t. P.
        const float p00 = g.c / det, p01 = -g.b / det, p11 = g.a / det;
        const float w00 = v_conics[3 * i], w01 = 0.5f * v_conics[3 * i + 1], w11 = v_conics[3 * i + 2];
        const float t00 = w00 * p00 + w01 * p01, t01 = w00 * p01 + w01 * p11;  // V P
        const float t10 = w01 * p00 + w11 * p01, t11 = w01 * p01 + w11 * p11;
        const float vc00 = -(p00 * t00 + p01 * t10), vc01 = -(p00 * t01 + p01 * t11);
        const float vc11 = -(p01 * t01 + p11 * t11);
        // C = J cov_c J^T: v_cov_c = J^T v_C J, v_J = 2 v_C J cov_c.
        const float jm[2][3] = {{g.j00, 0.f, g.j02}, {0.f, g.j11, g.j12}};
        const float vcm[2][2] = {{vc00, vc01}, {vc01, vc11}};
        float vj[2][3], vcj[2][3];
        for (int r = 0; r < 2; ++r)
            for (int k = 0; k < 3; ++k) vcj[r][k] = vcm[r][0] * jm[0][k] + vcm[r][1] * jm[1][k];
        for (int r = 0; r < 2; ++r)
            for (int k = 0; k < 3; ++k)
                vj[r][k] = 2.f * (vcj[r][0] * g.cov_c[0][k] + vcj[r][1] * g.cov_c[1][k] + vcj[r][2] * g.cov_c[2][k]);
        Mat3 v_cov_c;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) v_cov_c[a][b] = jm[0][a] * vcj[0][b] + jm[1][a] * vcj[1][b];

        const float x = g.mc[0], y = g.mc[1], z = g.mc[2], rz = 1.f / z, rz2 = rz * rz, rz3 = rz2 * rz;
        const float gx = v_means2d[2 * i], gy = v_means2d[2 * i + 1];
        float v_mc[3] = {cam.fx * rz * gx, cam.fy * rz * gy, -(cam.fx * x * gx + cam.fy * y * gy) * rz2};
        v_mc[2] += -cam.fx * rz2 * vj[0][0] - cam.fy * rz2 * vj[1][1];
        if (g.clamp_x) v_mc[2] += cam.fx * g.tx * rz3 * vj[0][2];
        else { v_mc[0] += -cam.fx * rz2 * vj[0][2]; v_mc[2] += 2.f * cam.fx * g.tx * rz3 * vj[0][2]; }
        if (g.clamp_y) v_mc[2] += cam.fy * g.ty * rz3 * vj[1][2];
        else { v_mc[1] += -cam.fy * rz2 * vj[1][2]; v_mc[2] += 2.f * cam.fy * g.ty * rz3 * vj[1][2]; }
        for (int k = 0; k < 3; ++k) vm[k] = cam.R[k] * v_mc[0] + cam.R[3 + k] * v_mc[1] + cam.R[6 + k] * v_mc[2];

        // cov_c = W cov W^T: v_cov = W^T v_cov_c W; cov = M M^T: v_M = 2 v_cov M.
        Mat3 w, tmp, v_cov, v_m, v_r;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) w[a][b] = cam.R[3 * a + b];
        mul_atb(w, v_cov_c, tmp);
        mul_ab(tmp, w, v_cov);
        mul_ab(v_cov, g.m, v_m);
        const float* sc = scales + 3 * i;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) {
                v_m[a][b] *= 2.f;
                v_r[a][b] = v_m[a][b] * sc[b];
            }
        for (int b = 0; b < 3; ++b) vs[b] = v_m[0][b] * g.rot[0][b] + v_m[1][b] * g.rot[1][b] + v_m[2][b] * g.rot[2][b];
        quat_vjp(g, v_r, vq);
    }
}

}  // namespace spaceport
