// Coefficient plans, following the construction of Pillow's precompute_coeffs() so the weights
// are the same doubles; only the fixed-point format differs (int16 at a per-axis precision).
#include "fastbatch/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace fastbatch {
namespace {

// Pillow's 8-bit passes use 22 fraction bits; more buys nothing for 8-bit output.
constexpr int kMaxPrecision = 22;
constexpr std::int16_t kMaxCoeff = std::numeric_limits<std::int16_t>::max();

// Highest precision at which every weight fits int16 and no accumulator can overflow int32:
// 255 * sum|w| * 2^p plus the rounding half must stay below 2^31.
int choose_precision(const std::vector<double>& weights, int taps, int out_size) {
    double max_abs = 0.0, max_abs_sum = 0.0;
    for (int i = 0; i < out_size; ++i) {
        double sum = 0.0;
        for (int t = 0; t < taps; ++t) {
            double w = std::fabs(weights[static_cast<std::size_t>(i) * taps + t]);
            max_abs = std::max(max_abs, w);
            sum += w;
        }
        max_abs_sum = std::max(max_abs_sum, sum);
    }
    int precision = kMaxPrecision;
    while (precision > 1) {
        double scale = std::ldexp(1.0, precision);
        // A weight of exactly 1.0 (the kernel centred on a sample) may take 2^15: it is stored as
        // 32767, which still reproduces every 8-bit value (255 * 32767 + 16384 >> 15 == 255).
        bool fits_int16 = max_abs * scale <= kMaxCoeff || (max_abs == 1.0 && scale == 32768.0);
        // Rounding adds at most 0.5 per tap; count it so the bound holds for the rounded weights.
        double worst_sum = 255.0 * (max_abs_sum * scale + 0.5 * taps) + scale / 2;
        if (fits_int16 && worst_sum < 2147483647.0) break;
        --precision;
    }
    return precision;
}

}  // namespace

AxisPlan make_axis_plan(int in_size, int out_size, Filter filter, int tap_multiple) {
    // Every side is at most 1 << 24, so in_size is exact as a float: the same plan as ever.
    return make_axis_plan(in_size, out_size, filter, tap_multiple, 0.0f, static_cast<float>(in_size));
}

