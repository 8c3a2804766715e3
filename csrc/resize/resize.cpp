// Resize orchestration: plans, buffers and the OpenMP loops around the kernels. Two passes with an
// 8-bit intermediate, in the order Pillow 13 picks (horizontal first, on only the source rows the
// vertical pass reads, unless the height shrinks much more): that keeps the pixels within 1 of
// its own. Alpha images are filtered premultiplied.
#include "fastbatch/resize.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include <omp.h>

#include "fastbatch/cpu.hpp"
#include "fastbatch/parallel.hpp"

namespace fastbatch {

void check_image_size(int width, int height, int channels, const char* what, std::uint64_t max_bytes) {
    if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide) {
        throw std::invalid_argument(std::string(what) + " size " + std::to_string(width) + "x" +
                                    std::to_string(height) + " is out of range: each side must be 1.." +
                                    std::to_string(kMaxSide));
    }
    if (channels < 1 || channels > 4) {
        throw std::invalid_argument(std::string(what) + " has " + std::to_string(channels) +
                                    " channels; expected 1, 2, 3 or 4");
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) * channels;
    if (bytes > max_bytes) {
        throw std::invalid_argument(std::string(what) + " of " + std::to_string(width) + "x" + std::to_string(height) +
                                    "x" + std::to_string(channels) + " bytes is too large (limit " +
                                    std::to_string(max_bytes) + " bytes)");
    }
}

