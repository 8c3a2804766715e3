// AVX2 kernels. Compiled with -mavx2 for this file only and chosen at run time (cpu.cpp), so the
// library still runs on CPUs without AVX2. Integer arithmetic identical to passes_scalar.cpp:
// pmaddwd sums pairs of 16-bit products into 32 bits exactly, and the same rounding and clamping
// follow, so every path gives the same bytes (tests compare them).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "fastbatch/kernels.hpp"

namespace fastbatch {
namespace {

inline std::uint8_t clip_fixed(std::int32_t acc, int precision) {
    return static_cast<std::uint8_t>(std::clamp(acc >> precision, 0, 255));
}

// ---- Single-row horizontal kernels with guarded loads and scalar tails: for the rows left over
// after blocks of four, and for sources narrower than the kernel (plan.full_windows false).

// Horizontal pass, 3 or 4 channels: four taps per step. The four pixels' bytes are shuffled into
// pairs (c of tap t, c of tap t+1), widened to 16 bits and multiplied by (k_t, k_t+1) pairs:
// lane 0 sums taps t, t+1 and lane 1 taps t+2, t+3, per channel.
// Step: bytes a source pixel (4 for padded RGB, whose fourth byte is summed but not stored).
template <int C, int Step = C>
void horizontal_avx2_rgb(const std::uint8_t* src, std::uint8_t* dst, const AxisPlan& plan, std::size_t src_bytes) {
    static_assert((C == 3 || C == 4) && (Step == C || Step == 4));
    const __m128i pairs = Step == 4 ? _mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15)
                                 : _mm_setr_epi8(0, 3, 1, 4, 2, 5, -1, -1, 6, 9, 7, 10, 8, 11, -1, -1);
    const __m256i coeff_spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const __m128i shift = _mm_cvtsi32_si128(plan.precision);
    const std::int32_t half = std::int32_t{1} << (plan.precision - 1);
    for (int x = 0; x < plan.out_size; ++x) {
        const std::int16_t* k = plan.coeffs_of(x);
        const std::size_t first = static_cast<std::size_t>(plan.start[x]) * Step;
        const std::uint8_t* s = src + first;
        const int count = plan.count[x];
        __m256i acc = _mm256_setzero_si256();
        int t = 0;
        // A 16-byte load at tap t must stay inside the row.
        for (; t + 4 <= count && first + static_cast<std::size_t>(t) * Step + 16 <= src_bytes; t += 4) {
            __m128i px = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + t * Step)), pairs);
            __m256i wide = _mm256_cvtepu8_epi16(px);
            // (k_t, k_t+1) in every 32-bit slot of lane 0, (k_t+2, k_t+3) in lane 1.
            __m256i kk = _mm256_permutevar8x32_epi32(
                _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + t))), coeff_spread);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(wide, kk));
        }
        __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        alignas(16) std::int32_t lanes[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), sum);
        for (; t < count; ++t) {
            for (int c = 0; c < C; ++c) lanes[c] += s[t * Step + c] * k[t];
        }
        for (int c = 0; c < C; ++c) dst[x * C + c] = clip_fixed(lanes[c] + half, plan.precision);
    }
}

// Horizontal pass, 1 channel: sixteen taps per step, one multiply-add per pair of taps.
void horizontal_avx2_gray(const std::uint8_t* src, std::uint8_t* dst, const AxisPlan& plan, std::size_t) {
    const std::int32_t half = std::int32_t{1} << (plan.precision - 1);
    for (int x = 0; x < plan.out_size; ++x) {
        const std::int16_t* k = plan.coeffs_of(x);
        const std::uint8_t* s = src + plan.start[x];
        const int count = plan.count[x];
        __m256i acc = _mm256_setzero_si256();
        int t = 0;
        for (; t + 16 <= count; t += 16) {
            __m256i px = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + t)));
            __m256i kk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + t));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(px, kk));
        }
        __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        for (; t + 8 <= count; t += 8) {
            __m128i px = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + t)));
            __m128i kk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k + t));
            sum = _mm_add_epi32(sum, _mm_madd_epi16(px, kk));
        }
        sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
        sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
        std::int32_t total = _mm_cvtsi128_si32(sum) + half;
        for (; t < count; ++t) total += s[t] * k[t];
        dst[x] = clip_fixed(total, plan.precision);
    }
}