AxisPlan make_axis_plan(int in_size, int out_size, Filter filter, int tap_multiple, float first, float last) {
    AxisPlan plan;
    plan.in_size = in_size;
    plan.out_size = out_size;

    // Pillow subtracts in float, then divides in double.
    const double scale = static_cast<double>(last - first) / out_size;
    const double filterscale = std::max(scale, 1.0);  // widen the kernel when shrinking: antialiasing
    const double support = filter_support(filter) * filterscale;
    const int widest = static_cast<int>(std::ceil(support)) * 2 + 1;
    plan.taps = (std::min(widest, in_size) + tap_multiple - 1) / tap_multiple * tap_multiple;

    // Outputs whose filter arguments are the same doubles, bit for bit, have the same weights: with
    // an integer scale, every output away from the edges. Each distinct window is computed and
    // rounded once and the others copy it (a 6000 -> 1500 plan took 27 M instructions, mostly sin()
    // and sorting: 6% of the whole resize). The arguments are Pillow's own expression, so the
    // weights are the same doubles as Pillow's whether a window is computed or copied.
    std::vector<int> counts;      // distinct windows: taps used
    std::vector<double> args;     // their filter arguments, taps each (0 past the count)
    std::vector<double> weights;  // their weights, taps each
    std::vector<int> window_of(static_cast<std::size_t>(out_size));
    std::unordered_multimap<std::uint64_t, int> seen;  // hash of the arguments -> distinct windows
    std::vector<double> x(static_cast<std::size_t>(plan.taps));
    plan.start.resize(out_size);
    plan.count.resize(out_size);
    const double inv_filterscale = 1.0 / filterscale;
    for (int i = 0; i < out_size; ++i) {
        const double center = first + (i + 0.5) * scale;
        // Pillow rounds the window ends with (int)(x + 0.5), i.e. truncation toward zero.
        int lo = static_cast<int>(center - support + 0.5);
        int hi = static_cast<int>(center + support + 0.5);
        lo = std::max(lo, 0);
        hi = std::min(hi, in_size);
        const int count = std::min(hi - lo, plan.taps);
        plan.start[i] = lo;
        plan.count[i] = count;
        std::fill(x.begin(), x.end(), 0.0);
        for (int t = 0; t < count; ++t) x[t] = (t + lo - center + 0.5) * inv_filterscale;
        const std::size_t bytes = x.size() * sizeof(double);
        std::uint64_t key = static_cast<std::uint64_t>(count);
        if (count > 0) std::memcpy(&key, x.data(), sizeof key);
        key = key * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(count);
        int window = -1;
        for (auto [it, end] = seen.equal_range(key); it != end; ++it) {
            if (counts[it->second] == count &&
                std::memcmp(&args[static_cast<std::size_t>(it->second) * plan.taps], x.data(), bytes) == 0) {
                window = it->second;
                break;
            }
        }
        if (window < 0) {
            window = static_cast<int>(counts.size());
            counts.push_back(count);
            args.insert(args.end(), x.begin(), x.end());
            weights.resize(weights.size() + plan.taps, 0.0);
            double* w = &weights[static_cast<std::size_t>(window) * plan.taps];
            double total = 0.0;
            for (int t = 0; t < count; ++t) {
                w[t] = filter_weight(filter, x[t]);
                total += w[t];
            }
            if (total != 0.0) {
                for (int t = 0; t < count; ++t) w[t] /= total;
            }
            seen.emplace(key, window);
        }
        window_of[i] = window;
    }

    // The precision depends only on the distinct windows.
    const int distinct = static_cast<int>(counts.size());
    plan.precision = choose_precision(weights, plan.taps, distinct);
    const double fixed_one = std::ldexp(1.0, plan.precision);
    std::vector<std::int16_t> rounded(weights.size(), 0);
    std::vector<int> order;
    for (int d = 0; d < distinct; ++d) {
        const double* w = &weights[static_cast<std::size_t>(d) * plan.taps];
        std::int16_t* c = &rounded[static_cast<std::size_t>(d) * plan.taps];
        const int count = counts[d];
        // Largest-remainder rounding: floor every scaled weight, then give one unit to the weights
        // that lost the most until they sum to exactly 1 << precision. Each weight stays within one
        // unit of its exact value and a flat region filters to itself, bit for bit.
        long sum = 0;
        auto lost = [&](int t) { return c[t] == kMaxCoeff ? 0.0 : w[t] * fixed_one - c[t]; };
        for (int t = 0; t < count; ++t) {
            c[t] = static_cast<std::int16_t>(std::min(std::floor(w[t] * fixed_one), double{kMaxCoeff}));
            sum += c[t];
        }
        long missing = static_cast<long>(fixed_one) - sum;
        order.resize(count);
        for (int t = 0; t < count; ++t) order[t] = t;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return lost(a) > lost(b); });
        for (int j = 0; j < count && missing > 0 && lost(order[j]) > 0.0; ++j, --missing) ++c[order[j]];
    }
    plan.coeffs.resize(static_cast<std::size_t>(out_size) * plan.taps);
    for (int i = 0; i < out_size; ++i) {
        std::copy_n(&rounded[static_cast<std::size_t>(window_of[i]) * plan.taps], plan.taps,
                    &plan.coeffs[static_cast<std::size_t>(i) * plan.taps]);
    }

    // Slide windows that end past the last `taps` source entries to the left, their weights moved
    // right behind leading zeros, so every output may read `taps` entries from its start without
    // leaving the source: vector passes then need no tail loops. The sums are unchanged.
    plan.full_windows = plan.taps <= in_size;
    if (plan.full_windows) {
        for (int i = 0; i < out_size; ++i) {
            const int shift = plan.start[i] + plan.taps - in_size;
            if (shift <= 0) continue;
            std::int16_t* c = &plan.coeffs[static_cast<std::size_t>(i) * plan.taps];
            std::copy_backward(c, c + plan.count[i], c + plan.count[i] + shift);
            std::fill(c, c + shift, std::int16_t{0});
            plan.start[i] -= shift;
            plan.count[i] += shift;
        }
    }
    return plan;
}

}  // namespace fastbatch