ResizeJob::ResizeJob(int src_width, int src_height, int channels, int dst_width, int dst_height, Filter filter,
                     int threads, bool padded_source, const SourceBox* box, PassOrder order)
    : src_width_(src_width),
      src_height_(src_height),
      channels_(channels),
      dst_width_(dst_width),
      dst_height_(dst_height),
      alpha_(has_alpha(channels)),
      padded_source_(padded_source),
      order_(order),
      filter_(filter) {
    if (padded_source && channels != 3) {
        throw std::invalid_argument("only 3-channel pixels can be padded to 4 bytes");
    }
    check_image_size(src_width, src_height, channels, "source image", kMaxImageBytes);
    check_image_size(dst_width, dst_height, channels, "target", kMaxOutputBytes);
    const std::size_t dst_row_bytes = static_cast<std::size_t>(dst_width) * channels;
    const SourceBox whole{0.0f, 0.0f, static_cast<float>(src_width), static_cast<float>(src_height)};
    const SourceBox& region = box ? *box : whole;

    if (filter == Filter::Nearest) {
        // Pillow maps output pixel i to floor(scale * (i + 0.5)), accumulating the position in a
        // double step by step (ImagingScaleAffine); doing the same gives the same picks.
        // With a box Pillow goes through the same stepping (an affine transform), from the box's corner.
        const double sx = static_cast<double>(region.right - region.left) / dst_width;
        const double sy = static_cast<double>(region.bottom - region.top) / dst_height;
        nearest_x_.resize(dst_width);
        nearest_y_.resize(dst_height);
        double pos = region.left + sx * 0.5;
        for (int& x : nearest_x_) {
            x = std::min(static_cast<int>(pos), src_width - 1);
            pos += sx;
        }
        pos = region.top + sy * 0.5;
        for (int& y : nearest_y_) {
            y = std::min(static_cast<int>(pos), src_height - 1);
            pos += sy;
        }
        threads_vertical_ = resolve_threads(threads, dst_row_bytes * dst_height, dst_height);
        return;
    }

    need_horizontal_ = dst_width != src_width || region.left != 0.0f || region.right != whole.right;
    need_vertical_ = dst_height != src_height || region.top != 0.0f || region.bottom != whole.bottom;
    int first_row = 0, last_row = src_height;
    if (need_vertical_) {
        vertical_ = make_axis_plan(src_height, dst_height, filter, 4, region.top, region.bottom);
        first_row = vertical_.first_used();
        last_row = vertical_.last_used();
    }
    // One channel steps through 16 taps per multiply-add; more channels through 4 (passes_avx2.cpp).
    if (need_horizontal_) {
        horizontal_ = make_axis_plan(src_width, dst_width, filter, channels == 1 ? 16 : 4, region.left, region.right);
    }
    // Shrinking or keeping both sides of the sampled region (a box may be smaller than the source).
    const bool shrinks = region.right - region.left >= static_cast<float>(dst_width) &&
                         region.bottom - region.top >= static_cast<float>(dst_height);
    vertical_first_ = need_horizontal_ && need_vertical_ && prefer_vertical_first(shrinks);
    const std::size_t rows = static_cast<std::size_t>(last_row - first_row);
    const std::size_t src_row_bytes = static_cast<std::size_t>(src_width) * channels;
    // Padded source rows go through a vertical first pass as they are, four bytes a pixel.
    const std::size_t source_pass_row_bytes = static_cast<std::size_t>(src_width) * source_pixel_bytes();
    // Width of the vertical pass's rows, and how many rows the horizontal pass filters.
    const std::size_t vertical_row_bytes = vertical_first_ || !need_horizontal_ ? source_pass_row_bytes : dst_row_bytes;
    const std::size_t horizontal_rows = vertical_first_ ? dst_height : rows;
    const std::size_t vertical_work = vertical_row_bytes * dst_height * static_cast<std::size_t>(vertical_.taps);
    const std::size_t horizontal_work = dst_row_bytes * horizontal_rows * static_cast<std::size_t>(horizontal_.taps);
    if (need_vertical_) threads_vertical_ = resolve_threads(threads, vertical_work, dst_height);
    if (need_horizontal_) threads_horizontal_ = resolve_threads(threads, horizontal_work, horizontal_rows);
    if (need_horizontal_ && need_vertical_) {
        // Vertical first streams blocks of four rows per thread (run_vertical_first), the threads
        // sharing out the output rows of both passes at once.
        threads_both_ = resolve_threads(threads, vertical_work + horizontal_work, dst_height);
        // Horizontal first streams on one thread only. Split across threads it needs either runs of
        // rows, which filter the rows at their edges twice, or bands of columns, whose strided
        // reads made 24 MP RGB -> 1500x1000 on 2 threads about 10% slower than two whole passes;
        // with several threads the passes therefore run one after the other, through a full-size
        // intermediate.
        stream_horizontal_first_ = !vertical_first_ && threads_both_ == 1;
        // Enough filtered rows for one output's kernel plus what is filtered ahead; never more than
        // all the rows (a very long kernel: then the window is the whole intermediate).
        window_rows_ = static_cast<int>(
            std::min<std::size_t>(2 * (static_cast<std::size_t>(vertical_.taps) + kFillAhead), rows + kHorizontalRowBlock));
    }
    const auto per_thread = static_cast<std::size_t>(threads_both_);
    // Only alpha rows are staged (premultiplied); padded rows are read in place by every pass.
    if (vertical_first_) {
        intermediate_.resize(per_thread * kHorizontalRowBlock * source_pass_row_bytes);
        if (alpha_) staged_.resize(rows * src_row_bytes);
    } else if (stream_horizontal_first_) {
        intermediate_.resize(static_cast<std::size_t>(window_rows_) * dst_row_bytes);
        if (alpha_) staged_.resize(kHorizontalRowBlock * src_row_bytes);
    } else if (need_horizontal_ && need_vertical_) {
        intermediate_.resize(rows * dst_row_bytes);
        if (alpha_) staged_.resize(static_cast<std::size_t>(threads_horizontal_) * kHorizontalRowBlock * src_row_bytes);
    } else if (need_horizontal_ && alpha_) {
        staged_.resize(static_cast<std::size_t>(threads_horizontal_) * kHorizontalRowBlock * src_row_bytes);
    } else if (need_vertical_ && alpha_) {
        staged_.resize(rows * src_row_bytes);
    } else if (need_vertical_ && padded_source) {
        // Vertical only: each output row is filtered four bytes a pixel here, then packed.
        intermediate_.resize(static_cast<std::size_t>(threads_vertical_) * source_pass_row_bytes);
    }
}

