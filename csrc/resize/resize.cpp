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
                     int threads, bool padded_source)
    : src_width_(src_width),
      src_height_(src_height),
      channels_(channels),
      dst_width_(dst_width),
      dst_height_(dst_height),
      alpha_(has_alpha(channels)),
      padded_source_(padded_source),
      stage_source_(alpha_ || padded_source),
      filter_(filter) {
    if (padded_source && channels != 3) {
        throw std::invalid_argument("only 3-channel pixels can be padded to 4 bytes");
    }
    check_image_size(src_width, src_height, channels, "source image", kMaxImageBytes);
    check_image_size(dst_width, dst_height, channels, "target", kMaxOutputBytes);
    const std::size_t dst_row_bytes = static_cast<std::size_t>(dst_width) * channels;

    if (filter == Filter::Nearest) {
        // Pillow maps output pixel i to floor(scale * (i + 0.5)), accumulating the position in a
        // double step by step (ImagingScaleAffine); doing the same gives the same picks.
        const double sx = static_cast<double>(src_width) / dst_width;
        const double sy = static_cast<double>(src_height) / dst_height;
        nearest_x_.resize(dst_width);
        nearest_y_.resize(dst_height);
        double pos = sx * 0.5;
        for (int& x : nearest_x_) {
            x = std::min(static_cast<int>(pos), src_width - 1);
            pos += sx;
        }
        pos = sy * 0.5;
        for (int& y : nearest_y_) {
            y = std::min(static_cast<int>(pos), src_height - 1);
            pos += sy;
        }
        threads_vertical_ = resolve_threads(threads, dst_row_bytes * dst_height, dst_height);
        return;
    }

    need_horizontal_ = dst_width != src_width;
    need_vertical_ = dst_height != src_height;
    const bool stage = stage_source_;
    int first_row = 0, last_row = src_height;
    if (need_vertical_) {
        vertical_ = make_axis_plan(src_height, dst_height, filter);
        first_row = vertical_.first_used();
        last_row = vertical_.last_used();
    }
    // One channel steps through 16 taps per multiply-add; more channels through 4 (passes_avx2.cpp).
    if (need_horizontal_) horizontal_ = make_axis_plan(src_width, dst_width, filter, channels == 1 ? 16 : 4);
    vertical_first_ = need_horizontal_ && need_vertical_ && prefer_vertical_first();
    const std::size_t rows = static_cast<std::size_t>(last_row - first_row);
    const std::size_t src_row_bytes = static_cast<std::size_t>(src_width) * channels;
    // Width of the vertical pass's rows, and how many rows the horizontal pass filters.
    const std::size_t vertical_row_bytes = vertical_first_ || !need_horizontal_ ? src_row_bytes : dst_row_bytes;
    const std::size_t horizontal_rows = vertical_first_ ? dst_height : rows;
    if (need_vertical_) {
        threads_vertical_ = resolve_threads(
            threads, vertical_row_bytes * dst_height * static_cast<std::size_t>(vertical_.taps), dst_height);
    }
    if (need_horizontal_) {
        threads_horizontal_ = resolve_threads(
            threads, dst_row_bytes * horizontal_rows * static_cast<std::size_t>(horizontal_.taps), horizontal_rows);
    }
    if (vertical_first_) {
        intermediate_.resize(static_cast<std::size_t>(dst_height) * src_row_bytes);
        if (stage) staged_.resize(rows * src_row_bytes);
    } else if (need_horizontal_ && need_vertical_) {
        intermediate_.resize(rows * dst_row_bytes);
        if (stage) staged_.resize(static_cast<std::size_t>(threads_horizontal_) * kHorizontalRowBlock * src_row_bytes);
    } else if (need_horizontal_ && stage) {
        staged_.resize(static_cast<std::size_t>(threads_horizontal_) * kHorizontalRowBlock * src_row_bytes);
    } else if (need_vertical_ && stage) {
        staged_.resize(rows * src_row_bytes);
    }
}

bool ResizeJob::prefer_vertical_first() const {
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
    const int step = padded_source_ ? 4 : c;
    const int n = threads_vertical_;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = 0; y < dst_height_; ++y) {
        const std::uint8_t* in = src.row(nearest_y_[y]);
        std::uint8_t* out = dst.row(y);
        for (int x = 0; x < dst_width_; ++x) std::memcpy(out + x * c, in + nearest_x_[x] * step, c);
    }
}