// Horizontal pass, 2 channels (grey + alpha): four taps per step in 128 bits.
void horizontal_avx2_gray_alpha(const std::uint8_t* src, std::uint8_t* dst, const AxisPlan& plan,
                                std::size_t src_bytes) {
    const __m128i pairs = _mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    const std::int32_t half = std::int32_t{1} << (plan.precision - 1);
    for (int x = 0; x < plan.out_size; ++x) {
        const std::int16_t* k = plan.coeffs_of(x);
        const std::size_t first = static_cast<std::size_t>(plan.start[x]) * 2;
        const std::uint8_t* s = src + first;
        const int count = plan.count[x];
        __m128i acc = _mm_setzero_si128();
        int t = 0;
        for (; t + 4 <= count && first + static_cast<std::size_t>(t) * 2 + 8 <= src_bytes; t += 4) {
            __m128i px = _mm_cvtepu8_epi16(_mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + t * 2)), pairs));
            // (k_t, k_t+1) twice, then (k_t+2, k_t+3) twice: matches (g, g) (a, a) (g, g) (a, a) pairs.
            __m128i kk = _mm_shuffle_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + t)), _MM_SHUFFLE(1, 1, 0, 0));
            acc = _mm_add_epi32(acc, _mm_madd_epi16(px, kk));
        }
        alignas(16) std::int32_t lanes[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
        std::int32_t grey = lanes[0] + lanes[2] + half, alpha = lanes[1] + lanes[3] + half;
        for (; t < count; ++t) {
            grey += s[t * 2] * k[t];
            alpha += s[t * 2 + 1] * k[t];
        }
        dst[x * 2] = clip_fixed(grey, plan.precision);
        dst[x * 2 + 1] = clip_fixed(alpha, plan.precision);
    }
}

// ---- Fast horizontal kernels: four rows per call, every window `taps` wide (plan.full_windows),
// so no tail loops; each coefficient group is loaded once for the four rows.

// The plan's fields copied out once: the kernels' byte stores may alias anything, so members
// read through the plan would be reloaded on every output.
struct PlanFields {
    explicit PlanFields(const AxisPlan& plan)
        : taps(plan.taps), out_size(plan.out_size), starts(plan.start.data()), coeffs(plan.coeffs.data()) {}
    int taps, out_size;
    const std::int32_t* starts;
    const std::int16_t* coeffs;
};

inline __m128i fold(__m256i v) { return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); }

// Rounds, shifts and clamps four int32 sums; returns them as bytes in the low 32 bits.
inline std::uint32_t finish4(__m128i sums, __m128i half, __m128i shift) {
    __m128i v = _mm_sra_epi32(_mm_add_epi32(sums, half), shift);
    v = _mm_packs_epi32(v, v);
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(v, v)));
}

