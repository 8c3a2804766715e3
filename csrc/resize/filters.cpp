// Pillow's filter functions, written from their published definitions.
#include "fastbatch/filters.hpp"

#include <cmath>

namespace fastbatch {
namespace {

constexpr double kPi = 3.14159265358979323846;

double box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double triangle(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming(double x) {
    x = std::fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= kPi;
    // Pillow multiplies by float constants; keep them float so the weights match to the last bit.
    return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

double cubic(double x) {
    constexpr double a = -0.5;  // Pillow's (and Catmull-Rom's) choice
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= kPi;
    return std::sin(x) / x;
}

double lanczos3(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

}  // namespace

std::optional<Filter> parse_filter(std::string_view name) {
    if (name == "nearest") return Filter::Nearest;
    if (name == "box") return Filter::Box;
    if (name == "bilinear") return Filter::Bilinear;
    if (name == "hamming") return Filter::Hamming;
    if (name == "bicubic") return Filter::Bicubic;
    if (name == "lanczos3" || name == "lanczos") return Filter::Lanczos3;
    return std::nullopt;
}

double filter_support(Filter filter) {
    switch (filter) {
        case Filter::Nearest: return 0.0;
        case Filter::Box: return 0.5;
        case Filter::Bilinear: return 1.0;
        case Filter::Hamming: return 1.0;
        case Filter::Bicubic: return 2.0;
        case Filter::Lanczos3: return 3.0;
    }
    return 0.0;
}

double filter_weight(Filter filter, double x) {
    switch (filter) {
        case Filter::Box: return box(x);
        case Filter::Bilinear: return triangle(x);
        case Filter::Hamming: return hamming(x);
        case Filter::Bicubic: return cubic(x);
        case Filter::Lanczos3: return lanczos3(x);
        case Filter::Nearest: break;
    }
    return 0.0;
}

}  // namespace fastbatch