void ResizeJob::stage_row(const std::uint8_t* in, std::uint8_t* out) const noexcept {
    if (alpha_) {
        active_kernels().premultiply(in, out, src_width_, channels_);
        return;
    }
    active_kernels().pack_padded_rgb(in, out, src_width_);
}

void ResizeJob::stage_rows(const ImageView& src, int first_row, int last_row) noexcept {
    const std::size_t row_bytes = src.row_bytes();
    const int n = threads_vertical_;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = first_row; y < last_row; ++y) stage_row(src.row(y), staged_.data() + (y - first_row) * row_bytes);
}

void ResizeJob::horizontal_pass(const ImageView& in, const MutableImageView& out, bool stage,
                                bool unpremultiply) noexcept {
    const Kernels& k = active_kernels();
    const int c = channels_;
    const std::size_t in_row_bytes = in.row_bytes();
    const int blocks = (out.height + kHorizontalRowBlock - 1) / kHorizontalRowBlock;
    const int n = threads_horizontal_;
#pragma omp parallel num_threads(n) if (n > 1)
    {
        std::uint8_t* scratch =
            stage ? staged_.data() + static_cast<std::size_t>(omp_get_thread_num()) * kHorizontalRowBlock * in_row_bytes
                  : nullptr;
#pragma omp for schedule(dynamic, 4)
        for (int b = 0; b < blocks; ++b) {
            const int y0 = b * kHorizontalRowBlock;
            const int rows = std::min(kHorizontalRowBlock, out.height - y0);
            const std::uint8_t* first = in.row(y0);
            std::ptrdiff_t stride = in.stride;
            if (stage) {
                for (int r = 0; r < rows; ++r) stage_row(in.row(y0 + r), scratch + r * in_row_bytes);
                first = scratch;
                stride = static_cast<std::ptrdiff_t>(in_row_bytes);
            }
            k.horizontal[c - 1](first, stride, out.row(y0), out.stride, rows, horizontal_);
            if (unpremultiply) {
                for (int r = 0; r < rows; ++r) k.unpremultiply(out.row(y0 + r), out.row(y0 + r), out.width, c);
            }
        }
    }
}

void ResizeJob::vertical_pass(const ImageView& in, int first_row, const MutableImageView& out,
                              bool unpremultiply) noexcept {
    // `in` row 0 is source row `first_row`: the plan's start indices are shifted by it.
    const Kernels& k = active_kernels();
    const std::size_t row_bytes = out.row_bytes();
    const int n = threads_vertical_;
#pragma omp parallel for num_threads(n) if (n > 1) schedule(dynamic, 4)
    for (int y = 0; y < out.height; ++y) {
        k.vertical(in.row(vertical_.start[y] - first_row), in.stride, vertical_.count[y], vertical_.coeffs_of(y),
                   vertical_.precision, out.row(y), row_bytes);
        if (unpremultiply) k.unpremultiply(out.row(y), out.row(y), out.width, channels_);
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

    // The vertical pass reads the source rows [first_row, last_row), staged (premultiplied or packed)
    // when they need it.
    ImageView vertical_source{src.row(first_row), src_width_, last_row - first_row, c, src.stride};
    if (need_vertical_ && stage_source_ && (vertical_first_ || !need_horizontal_)) {
        stage_rows(src, first_row, last_row);
        vertical_source = ImageView{staged_.data(), src_width_, last_row - first_row, c, src_row_stride};
    }

    if (vertical_first_) {
        MutableImageView narrow{intermediate_.data(), src_width_, dst_height_, c, src_row_stride};
        vertical_pass(vertical_source, first_row, narrow, false);
        horizontal_pass(narrow.view(), dst, false, alpha);
    } else if (need_horizontal_ && need_vertical_) {
        const ImageView rows{src.row(first_row), src_width_, last_row - first_row, c, src.stride};
        MutableImageView wide{intermediate_.data(), dst_width_, last_row - first_row, c,
                              static_cast<std::ptrdiff_t>(dst.row_bytes())};
        horizontal_pass(rows, wide, stage_source_, false);
        vertical_pass(wide.view(), first_row, dst, alpha);
    } else if (need_horizontal_) {
        horizontal_pass(src, dst, stage_source_, alpha);
    } else {
        vertical_pass(vertical_source, first_row, dst, alpha);
    }
}

}  // namespace fastbatch