// 3 or 4 channels: per group of four taps, the group's bytes are loaded into both 128-bit lanes
// and one in-lane shuffle both pairs and zero-extends them: lane 0 holds (channel c of tap t,
// of tap t+1) as 16-bit pairs, lane 1 the same for taps t+2, t+3. One multiply-add by
// (k_t, k_t+1 | k_t+2, k_t+3) then sums two taps per channel per lane. Three channels read 16
// bytes for 12; the group that would read past the row is loaded through a small copy instead.
// Step: bytes a source pixel (4 for padded RGB: four whole pixels a load, no tail copy, the fourth
// byte's sum dropped at the store).
template <int C, int Step = C>
void horizontal4_rgb(const std::uint8_t* src, std::ptrdiff_t stride, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                     const AxisPlan& plan) {
    constexpr char Z = -1;  // pshufb: zero byte
    const __m256i pairs = Step == 4 ? _mm256_setr_epi8(0, Z, 4, Z, 1, Z, 5, Z, 2, Z, 6, Z, 3, Z, 7, Z,  //
                                                    8, Z, 12, Z, 9, Z, 13, Z, 10, Z, 14, Z, 11, Z, 15, Z)
                                 : _mm256_setr_epi8(0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, Z, Z, Z, Z,  //
                                                    6, Z, 9, Z, 7, Z, 10, Z, 8, Z, 11, Z, Z, Z, Z, Z);
    const __m256i spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const __m128i shift = _mm_cvtsi32_si128(plan.precision);
    const __m128i half = _mm_set1_epi32(1 << (plan.precision - 1));
    const std::size_t row_bytes = static_cast<std::size_t>(plan.in_size) * Step;
    const PlanFields f(plan);
    const int taps = f.taps, out_size = f.out_size;
    const std::int32_t* const starts = f.starts;
    const std::int16_t* const coeffs = f.coeffs;
    auto widen = [&](const std::uint8_t* p) {
        return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
                                   pairs);
    };
    // Outputs whose every 16-byte load stays inside the row come first (starts only grow), so their
    // loop has no tail to test for: 3-channel rows ran 0-10% faster (A/B in one process, 1 thread).
    int safe_outputs = out_size;
    if constexpr (Step == 3) {
        while (safe_outputs > 0 &&
               static_cast<std::size_t>(starts[safe_outputs - 1]) * 3 + static_cast<std::size_t>(taps) * 3 + 4 > row_bytes) {
            --safe_outputs;
        }
    }
    auto outputs = [&](int x_begin, int x_end, auto with_tail) {
        for (int x = x_begin; x < x_end; ++x) {
            const std::int16_t* k = coeffs + static_cast<std::size_t>(x) * taps;
            const std::uint8_t* s0 = src + static_cast<std::size_t>(starts[x]) * Step;
            // The last group of a 3-channel row end is loaded through a copy of its 12 bytes.
            const int safe_taps = decltype(with_tail)::value ? taps - 4 : taps;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < safe_taps; t += 4) {
                const __m256i kk = _mm256_permutevar8x32_epi32(
                    _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + t))), spread);
                const std::uint8_t* p = s0 + t * Step;
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(widen(p), kk));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(widen(p + stride), kk));
                a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(widen(p + 2 * stride), kk));
                a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(widen(p + 3 * stride), kk));
            }
            if constexpr (decltype(with_tail)::value) {
                const __m256i kk = _mm256_permutevar8x32_epi32(
                    _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + safe_taps))), spread);
                // Written out per row: taking the accumulators' addresses would keep them in memory.
                auto tail = [&](const std::uint8_t* p) {
                    alignas(16) std::uint8_t copy[16] = {};
                    std::memcpy(copy, p, 12);
                    return _mm256_madd_epi16(widen(copy), kk);
                };
                const std::uint8_t* p = s0 + safe_taps * Step;
                a0 = _mm256_add_epi32(a0, tail(p));
                a1 = _mm256_add_epi32(a1, tail(p + stride));
                a2 = _mm256_add_epi32(a2, tail(p + 2 * stride));
                a3 = _mm256_add_epi32(a3, tail(p + 3 * stride));
            }
            const std::uint32_t o0 = finish4(fold(a0), half, shift), o1 = finish4(fold(a1), half, shift);
            const std::uint32_t o2 = finish4(fold(a2), half, shift), o3 = finish4(fold(a3), half, shift);
            std::memcpy(dst + x * C, &o0, C);
            std::memcpy(dst + dst_stride + x * C, &o1, C);
            std::memcpy(dst + 2 * dst_stride + x * C, &o2, C);
            std::memcpy(dst + 3 * dst_stride + x * C, &o3, C);
        }
    };
    outputs(0, safe_outputs, std::false_type{});
    outputs(safe_outputs, out_size, std::true_type{});
}

// 1 channel: sixteen taps per multiply-add (the plan pads taps to a multiple of 16 for one
// channel). Two outputs of four rows at a time: their eight sums are reduced together with
// horizontal adds and stored two bytes per row, which halves the per-output overhead.
void horizontal4_gray(const std::uint8_t* src, std::ptrdiff_t stride, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                      const AxisPlan& plan) {
    const __m128i shift = _mm_cvtsi32_si128(plan.precision);
    const __m256i half = _mm256_set1_epi32(1 << (plan.precision - 1));
    const PlanFields f(plan);
    const int taps = f.taps, out_size = f.out_size;
    const std::int32_t* const starts = f.starts;
    const std::int16_t* const coeffs = f.coeffs;
    auto px = [](const std::uint8_t* q) {
        return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    };
    // Sums of each accumulator's eight lanes, as [row0, row1, row2, row3] in each 128-bit lane.
    auto rows4 = [](__m256i r0, __m256i r1, __m256i r2, __m256i r3) {
        return _mm256_hadd_epi32(_mm256_hadd_epi32(r0, r1), _mm256_hadd_epi32(r2, r3));
    };
    int x = 0;
    for (; x + 2 <= out_size; x += 2) {
        const std::int16_t* k0 = coeffs + static_cast<std::size_t>(x) * taps;
        const std::int16_t* k1 = k0 + taps;
        const std::uint8_t* p0 = src + starts[x];
        const std::uint8_t* p1 = src + starts[x + 1];
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;  // output x, rows 0..3
        __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;                      // output x + 1
        for (int t = 0; t < taps; t += 16) {
            const __m256i kk0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k0 + t));
            const __m256i kk1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k1 + t));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(px(p0 + t), kk0));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(px(p0 + t + stride), kk0));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(px(p0 + t + 2 * stride), kk0));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(px(p0 + t + 3 * stride), kk0));
            b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(px(p1 + t), kk1));
            b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(px(p1 + t + stride), kk1));
            b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(px(p1 + t + 2 * stride), kk1));
            b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(px(p1 + t + 3 * stride), kk1));
        }
        const __m256i ha = rows4(a0, a1, a2, a3), hb = rows4(b0, b1, b2, b3);
        // [x: rows 0..3 | x+1: rows 0..3], lanes added.
        __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(ha, hb, 0x20), _mm256_permute2x128_si256(ha, hb, 0x31));
        sums = _mm256_sra_epi32(_mm256_add_epi32(sums, half), shift);
        __m256i bytes = _mm256_packs_epi32(sums, sums);
        bytes = _mm256_packus_epi16(bytes, bytes);  // lane 0 starts with x's rows, lane 1 with x+1's
        const __m128i pairs = _mm_unpacklo_epi8(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
        const std::uint64_t both = static_cast<std::uint64_t>(_mm_cvtsi128_si64(pairs));  // row r: bytes 2r, 2r+1
        for (int r = 0; r < 4; ++r) {
            const std::uint16_t two = static_cast<std::uint16_t>(both >> (16 * r));
            std::memcpy(dst + r * dst_stride + x, &two, 2);
        }
    }
    if (x < out_size) {  // an odd last output
        const std::int16_t* k = coeffs + static_cast<std::size_t>(x) * taps;
        const std::uint8_t* p = src + starts[x];
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < taps; t += 16) {
            const __m256i kk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + t));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(px(p + t), kk));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(px(p + t + stride), kk));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(px(p + t + 2 * stride), kk));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(px(p + t + 3 * stride), kk));
        }
        const std::uint32_t out = finish4(fold(rows4(a0, a1, a2, a3)), _mm256_castsi256_si128(half), shift);
        for (int r = 0; r < 4; ++r) dst[r * dst_stride + x] = static_cast<std::uint8_t>(out >> (8 * r));
    }
}