bool ResizeJob::prefer_vertical_first(bool shrinks) const {
    if (order_ == PassOrder::Fastest && !alpha_ && shrinks) {
        // Vertical first wins while one output row's source rows stay in L2 (the vertical kernel
        // streams them once per output row): on Zen 3 (512 KB L2) 1.1-1.7x faster up to 440 KB of
        // rows, 0.7-0.9x from 540 KB; hence 7/8 of the L2. Alpha images stay horizontal first:
        // going vertical first would premultiply the whole source up front.
        const std::size_t window =
            static_cast<std::size_t>(vertical_.taps) * src_width_ * static_cast<std::size_t>(source_pixel_bytes());
        return window <= l2_cache_bytes() / 8 * 7;
    }
    // Pillow 13's rule (its Resample.c): vertical pass first when the height loses more than twice
    // as many pixels as the width. The two orders round the 8-bit intermediate differently (up to
    // 9 apart on hard 0/255 edges), so following Pillow's choice is what keeps us within 1 of it.
    // Pillow 12 and older always go horizontal first.
    const long height_loss = static_cast<long>(src_height_) - dst_height_;
    const long width_loss = static_cast<long>(src_width_) - dst_width_;
    return height_loss > 0 && height_loss > 2 * width_loss;
}

void ResizeJob::run_nearest(const ImageView& src, const MutableImageView& dst) noexcept {
    const int c = channels_;
    const int step = source_pixel_bytes();
    const int n = threads_vertical_;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = 0; y < dst_height_; ++y) {
        const std::uint8_t* in = src.row(nearest_y_[y]);
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < dst_width_; ++x) std::memcpy(out + x * c, in + nearest_x_[x] * step, c);
    }
}

void ResizeJob::stage_row(const std::uint8_t* in, std::uint8_t* out, int first_column, int columns) const noexcept {
    const std::size_t at = static_cast<std::size_t>(first_column) * channels_;
    active_kernels().premultiply(in + at, out + at, columns, channels_);
}

void ResizeJob::stage_rows(const ImageView& src, int first_row, int last_row) noexcept {
    const std::size_t row_bytes = src.row_bytes();
    const int n = threads_vertical_;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = first_row; y < last_row; ++y) {
        stage_row(src.row(y), staged_.data() + (y - first_row) * row_bytes, 0, src_width_);
    }
}

void ResizeJob::horizontal_pass(const ImageView& in, const MutableImageView& out, bool unpremultiply) noexcept {
    const Kernels& k = active_kernels();
    const std::size_t staged_block = kHorizontalRowBlock * static_cast<std::size_t>(src_width_) * channels_;
    const int blocks = (out.height + kHorizontalRowBlock - 1) / kHorizontalRowBlock;
    const int n = threads_horizontal_;
#pragma omp parallel num_threads(n) if (n > 1)
    {
        std::uint8_t* stage =
            alpha_ ? staged_.data() + static_cast<std::size_t>(omp_get_thread_num()) * staged_block : nullptr;
#pragma omp for schedule(dynamic, 4)
        for (int b = 0; b < blocks; ++b) {
            const int y0 = b * kHorizontalRowBlock;
            const int rows = std::min(kHorizontalRowBlock, out.height - y0);
            horizontal_rows(horizontal_, in, y0, rows, out.row(y0), out.stride, stage);
            if (unpremultiply) {
                for (int r = 0; r < rows; ++r) k.unpremultiply(out.row(y0 + r), out.row(y0 + r), out.width, channels_);
            }
        }
    }
}

void ResizeJob::horizontal_rows(const AxisPlan& plan, const ImageView& in, int first, int count, std::uint8_t* out,
                                std::ptrdiff_t out_stride, std::uint8_t* stage) const noexcept {
    const Kernels& k = active_kernels();
    const std::size_t staged_row_bytes = static_cast<std::size_t>(src_width_) * channels_;
    // Only the source columns the plan reads are staged.
    const int first_column = plan.start.front();
    const int columns = std::min(src_width_, plan.start.back() + plan.taps) - first_column;
    for (int r0 = 0; r0 < count; r0 += kHorizontalRowBlock) {
        const int rows = std::min(kHorizontalRowBlock, count - r0);
        const std::uint8_t* from = in.row(first + r0);
        std::ptrdiff_t stride = in.stride;
        if (stage != nullptr) {
            for (int r = 0; r < rows; ++r) {
                stage_row(in.row(first + r0 + r), stage + r * staged_row_bytes, first_column, columns);
            }
            from = stage;
            stride = static_cast<std::ptrdiff_t>(staged_row_bytes);
        }
        // Padded source rows are read in place by their own kernel; staged rows are packed.
        const auto kernel = padded_source_ && stage == nullptr ? k.horizontal_padded_rgb : k.horizontal[channels_ - 1];
        kernel(from, stride, out + r0 * out_stride, out_stride, rows, plan);
    }
}

