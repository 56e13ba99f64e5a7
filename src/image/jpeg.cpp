#include "darkroom/image/jpeg.hpp"

// jpeglib.h uses FILE and size_t without including their headers.
#include <cstddef>
#include <cstdio>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <new>
#include <stdexcept>
#include <string>

#include "checks.hpp"
#include "header.hpp"

namespace darkroom::image {
namespace {

constexpr int kMaxJpegSide = JPEG_MAX_DIMENSION;  // 65500
// A progressive file of thousands of tiny scans costs minutes of CPU; libjpeg-turbo's own TurboJPEG API
// stops at 500 for the same reason.
constexpr int kMaxScans = 500;
// Progressive decoding keeps every coefficient of the image (2 bytes per sample); beyond this, libjpeg
// fails with "Backing store not supported" instead of allocating more. Enough for 8192x8192 4:4:4.
constexpr long kMaxCoefficientMemory = 512L << 20;

// libjpeg reports errors by calling error_exit, which must not return; it longjmps back to the setjmp in
// the function that called libjpeg. Those functions (compress, read_header, read_pixels) keep only
// trivially destructible locals, so the jump skips no destructor; the message is thrown once control is
// back in ordinary C++.
struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg only knows cinfo->err, which points here
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Level -1 is a warning: damaged data that libjpeg would paper over (a truncated file decodes with its
// missing rows gray). Fail instead, as TurboJPEG's TJFLAG_STOPONWARNING does. Trace levels are ignored.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->progressive_mode && d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d progressive scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

ErrorManager* install_error_manager(ErrorManager* err) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = on_error;
  err->pub.emit_message = on_message;
  return err;
}

// --- encoding: a destination manager that grows a std::vector (jpeg_mem_dest leaks its buffer when an
// error interrupts it) ---

struct Destination {
  jpeg_destination_mgr pub;  // first: libjpeg only knows cinfo->dest
  std::vector<uint8_t>* out = nullptr;
};

void init_destination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<Destination*>(cinfo->dest);
  dest->pub.next_output_byte = dest->out->data();
  dest->pub.free_in_buffer = dest->out->size();
}

boolean grow_destination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<Destination*>(cinfo->dest);
  const std::size_t used = dest->out->size();  // libjpeg calls this only when the buffer is full
  bool ok = true;
  try {
    dest->out->resize(2 * used);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  if (!ok) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);  // outside the handler: it longjmps
  dest->pub.next_output_byte = dest->out->data() + used;
  dest->pub.free_in_buffer = dest->out->size() - used;
  return TRUE;
}

void term_destination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<Destination*>(cinfo->dest);
  dest->out->resize(dest->out->size() - dest->pub.free_in_buffer);
}

struct Compressor {
  jpeg_compress_struct cinfo{};
  ErrorManager err;
  Destination dest;
  Compressor() { cinfo.err = &install_error_manager(&err)->pub; }
  ~Compressor() { jpeg_destroy_compress(&cinfo); }  // safe on a struct that creation did not finish
};

bool compress(Compressor* c, const Image* image, int quality) {
  if (setjmp(c->err.jump)) return false;
  jpeg_create_compress(&c->cinfo);
  c->dest.pub.init_destination = init_destination;
  c->dest.pub.empty_output_buffer = grow_destination;
  c->dest.pub.term_destination = term_destination;
  c->cinfo.dest = &c->dest.pub;
  c->cinfo.image_width = static_cast<JDIMENSION>(image->width);
  c->cinfo.image_height = static_cast<JDIMENSION>(image->height);
  c->cinfo.input_components = image->channels;
  c->cinfo.in_color_space = image->channels == 4 ? JCS_EXT_RGBX : JCS_RGB;  // RGBX: the 4th byte is skipped
  jpeg_set_defaults(&c->cinfo);
  jpeg_set_quality(&c->cinfo, quality, TRUE);
  jpeg_start_compress(&c->cinfo, TRUE);
  const std::size_t row_bytes = static_cast<std::size_t>(image->width) * image->channels;
  while (c->cinfo.next_scanline < c->cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(image->pixels.data() + row_bytes * c->cinfo.next_scanline);
    jpeg_write_scanlines(&c->cinfo, &row, 1);
  }
  jpeg_finish_compress(&c->cinfo);
  return true;
}

// --- decoding ---

struct Decompressor {
  jpeg_decompress_struct cinfo{};
  ErrorManager err;
  jpeg_progress_mgr progress{};
  Decompressor() {
    cinfo.err = &install_error_manager(&err)->pub;
    progress.progress_monitor = on_progress;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
};

// Reads the markers up to the first scan: the frame header with the size, but no pixel or coefficient
// buffer, which libjpeg allocates only in jpeg_start_decompress.
bool read_header(Decompressor* d, std::span<const uint8_t> bytes) {
  if (setjmp(d->err.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  d->cinfo.progress = &d->progress;
  d->cinfo.mem->max_memory_to_use = kMaxCoefficientMemory;
  jpeg_mem_src(&d->cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(&d->cinfo, TRUE) != JPEG_HEADER_OK) ERREXIT(&d->cinfo, JERR_NO_IMAGE);
  d->cinfo.out_color_space = JCS_RGB;  // gray and YCbCr convert; CMYK fails in jpeg_start_decompress
  return true;
}

std::runtime_error fail(const std::string& problem) { return std::runtime_error("JPEG data: " + problem); }

// Checks the SOI signature, then reads the header (read_header) and returns the image size. libjpeg
// refuses sides above JPEG_MAX_DIMENSION (65500) there, so both fit an int.
detail::Size open_jpeg(Decompressor* d, std::span<const uint8_t> bytes) {
  if (bytes.size() < 3 || bytes[0] != 0xff || bytes[1] != 0xd8 || bytes[2] != 0xff)
    throw fail("not a JPEG file (it does not start with the JPEG SOI marker)");
  if (!read_header(d, bytes)) throw fail(d->err.message);
  return {static_cast<int>(d->cinfo.image_width), static_cast<int>(d->cinfo.image_height)};
}

bool read_pixels(Decompressor* d, uint8_t* pixels) {
  if (setjmp(d->err.jump)) return false;
  jpeg_start_decompress(&d->cinfo);
  if (d->cinfo.output_components != 3) ERREXIT(&d->cinfo, JERR_CONVERSION_NOTIMPL);
  const std::size_t row_bytes = 3 * static_cast<std::size_t>(d->cinfo.output_width);
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = pixels + row_bytes * d->cinfo.output_scanline;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

}  // namespace

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  detail::check_quality(quality, "encode_jpeg");
  detail::check_image(image, "encode_jpeg", kMaxJpegSide);
  std::vector<uint8_t> out(image.pixels.size() / 8 + 4096);  // grows by doubling when a file needs more
  Compressor c;
  c.dest.out = &out;
  if (!compress(&c, &image, quality)) throw std::runtime_error(std::string("cannot encode JPEG: ") + c.err.message);
  return out;
}

detail::Size detail::jpeg_size(std::span<const uint8_t> bytes) {
  Decompressor d;
  return open_jpeg(&d, bytes);
}

Image decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  Decompressor d;
  const auto size = open_jpeg(&d, bytes);
  detail::check_size("JPEG data", size, limits);
  Image out{size.width, size.height, 3, {}};
  out.pixels.resize(3 * static_cast<std::size_t>(size.width) * size.height);
  if (!read_pixels(&d, out.pixels.data())) throw fail(d.err.message);
  return out;
}

}  // namespace darkroom::image