// 2 channels: four taps per 128-bit multiply-add, pairs (g_t, g_t+1), (a_t, a_t+1).
void horizontal4_gray_alpha(const std::uint8_t* src, std::ptrdiff_t stride, std::uint8_t* dst,
                            std::ptrdiff_t dst_stride, const AxisPlan& plan) {
    const __m128i pairs = _mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i shift = _mm_cvtsi32_si128(plan.precision);
    const __m128i half = _mm_set1_epi32(1 << (plan.precision - 1));
    const PlanFields f(plan);
    const int taps = f.taps, out_size = f.out_size;
    const std::int32_t* const starts = f.starts;
    const std::int16_t* const coeffs = f.coeffs;
    for (int x = 0; x < out_size; ++x) {
        const std::int16_t* k = coeffs + static_cast<std::size_t>(x) * taps;
        const std::uint8_t* s0 = src + static_cast<std::size_t>(starts[x]) * 2;
        __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
        auto px = [&](const std::uint8_t* q) {
            return _mm_cvtepu8_epi16(_mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)), pairs));
        };
        for (int t = 0; t < taps; t += 4) {
            const __m128i kk = _mm_shuffle_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + t)), _MM_SHUFFLE(1, 1, 0, 0));
            const std::uint8_t* p = s0 + t * 2;
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(px(p), kk));
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(px(p + stride), kk));
            a2 = _mm_add_epi32(a2, _mm_madd_epi16(px(p + 2 * stride), kk));
            a3 = _mm_add_epi32(a3, _mm_madd_epi16(px(p + 3 * stride), kk));
        }
        // [g01, a01, g23, a23] -> [g, a] per row: add the high pair onto the low pair.
        auto store = [&](__m128i acc, std::uint8_t* out_row) {
            const std::uint32_t out = finish4(_mm_add_epi32(acc, _mm_unpackhi_epi64(acc, acc)), half, shift);
            std::memcpy(out_row + x * 2, &out, 2);
        };
        store(a0, dst);
        store(a1, dst + dst_stride);
        store(a2, dst + 2 * dst_stride);
        store(a3, dst + 3 * dst_stride);
    }
}

template <int C, int Step = C>
void horizontal_avx2(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                     int rows, const AxisPlan& plan) {
    const std::size_t src_bytes = static_cast<std::size_t>(plan.in_size) * Step;
    int r = 0;
    // The 1-channel block kernel needs taps in whole groups of 16 (the orchestrator plans them so).
    if (plan.full_windows && (C != 1 || plan.taps % 16 == 0)) {
        for (; r + kHorizontalRowBlock <= rows; r += kHorizontalRowBlock) {
            const std::uint8_t* s = src + r * src_stride;
            std::uint8_t* d = dst + r * dst_stride;
            if constexpr (C == 1) {
                horizontal4_gray(s, src_stride, d, dst_stride, plan);
            } else if constexpr (C == 2) {
                horizontal4_gray_alpha(s, src_stride, d, dst_stride, plan);
            } else {
                horizontal4_rgb<C, Step>(s, src_stride, d, dst_stride, plan);
            }
        }
    }
    // Leftover rows (and sources narrower than the kernel): one row at a time, loads guarded.
    for (; r < rows; ++r) {
        const std::uint8_t* s = src + r * src_stride;
        std::uint8_t* d = dst + r * dst_stride;
        if constexpr (C == 1) {
            horizontal_avx2_gray(s, d, plan, src_bytes);
        } else if constexpr (C == 2) {
            horizontal_avx2_gray_alpha(s, d, plan, src_bytes);
        } else {
            horizontal_avx2_rgb<C, Step>(s, d, plan, src_bytes);
        }
    }
}