void ResizeJob::run_horizontal_first(const ImageView& src, const MutableImageView& dst) noexcept {
    // One thread. Only the horizontally filtered source rows the current output row needs (plus a
    // few filtered ahead) are kept, in a window of window_rows_ rows, so the intermediate stays in
    // cache instead of making a round trip through memory (11 MB for 5120x2880 RGB -> 1280x720).
    const Kernels& k = active_kernels();
    const std::size_t row_bytes = dst.row_bytes();
    const auto stride = static_cast<std::ptrdiff_t>(row_bytes);
    std::uint8_t* window = intermediate_.data();
    std::uint8_t* stage = alpha_ ? staged_.data() : nullptr;
    const int last_row = vertical_.last_used();
    int window_first = vertical_.first_used();  // source row held in window row 0
    int filled = window_first;                  // one past the last filtered row
    for (int y = 0; y < dst_height_; ++y) {
        const int first = vertical_.start[y], end = first + vertical_.count[y];
        if (first < window_first || first > filled) {  // not expected from a plan; start afresh
            window_first = filled = first;
        }
        if (end > filled) {
            // Whole blocks of rows where possible: the kernels' single-row path is slower.
            const int wanted = std::max(end - filled, kFillAhead);
            const int blocks = (wanted + kHorizontalRowBlock - 1) / kHorizontalRowBlock;
            int until = std::min(filled + blocks * kHorizontalRowBlock, last_row);
            if (until - window_first > window_rows_) {  // drop the rows above this output's window
                std::memmove(window, window + static_cast<std::size_t>(first - window_first) * row_bytes,
                             static_cast<std::size_t>(filled - first) * row_bytes);
                window_first = first;
                until = std::min(until, window_first + window_rows_);
            }
            horizontal_rows(horizontal_, src, filled, until - filled,
                            window + static_cast<std::size_t>(filled - window_first) * row_bytes, stride, stage);
            filled = until;
        }
        k.vertical(window + static_cast<std::size_t>(first - window_first) * row_bytes, stride, vertical_.count[y],
                   vertical_.coeffs_of(y), vertical_.precision, dst.row(y), row_bytes);
        if (alpha_) k.unpremultiply(dst.row(y), dst.row(y), dst_width_, channels_);
    }
}

void ResizeJob::run_vertical_first(const ImageView& in, int first_row, const MutableImageView& dst) noexcept {
    // Blocks of output rows: the vertical pass fills a few full-width rows per thread, which the
    // horizontal pass turns into output rows straight away.
    // Padded rows are filtered vertically four bytes a pixel and the horizontal pass packs them.
    const Kernels& k = active_kernels();
    const std::size_t row_bytes = static_cast<std::size_t>(src_width_) * source_pixel_bytes();
    const auto stride = static_cast<std::ptrdiff_t>(row_bytes);
    const auto horizontal = padded_source_ ? k.horizontal_padded_rgb : k.horizontal[channels_ - 1];
    const int blocks = (dst_height_ + kHorizontalRowBlock - 1) / kHorizontalRowBlock;
    const int n = threads_both_;
#pragma omp parallel num_threads(n) if (n > 1)
    {
        std::uint8_t* rows = intermediate_.data() +
                             static_cast<std::size_t>(omp_get_thread_num()) * kHorizontalRowBlock * row_bytes;
#pragma omp for schedule(dynamic, 4)
        for (int b = 0; b < blocks; ++b) {
            const int y0 = b * kHorizontalRowBlock;
            const int count = std::min(kHorizontalRowBlock, dst_height_ - y0);
            for (int r = 0; r < count; ++r) {
                const int y = y0 + r;
                k.vertical(in.row(vertical_.start[y] - first_row), in.stride, vertical_.count[y], vertical_.coeffs_of(y),
                           vertical_.precision, rows + r * row_bytes, row_bytes);
            }
            horizontal(rows, stride, dst.row(y0), dst.stride, count, horizontal_);
            if (alpha_) {
                for (int r = 0; r < count; ++r) k.unpremultiply(dst.row(y0 + r), dst.row(y0 + r), dst_width_, channels_);
            }
        }
    }
}

