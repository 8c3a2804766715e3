// Per-axis coefficient plan: for each output index, the first source index, how many taps it uses
// and its fixed-point weights. Laid out for vector passes: every output owns `taps` int16 slots
// (zero padded past `count`), so a pass may read whole groups of coefficients without branching.
#pragma once

#include <cstdint>
#include <vector>

#include "fastbatch/filters.hpp"

namespace fastbatch {

struct AxisPlan {
    int in_size = 0;
    int out_size = 0;
    int taps = 0;       // coefficient slots per output (the widest kernel, rounded up to tap_multiple)
    int precision = 0;  // fixed-point fraction bits: value = sum(px * coeff) >> precision
    // True when start[i] + taps <= in_size for every output: a pass may read all `taps` entries
    // (the ones past count[i] have weight 0). False only when the source is narrower than taps.
    bool full_windows = false;
    std::vector<std::int32_t> start;   // out_size: first source index
    std::vector<std::int32_t> count;   // out_size: taps used (weights past it are 0), start + count <= in_size
    std::vector<std::int16_t> coeffs;  // out_size * taps

    const std::int16_t* coeffs_of(int out_index) const {
        return coeffs.data() + static_cast<std::size_t>(out_index) * taps;
    }
    // Source rows/columns [first_used(), last_used()) are read by some output.
    int first_used() const { return start.front(); }
    int last_used() const { return start.back() + count.back(); }
};

// Builds the plan Pillow would build for resizing the source interval [first, last) onto out_size
// samples (Pillow's resize box; [0, in_size) by default): kernel centred at first + (i + 0.5) * scale,
// scale = (last - first) / out_size, widened by the scale when shrinking, clipped to [0, in_size),
// weights normalised to sum 1. The interval is in single precision, as Pillow takes it.
// Weights are rounded to int16 at the highest precision (<= 22 bits, Pillow's) that keeps every
// weight in int16 and every sum of 255 * |weight| in int32, and each output's weights are corrected
// to sum exactly to 1 << precision so a solid colour stays that colour.
// tap_multiple (a power of two) rounds `taps` up so a vector pass can step through whole groups.
AxisPlan make_axis_plan(int in_size, int out_size, Filter filter, int tap_multiple = 4);
// 0 <= first < last <= in_size.
AxisPlan make_axis_plan(int in_size, int out_size, Filter filter, int tap_multiple, float first, float last);

}  // namespace fastbatch