// Vertical pass: 32 bytes of a row per step, two rows (taps) per multiply-add. Bytes of rows t
// and t+1 are interleaved and widened so pmaddwd forms row_t * k_t + row_t+1 * k_t+1 per byte.
void vertical_avx2(const std::uint8_t* first_row, std::ptrdiff_t stride, int count, const std::int16_t* coeffs,
                   int precision, std::uint8_t* dst, std::size_t row_bytes) {
    const std::int32_t half = std::int32_t{1} << (precision - 1);
    const __m128i shift = _mm_cvtsi32_si128(precision);
    const __m256i zero = _mm256_setzero_si256();
    // (k_t, k_t+1) pairs, built once per output row rather than once per 32 bytes.
    constexpr int kMaxPairs = 128;
    alignas(32) std::int32_t pair_store[kMaxPairs];
    const int pairs = (count + 1) / 2;
    auto pair_at = [&](int t) {
        const std::int32_t k1 = t + 1 < count ? coeffs[t + 1] : 0;
        return static_cast<std::int32_t>((static_cast<std::uint32_t>(static_cast<std::uint16_t>(k1)) << 16) |
                                         static_cast<std::uint16_t>(coeffs[t]));
    };
    for (int j = 0; j < std::min(pairs, kMaxPairs); ++j) pair_store[j] = pair_at(2 * j);
    // Multiplies 32 bytes of rows t and t+1 by the pair kk into four accumulators.
    auto step32 = [&](const std::uint8_t* r0, bool has_second, __m256i kk, __m256i* acc) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0));
        // An odd last tap pairs with zeros: its row is not read.
        const __m256i b = has_second ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + stride)) : zero;
        const __m256i lo = _mm256_unpacklo_epi8(a, b);
        const __m256i hi = _mm256_unpackhi_epi8(a, b);
        acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(_mm256_unpacklo_epi8(lo, zero), kk));
        acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(_mm256_unpackhi_epi8(lo, zero), kk));
        acc[2] = _mm256_add_epi32(acc[2], _mm256_madd_epi16(_mm256_unpacklo_epi8(hi, zero), kk));
        acc[3] = _mm256_add_epi32(acc[3], _mm256_madd_epi16(_mm256_unpackhi_epi8(hi, zero), kk));
    };
    // Shifts, clamps and stores 32 bytes; the unpacks worked within 128-bit lanes and packing
    // back within lanes restores the byte order.
    auto store32 = [&](std::uint8_t* out, const __m256i* acc) {
        const __m256i a0 = _mm256_sra_epi32(acc[0], shift), a1 = _mm256_sra_epi32(acc[1], shift);
        const __m256i a2 = _mm256_sra_epi32(acc[2], shift), a3 = _mm256_sra_epi32(acc[3], shift);
        const __m256i packed = _mm256_packus_epi16(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(a2, a3));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), packed);
    };
    auto pair_vector = [&](int t) { return _mm256_set1_epi32(t / 2 < kMaxPairs ? pair_store[t / 2] : pair_at(t)); };
    std::size_t x = 0;
    // A whole cache line (64 bytes) per step: when the row stride is a multiple of 4 KiB, the taps'
    // rows compete for the same L1 sets, and a line that must be fetched twice (once per half)
    // tripled the pass's time (measured on 5120-pixel RGBA rows).
    for (; x + 64 <= row_bytes; x += 64) {
        __m256i acc[8];
        for (__m256i& a : acc) a = _mm256_set1_epi32(half);
        for (int t = 0; t < count; t += 2) {
            const __m256i kk = pair_vector(t);
            const std::uint8_t* r0 = first_row + t * stride + x;
            step32(r0, t + 1 < count, kk, acc);
            step32(r0 + 32, t + 1 < count, kk, acc + 4);
        }
        store32(dst + x, acc);
        store32(dst + x + 32, acc + 4);
    }
    for (; x + 32 <= row_bytes; x += 32) {
        __m256i acc[4];
        for (__m256i& a : acc) a = _mm256_set1_epi32(half);
        for (int t = 0; t < count; t += 2) step32(first_row + t * stride + x, t + 1 < count, pair_vector(t), acc);
        store32(dst + x, acc);
    }
    for (; x < row_bytes; ++x) {
        std::int32_t acc = half;
        for (int t = 0; t < count; ++t) acc += first_row[t * stride + x] * coeffs[t];
        dst[x] = clip_fixed(acc, precision);
    }
}

