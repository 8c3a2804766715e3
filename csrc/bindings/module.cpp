// fastbatch._core: the only door between Python and the C++ core. Validates and allocates with
// the GIL held, releases it for the pixel work. Error messages here are pinned by tests.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fastbatch/cpu.hpp"
#include "fastbatch/gray.hpp"
#include "fastbatch/layout.hpp"
#include "fastbatch/resize.hpp"

namespace py = pybind11;
using namespace fastbatch;

namespace {

std::string shape_text(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// A uint8 array of shape (H, W) or (H, W, C), C in 1..4, each side in 1..kMaxSide; any strides.
py::array checked_array(const py::object& obj) {
    if (!py::isinstance<py::array>(obj)) {
        throw py::type_error("image must be a numpy.ndarray of uint8 or a PIL.Image.Image, got " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    }
    auto array = py::reinterpret_borrow<py::array>(obj);
    if (array.dtype().kind() != 'u' || array.itemsize() != 1) {
        throw py::type_error("image must have dtype uint8, got " + std::string(py::str(array.dtype())));
    }
    const int ndim = static_cast<int>(array.ndim());
    const py::ssize_t channels = ndim == 3 ? array.shape(2) : 1;
    if ((ndim != 2 && ndim != 3) || channels < 1 || channels > 4) {
        throw py::value_error("image must have shape (H, W) or (H, W, C) with C in 1..4, got shape " +
                              shape_text(array));
    }
    if (array.shape(0) < 1 || array.shape(1) < 1) {
        throw py::value_error("image must be at least 1x1, got shape " + shape_text(array));
    }
    if (array.shape(0) > kMaxSide || array.shape(1) > kMaxSide) {
        throw py::value_error("image sides must be at most " + std::to_string(kMaxSide) + ", got shape " +
                              shape_text(array));
    }
    return array;
}

// A new C-contiguous uint8 array shaped like `like` ((H, W) or (H, W, C)) with the given size.
py::array_t<std::uint8_t> new_image(int ndim, int width, int height, int channels) {
    if (ndim == 2) return py::array_t<std::uint8_t>({height, width});
    return py::array_t<std::uint8_t>({height, width, channels});
}

MutableImageView mutable_view(py::array_t<std::uint8_t>& a, int width, int height, int channels) {
    return MutableImageView{a.mutable_data(), width, height, channels,
                            static_cast<std::ptrdiff_t>(width) * channels};
}

int checked_threads(long long threads) {
    if (threads < 0 || threads > 1 << 16) {
        throw py::value_error("threads must be 0 (all cores) or a positive int, got " + std::to_string(threads));
    }
    return static_cast<int>(threads);
}

// A new C-contiguous copy of a checked array. Through the core when each pixel's channels are
// consecutive bytes (every view numpy makes by slicing, flipping or transposing an image), which
// copies a transposed 1280x960 RGB in about 2 ms where numpy takes 11-13.
py::array contiguous_copy(const py::array& array, int threads) {
    const int ndim = static_cast<int>(array.ndim());
    const int channels = ndim == 3 ? static_cast<int>(array.shape(2)) : 1;
    if (ndim == 3 && array.strides(2) != 1) {
        return py::module_::import("numpy").attr("array")(array, py::arg("copy") = true, py::arg("order") = "C");
    }
    const int width = static_cast<int>(array.shape(1)), height = static_cast<int>(array.shape(0));
    StridedView src{static_cast<const std::uint8_t*>(array.data()), width, height, channels,
                    static_cast<std::ptrdiff_t>(array.strides(0)), static_cast<std::ptrdiff_t>(array.strides(1))};
    auto out = new_image(ndim, width, height, channels);
    MutableImageView dst = mutable_view(out, width, height, channels);
    {
        py::gil_scoped_release release;
        copy_pixels(src, dst, threads);
    }
    return out;
}

// A validated uint8 image whose pixels are contiguous within each row (or, when allowed, 3-channel
// pixels 4 bytes apart). Holds the array (or a contiguous copy of it, made only when the strides
// require one) for as long as the view is used.
struct InputImage {
    py::array array;
    ImageView view;
};

InputImage as_image(const py::object& obj, int threads, bool allow_padded = false) {
    py::array array = checked_array(obj);
    const int ndim = static_cast<int>(array.ndim());
    const py::ssize_t channels = ndim == 3 ? array.shape(2) : 1;
    const py::ssize_t pixel_step = array.strides(1);
    const py::ssize_t channel_step = ndim == 3 ? array.strides(2) : 1;
    // RGB as Pillow stores it, 4 bytes a pixel, seen through a [..., :3] view: read in place.
    const bool padded = allow_padded && channels == 3 && pixel_step == 4 && channel_step == 1;
    if (!padded && (pixel_step != channels || channel_step != 1)) {
        // Pixels not packed within rows (a column slice with a step, a transpose): one copy.
        array = contiguous_copy(array, threads);
    }
    ImageView view{static_cast<const std::uint8_t*>(array.data()), static_cast<int>(array.shape(1)),
                   static_cast<int>(array.shape(0)), static_cast<int>(channels),
                   static_cast<std::ptrdiff_t>(array.strides(0)), padded ? 4 : 0};
    return InputImage{array, view};
}

// Resize of the whole image, or of `box` (left, top, right, bottom in source pixels) when given.
py::array resize_image(const py::object& image, long long width, long long height, const std::string& filter_name,
                       long long threads, const SourceBox* box, PassOrder order) {
    const int nthreads = checked_threads(threads);
    InputImage in = as_image(image, nthreads, /*allow_padded=*/true);
    if (width < 1 || height < 1) {
        throw py::value_error("size must be positive, got (" + std::to_string(width) + ", " + std::to_string(height) +
                              ")");
    }
    if (width > kMaxSide || height > kMaxSide) {
        throw py::value_error("size (" + std::to_string(width) + ", " + std::to_string(height) +
                              ") is too large: each side must be at most " + std::to_string(kMaxSide));
    }
    auto filter = parse_filter(filter_name);
    if (!filter) {
        throw py::value_error("unknown filter '" + filter_name + "'; expected one of " + std::string(kFilterNames));
    }
    if (box) {
        // Negated comparisons so that NaN fails them too.
        const bool inside = box->left >= 0.0f && box->top >= 0.0f && box->right <= in.view.width &&
                            box->bottom <= in.view.height;
        const bool ordered = box->left < box->right && box->top < box->bottom;
        if (!(inside && ordered)) {
            throw py::value_error("box (" + std::to_string(box->left) + ", " + std::to_string(box->top) + ", " +
                                  std::to_string(box->right) + ", " + std::to_string(box->bottom) +
                                  ") must have 0 <= left < right <= " + std::to_string(in.view.width) +
                                  " and 0 <= top < bottom <= " + std::to_string(in.view.height));
        }
    }
    const int w = static_cast<int>(width), h = static_cast<int>(height), c = in.view.channels;
    ResizeJob job(in.view.width, in.view.height, c, w, h, *filter, nthreads, in.view.padded(), box, order);
    auto out = new_image(static_cast<int>(in.array.ndim()), w, h, c);
    MutableImageView dst = mutable_view(out, w, h, c);
    {
        py::gil_scoped_release release;
        job.run(in.view, dst);
    }
    return out;
}

py::array resize(const py::object& image, long long width, long long height, const std::string& filter_name,
                 long long threads) {
    return resize_image(image, width, height, filter_name, threads, nullptr, PassOrder::Pillow);
}

// any_order: PassOrder::Fastest (the batch's default mode) instead of Pillow's order.
py::array resize_box(const py::object& image, long long width, long long height, double left, double top,
                     double right, double bottom, const std::string& filter_name, long long threads, bool any_order) {
    // Single precision, as Pillow takes a box: the same sampling positions as Image.resize(box=...).
    const SourceBox box{static_cast<float>(left), static_cast<float>(top), static_cast<float>(right),
                        static_cast<float>(bottom)};
    return resize_image(image, width, height, filter_name, threads, &box,
                        any_order ? PassOrder::Fastest : PassOrder::Pillow);
}

py::array grayscale_image(const py::object& image, const std::string& weights_name, long long threads) {
    const int nthreads = checked_threads(threads);
    InputImage in = as_image(image, nthreads, /*allow_padded=*/true);
    auto weights = parse_weights(weights_name);
    if (!weights) {
        throw py::value_error("unknown weights '" + weights_name + "'; expected one of " + std::string(kWeightNames));
    }
    const int c = in.view.channels;
    if (c < 3) {  // already grey: a contiguous copy, so the result never aliases the input
        return py::module_::import("numpy").attr("array")(in.array, py::arg("copy") = true, py::arg("order") = "C");
    }
    const int out_channels = c == 4 ? 2 : 1;
    auto out = new_image(out_channels == 1 ? 2 : 3, in.view.width, in.view.height, out_channels);
    MutableImageView dst = mutable_view(out, in.view.width, in.view.height, out_channels);
    {
        py::gil_scoped_release release;
        fastbatch::grayscale(in.view, dst, *weights, nthreads);
    }
    return out;
}

py::array copy_image(const py::object& image, long long threads) {
    const int nthreads = checked_threads(threads);
    return contiguous_copy(checked_array(image), nthreads);
}

py::array flatten_image(const py::object& image, const std::vector<int>& background, long long threads) {
    const int nthreads = checked_threads(threads);
    InputImage in = as_image(image, nthreads);
    const int c = in.view.channels;
    if (c != 2 && c != 4) {
        throw py::value_error("image must have an alpha channel (shape (H, W, 2) or (H, W, 4)), got shape " +
                              shape_text(in.array));
    }
    std::uint8_t colour[3];
    if (static_cast<int>(background.size()) != c - 1 ||
        std::any_of(background.begin(), background.end(), [](int v) { return v < 0 || v > 255; })) {
        throw py::value_error(std::string("background must be ") + (c == 2 ? "1 value" : "3 values") +
                              " in 0..255 for " + std::to_string(c) + "-channel pixels");
    }
    std::copy(background.begin(), background.end(), colour);
    auto out = new_image(c == 2 ? 2 : 3, in.view.width, in.view.height, c - 1);
    MutableImageView dst = mutable_view(out, in.view.width, in.view.height, c - 1);
    {
        py::gil_scoped_release release;
        flatten_alpha(in.view, dst, colour, nthreads);
    }
    return out;
}

// The Arrow C data interface (arrow.apache.org/docs/format/CDataInterface.html), the two structs
// Pillow exports an image's pixels through.
struct ArrowSchema {
    const char* format;
    const char* name;
    const char* metadata;
    std::int64_t flags;
    std::int64_t n_children;
    ArrowSchema** children;
    ArrowSchema* dictionary;
    void (*release)(ArrowSchema*);
    void* private_data;
};
struct ArrowArray {
    std::int64_t length;
    std::int64_t null_count;
    std::int64_t offset;
    std::int64_t n_buffers;
    std::int64_t n_children;
    const void** buffers;
    ArrowArray** children;
    ArrowArray* dictionary;
    void (*release)(ArrowArray*);
    void* private_data;
};

// A read-only (height, width) or (height, width, 4) view of a Pillow image's pixels, without a copy,
// from its __arrow_c_array__ export: one byte a pixel (format "C") or four (a fixed-size list "+w:4"
// of "C": RGB padded, RGBA). The view owns the exported array, which keeps Pillow's memory alive.
// None when the export is not one of those (the caller falls back to a copy).
py::object pillow_pixels(const py::object& image, long long width, long long height) {
    py::tuple capsules = image.attr("__arrow_c_array__")();
    auto* schema = static_cast<ArrowSchema*>(PyCapsule_GetPointer(capsules[0].ptr(), "arrow_schema"));
    auto* exported = static_cast<ArrowArray*>(PyCapsule_GetPointer(capsules[1].ptr(), "arrow_array"));
    if (schema == nullptr || exported == nullptr) throw py::error_already_set();
    if (exported->release == nullptr || width < 1 || height < 1 || width > kMaxSide || height > kMaxSide) {
        return py::none();
    }
    const std::string format = schema->format ? schema->format : "";
    const ArrowArray* values = exported;
    int pixel_bytes = 0;
    if (format == "C" && exported->n_buffers == 2) {
        pixel_bytes = 1;
    } else if (format == "+w:4" && schema->n_children == 1 && schema->children[0]->format != nullptr &&
               std::string(schema->children[0]->format) == "C" && exported->n_children == 1 &&
               exported->children[0]->n_buffers == 2) {
        pixel_bytes = 4;
        values = exported->children[0];
    } else {
        return py::none();
    }
    const std::int64_t pixels = static_cast<std::int64_t>(width) * height;
    const bool plain = exported->null_count == 0 && exported->offset == 0 && exported->length == pixels &&
                       values->null_count == 0 && values->length >= pixels * pixel_bytes &&
                       values->buffers[1] != nullptr;
    if (!plain) return py::none();
    const auto* data = static_cast<const std::uint8_t*>(values->buffers[1]) + values->offset;
    // Move the array out of its capsule (the protocol's way to take ownership): the capsule's
    // destructor then sees release == nullptr and leaves it to us.
    auto* owned = new ArrowArray(*exported);
    exported->release = nullptr;
    py::capsule owner(owned, [](void* p) {
        auto* array = static_cast<ArrowArray*>(p);
        if (array->release != nullptr) array->release(array);
        delete array;
    });
    std::vector<py::ssize_t> shape{height, width}, strides{width * pixel_bytes, pixel_bytes};
    if (pixel_bytes == 4) {
        shape.push_back(4);
        strides.push_back(1);
    }
    py::array view(py::dtype::of<std::uint8_t>(), shape, strides, data, owner);
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return std::move(view);
}

// The active kernel table's un-premultiply on (n, 2) or (n, 4) pixels: lets tests compare every
// table on values a resize cannot be steered to produce (colour above alpha after an overshoot).
py::array unpremultiply_pixels(const py::array& given) {
    if (given.dtype().kind() != 'u' || given.itemsize() != 1) throw py::type_error("pixels must have dtype uint8");
    auto pixels = py::array_t<std::uint8_t, py::array::c_style>::ensure(given);
    if (pixels.ndim() != 2 || (pixels.shape(1) != 2 && pixels.shape(1) != 4) || pixels.shape(0) > (1 << 30)) {
        throw py::value_error("expected an (n, 2) or (n, 4) uint8 array, got shape " + shape_text(pixels));
    }
    py::array_t<std::uint8_t> out({pixels.shape(0), pixels.shape(1)});
    active_kernels().unpremultiply(pixels.data(), out.mutable_data(), static_cast<int>(pixels.shape(0)),
                                   static_cast<int>(pixels.shape(1)));
    return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "fastbatch's compiled core: resize and grayscale of uint8 images, GIL released.";
    m.def("resize", &resize, py::arg("image"), py::arg("width"), py::arg("height"), py::arg("filter"),
          py::arg("threads"),
          "Resize a uint8 (H, W) or (H, W, C) array to width x height. threads=0 uses every core.");
    m.def("resize_box", &resize_box, py::arg("image"), py::arg("width"), py::arg("height"), py::arg("left"),
          py::arg("top"), py::arg("right"), py::arg("bottom"), py::arg("filter"), py::arg("threads"),
          py::arg("any_order"),
          "Resize the source rectangle (left, top, right, bottom) to width x height, like Pillow's resize(box=...); "
          "any_order=True lets the passes run in the faster order (no longer within 1 of Pillow).");
    m.def("grayscale", &grayscale_image, py::arg("image"), py::arg("weights"), py::arg("threads"),
          "RGB -> L, RGBA -> LA (alpha kept); 1- and 2-channel images are copied. threads=0 uses every core.");
    m.def("copy", &copy_image, py::arg("image"), py::arg("threads"),
          "A C-contiguous copy of a uint8 (H, W) or (H, W, C) array of any strides. threads=0 uses every core.");
    m.def("flatten", &flatten_image, py::arg("image"), py::arg("background"), py::arg("threads"),
          "LA -> L or RGBA -> RGB over an opaque background (1 or 3 values): (c*a + b*(255-a) + 127) // 255.");
    m.def("available_isas", &available_isas, "Kernel tables this build has and this CPU runs, best last.");
    m.def("active_isa", [] { return std::string(active_kernels().name); }, "The kernel table in use.");
    m.def(
        "select_isa",
        [](const std::string& name) {
            if (!select_kernels(name)) {
                std::string names;
                for (const auto& n : available_isas()) names += (names.empty() ? "" : ", ") + n;
                throw py::value_error("instruction set '" + name + "' is not available; available: " + names);
            }
        },
        py::arg("name"), "Force a kernel table (tests and benchmarks). Not safe while other calls run.");
    m.def("pillow_pixels", &pillow_pixels, py::arg("image"), py::arg("width"), py::arg("height"),
          "A read-only view of a PIL image's pixels through its Arrow export, or None when unsupported.");
    m.def("unpremultiply_pixels", &unpremultiply_pixels, py::arg("pixels"),
          "The active kernel table's un-premultiply of (n, 2) or (n, 4) uint8 pixels (tests).");
}