void ResizeJob::vertical_pass(const ImageView& in, int first_row, const MutableImageView& out, bool unpremultiply,
                              bool padded_rows) noexcept {
    // `in` row 0 is source row `first_row`: the plan's start indices are shifted by it.
    const Kernels& k = active_kernels();
    const std::size_t row_bytes = padded_rows ? static_cast<std::size_t>(out.width) * 4 : out.row_bytes();
    const int n = threads_vertical_;
#pragma omp parallel num_threads(n) if (n > 1)
    {
        std::uint8_t* padded = padded_rows ? intermediate_.data() + omp_get_thread_num() * row_bytes : nullptr;
#pragma omp for schedule(dynamic, 4)
        for (int y = 0; y < out.height; ++y) {
            std::uint8_t* to = padded_rows ? padded : out.row(y);
            k.vertical(in.row(vertical_.start[y] - first_row), in.stride, vertical_.count[y], vertical_.coeffs_of(y),
                       vertical_.precision, to, row_bytes);
            if (padded_rows) k.pack_padded_rgb(padded, out.row(y), out.width);
            if (unpremultiply) k.unpremultiply(out.row(y), out.row(y), out.width, channels_);
        }
    }
}

void ResizeJob::run(const ImageView& src, const MutableImageView& dst) noexcept {
    if (filter_ == Filter::Nearest) return run_nearest(src, dst);
    const bool alpha = alpha_;
    const int c = channels_;

    if (!need_horizontal_ && !need_vertical_) {  // same size: a copy, as Pillow returns
        for (int y = 0; y < dst_height_; ++y) {
            if (padded_source_) {
                active_kernels().pack_padded_rgb(src.row(y), dst.row(y), dst_width_);
            } else {
                std::memcpy(dst.row(y), src.row(y), dst.row_bytes());
            }
        }
        return;
    }
    const int first_row = need_vertical_ ? vertical_.first_used() : 0;
    const int last_row = need_vertical_ ? vertical_.last_used() : src_height_;
    const auto src_row_stride = static_cast<std::ptrdiff_t>(src.row_bytes());

    // The vertical pass reads the source rows [first_row, last_row), premultiplied first when they
    // have alpha; padded rows as they are.
    ImageView vertical_source{src.row(first_row), src_width_, last_row - first_row, c, src.stride};
    if (need_vertical_ && alpha && (vertical_first_ || !need_horizontal_)) {
        stage_rows(src, first_row, last_row);
        vertical_source = ImageView{staged_.data(), src_width_, last_row - first_row, c, src_row_stride};
    }

    if (vertical_first_) {
        run_vertical_first(vertical_source, first_row, dst);
    } else if (stream_horizontal_first_) {
        run_horizontal_first(src, dst);
    } else if (need_horizontal_ && need_vertical_) {
        const ImageView rows{src.row(first_row), src_width_, last_row - first_row, c, src.stride};
        MutableImageView wide{intermediate_.data(), dst_width_, last_row - first_row, c,
                              static_cast<std::ptrdiff_t>(dst.row_bytes())};
        horizontal_pass(rows, wide, false);
        vertical_pass(wide.view(), first_row, dst, alpha, false);
    } else if (need_horizontal_) {
        horizontal_pass(src, dst, alpha);
    } else {
        vertical_pass(vertical_source, first_row, dst, alpha, padded_source_);
    }
}

}  // namespace fastbatch