// Pillow's MULDIV255 (c * a / 255, rounded) on 16 widened channels at once. The alpha slot is
// multiplied by 255, which MULDIV255 maps back to itself exactly, so no blend is needed after.
inline __m256i mul_div255(__m256i wide, __m256i alpha_spread, __m256i alpha_slots) {
    const __m256i factor = _mm256_or_si256(_mm256_shuffle_epi8(wide, alpha_spread), alpha_slots);
    const __m256i t = _mm256_add_epi16(_mm256_mullo_epi16(wide, factor), _mm256_set1_epi16(128));
    return _mm256_srli_epi16(_mm256_add_epi16(t, _mm256_srli_epi16(t, 8)), 8);
}

void premultiply_avx2(const std::uint8_t* src, std::uint8_t* dst, int width, int channels) {
    // Per 16-bit channel: the bytes of its pixel's alpha (the pixel's last 16-bit slot).
    const __m256i spread4 = _mm256_setr_epi8(6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15, 6, 7, 6, 7, 6,
                                             7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15);
    const __m256i spread2 = _mm256_setr_epi8(2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6,
                                             7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15);
    const __m256i slots4 = _mm256_setr_epi16(0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255);
    const __m256i slots2 = _mm256_setr_epi16(0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255);
    const __m256i spread = channels == 4 ? spread4 : spread2;
    const __m256i slots = channels == 4 ? slots4 : slots2;
    const __m256i zero = _mm256_setzero_si256();
    const std::size_t bytes = static_cast<std::size_t>(width) * channels;
    std::size_t i = 0;
    // Opaque pixels keep their colour (c * 255 / 255): runs of them are copied as they are.
    const __m256i alpha_bytes = channels == 4 ? _mm256_set1_epi32(static_cast<std::int32_t>(0xFF000000u))
                                              : _mm256_set1_epi16(static_cast<std::int16_t>(0xFF00));
    for (; i + 32 <= bytes; i += 32) {  // 32 bytes hold whole pixels for 2 and 4 channels
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        if (_mm256_testc_si256(_mm256_and_si256(v, alpha_bytes), alpha_bytes)) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), v);
            continue;
        }
        const __m256i lo = mul_div255(_mm256_unpacklo_epi8(v, zero), spread, slots);
        const __m256i hi = mul_div255(_mm256_unpackhi_epi8(v, zero), spread, slots);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_packus_epi16(lo, hi));
    }
    const int done = static_cast<int>(i / channels);
    scalar_kernels().premultiply(src + i, dst + i, width - done, channels);
}

// Pillow's un-premultiply, c' = min(255, floor(255 * c / a)) for 0 < a < 255, else c, for eight
// pixels per step: one float division gives each pixel's factor f = 255 / a, spread to its
// channels, and c' = trunc(c * f + 1/512). That is exact: for a quotient below 256 the float error
// is under 2e-4, the nudge lifts exact integers above it, and a non-integer quotient is at least
// 1/a >= 1/254 below the next integer, more than nudge plus error (tests check all 65536 pairs).
// Quotients of 256 and up saturate to 255 when packed. About a third of the former cost, which
// divided (and checked) each channel separately.
template <int C>
void unpremultiply_avx2(const std::uint8_t* src, std::uint8_t* dst, int width) {
    static_assert(C == 2 || C == 4);
    constexpr int kStepBytes = 8 * C;  // eight pixels
    // Float vector j holds channels of pixels j * 8 / C ... ; slot i belongs to pixel (8j + i) / C.
    auto spread_index = [](int j) {
        return C == 4 ? _mm256_setr_epi32(2 * j, 2 * j, 2 * j, 2 * j, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1)
                      : _mm256_setr_epi32(4 * j, 4 * j, 4 * j + 1, 4 * j + 1, 4 * j + 2, 4 * j + 2, 4 * j + 3, 4 * j + 3);
    };
    constexpr int kAlphaSlots = C == 4 ? 0x88 : 0xAA;  // the alpha channel keeps its value: factor 1
    const __m256 one = _mm256_set1_ps(1.0f), nudge = _mm256_set1_ps(1.0f / 512.0f), k255 = _mm256_set1_ps(255.0f);
    const std::size_t bytes = static_cast<std::size_t>(width) * C;
    // Opaque (255) and fully transparent (0) pixels keep their colour: runs of them, the common
    // case in real images, are copied 32 bytes at a time.
    const __m256i alpha_bytes = C == 4 ? _mm256_set1_epi32(static_cast<std::int32_t>(0xFF000000u))
                                       : _mm256_set1_epi16(static_cast<std::int16_t>(0xFF00));
    auto step = [&](const std::uint8_t* in, std::uint8_t* out) {
        __m256i alpha;
        if constexpr (C == 4) {
            alpha = _mm256_srli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)), 24);
        } else {
            alpha = _mm256_cvtepu16_epi32(_mm_srli_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)), 8));
        }
        const __m256 a = _mm256_cvtepi32_ps(alpha);
        // a == 0 keeps the colour (factor 1); a == 255 gives a factor within 1e-7 of 1, which the
        // nudge absorbs.
        const __m256 factor = _mm256_blendv_ps(_mm256_div_ps(k255, a), one, _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_EQ_OQ));
        __m256i q[C];
        for (int j = 0; j < C; ++j) {
            const __m256 f = _mm256_blend_ps(_mm256_permutevar8x32_ps(factor, spread_index(j)), one, kAlphaSlots);
            const __m256 c = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + 8 * j))));
            q[j] = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(c, f), nudge));
        }
        // The signed then unsigned saturating packs clamp to 255 (quotients stay below 2^31); they
        // interleave 128-bit lanes, which the permute undoes.
        if constexpr (C == 4) {
            const __m256i w = _mm256_packus_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            const __m256i ordered = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), ordered);
        } else {
            const __m256i w = _mm256_packs_epi32(q[0], q[1]);
            const __m256i ordered = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w, w), _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(ordered));
        }
    };
    std::size_t i = 0;
    for (; i + 32 <= bytes; i += 32) {
        const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
        const bool all_opaque = _mm256_testc_si256(_mm256_and_si256(block, alpha_bytes), alpha_bytes);
        const bool all_clear = _mm256_testz_si256(block, alpha_bytes);
        if (all_opaque || all_clear) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), block);
            continue;
        }
        for (int k = 0; k < 32; k += kStepBytes) step(src + i + k, dst + i + k);
    }
    const int done = static_cast<int>(i / C);
    scalar_kernels().unpremultiply(src + i, dst + i, width - done, C);
}

void unpremultiply_avx2(const std::uint8_t* src, std::uint8_t* dst, int width, int channels) {
    if (channels == 4) {
        unpremultiply_avx2<4>(src, dst, width);
    } else {
        unpremultiply_avx2<2>(src, dst, width);
    }
}

// Padded RGB to packed, eight pixels per step: each lane drops the fourth byte of its four pixels
// and the two 12-byte results are stored with 16-byte stores, the second overwriting the first's
// four spare bytes (so the loop stops while 4 bytes of room remain past the last store).
void pack_padded_rgb_avx2(const std::uint8_t* src, std::uint8_t* dst, int width) {
    const __m256i drop = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                          0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    int x = 0;
    for (; x + 10 <= width; x += 8) {
        const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * x)), drop);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * x), _mm256_castsi256_si128(v));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * x + 12), _mm256_extracti128_si256(v, 1));
    }
    scalar_kernels().pack_padded_rgb(src + 4 * x, dst + 3 * x, width - x);
}

// Grayscale, sixteen pixels per step as two halves of eight (four per 128-bit lane). BT.601:
// Pillow's (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, with G's weight, too big for int16,
// split in two halves of 19235: one pmaddwd on (R, G) pairs and one on (B, G) pairs form the whole
// sum. BT.709: (R * 2126 + G * 7152 + B * 722) / 10000, the truncating division done in float and
// corrected by one either way, which makes it exact. C: bytes per source pixel (3, or 4 for RGBA
// and padded RGB); KeepAlpha: write (L, A) pairs.
template <int C, bool Bt709, bool KeepAlpha>
void gray_avx2(const std::uint8_t* src, std::uint8_t* dst, int width) {
    constexpr char Z = -1;
    constexpr char o1 = C, o2 = 2 * C, o3 = 3 * C;  // byte offsets of pixels 1..3 within a lane
    const __m256i rg = _mm256_setr_epi8(0, Z, 1, Z, o1, Z, o1 + 1, Z, o2, Z, o2 + 1, Z, o3, Z, o3 + 1, Z,  //
                                        0, Z, 1, Z, o1, Z, o1 + 1, Z, o2, Z, o2 + 1, Z, o3, Z, o3 + 1, Z);
    const __m256i bg = _mm256_setr_epi8(2, Z, 1, Z, o1 + 2, Z, o1 + 1, Z, o2 + 2, Z, o2 + 1, Z, o3 + 2, Z, o3 + 1, Z,  //
                                        2, Z, 1, Z, o1 + 2, Z, o1 + 1, Z, o2 + 2, Z, o2 + 1, Z, o3 + 2, Z, o3 + 1, Z);
    const __m256i w_rg = Bt709 ? _mm256_set1_epi32((7152 << 16) | 2126) : _mm256_set1_epi32((19235 << 16) | 19595);
    const __m256i w_bg = Bt709 ? _mm256_set1_epi32(722) : _mm256_set1_epi32((19235 << 16) | 7471);
    const __m128i alpha_bytes = _mm_setr_epi8(3, 7, 11, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z);
    // Eight pixels' luma as int32, pixels 0-3 in lane 0 and 4-7 in lane 1.
    auto luma8 = [&](const __m256i v) {
        const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(_mm256_shuffle_epi8(v, rg), w_rg),
                                             _mm256_madd_epi16(_mm256_shuffle_epi8(v, bg), w_bg));
        if constexpr (Bt709) {
            const __m256i ten_thousand = _mm256_set1_epi32(10000);
            __m256i q = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(1.0f / 10000.0f)));
            const __m256i one = _mm256_set1_epi32(1);
            q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(_mm256_add_epi32(sum, one),
                                                       _mm256_mullo_epi32(_mm256_add_epi32(q, one), ten_thousand)));
            return _mm256_add_epi32(q, _mm256_cmpgt_epi32(_mm256_mullo_epi32(q, ten_thousand), sum));
        } else {
            return _mm256_srli_epi32(_mm256_add_epi32(sum, _mm256_set1_epi32(0x8000)), 16);
        }
    };
    auto load8 = [](const std::uint8_t* p) {  // pixels 0-3 into lane 0, 4-7 into lane 1
        return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4 * C)), 1);
    };
    int x = 0;
    // Each half reads 4 * C bytes into each lane; with C == 3 a 16-byte load reads 4 bytes more,
    // so the last pixels of the row go to the scalar loop.
    const int vector_end = C == 4 ? width - 15 : width - 17;
    for (; x < vector_end; x += 16) {
        const std::uint8_t* p = src + static_cast<std::size_t>(x) * C;
        const __m256i v0 = load8(p), v1 = load8(p + 8 * C);
        // Packing works within lanes: [px 0-3, 8-11 | 4-7, 12-15] as dwords 0, 1 | 4, 5; the
        // permute puts them in order.
        const __m256i words = _mm256_packus_epi32(luma8(v0), luma8(v1));
        const __m256i bytes = _mm256_packus_epi16(words, words);
        const __m128i l16 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5)));
        if constexpr (KeepAlpha) {
            auto alphas = [&](const __m256i v) {  // 8 alpha bytes in pixel order
                const __m256i a = _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(alpha_bytes));
                return _mm_unpacklo_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
            };
            const __m128i a16 = _mm_unpacklo_epi64(alphas(v0), alphas(v1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * x), _mm_unpacklo_epi8(l16, a16));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * x + 16), _mm_unpackhi_epi8(l16, a16));
        } else {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + x), l16);
        }
    }
    const Kernels& scalar = scalar_kernels();
    const auto tail = (Bt709 ? scalar.gray_bt709 : scalar.gray_bt601)[C == 3 ? 0 : KeepAlpha ? 1 : 2];
    tail(src + static_cast<std::size_t>(x) * C, dst + static_cast<std::size_t>(x) * (KeepAlpha ? 2 : 1), width - x);
}

}  // namespace

const Kernels* avx2_kernels() {
    static const Kernels table = [] {
        Kernels k = scalar_kernels();
        k.name = "avx2";
        k.horizontal[0] = horizontal_avx2<1>;
        k.horizontal[1] = horizontal_avx2<2>;
        k.horizontal[2] = horizontal_avx2<3>;
        k.horizontal[3] = horizontal_avx2<4>;
        k.vertical = vertical_avx2;
        k.premultiply = premultiply_avx2;
        k.unpremultiply = unpremultiply_avx2;
        k.horizontal_padded_rgb = horizontal_avx2<3, 4>;
        k.pack_padded_rgb = pack_padded_rgb_avx2;
        k.gray_bt601[0] = gray_avx2<3, false, false>;
        k.gray_bt601[1] = gray_avx2<4, false, true>;
        k.gray_bt601[2] = gray_avx2<4, false, false>;
        k.gray_bt709[0] = gray_avx2<3, true, false>;
        k.gray_bt709[1] = gray_avx2<4, true, true>;
        k.gray_bt709[2] = gray_avx2<4, true, false>;
        return k;
    }();
    return &table;
}

}  // namespace fastbatch
