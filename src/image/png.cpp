#include "darkroom/image/png.hpp"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "header.hpp"

namespace darkroom::image {
namespace {

// Decoded images are allocated before their data is checked, so a tiny hostile file could otherwise
// claim 1e6 x 1e6 pixels. 16384 is well beyond what the engine generates or upscales to.
constexpr uint32_t kMaxSide = 16384;

// libpng reports errors by longjmp. Every libpng call runs inside a function (write_stream, read_header,
// read_pixels) whose locals are trivially destructible, so the jump skips no destructor; the message is
// kept here and thrown as an exception once control is back in ordinary C++.
struct Context {
  char error[512] = "";
  char warning[256] = "";  // the last one: libpng often explains an error in a warning just before it
  std::vector<uint8_t>* out = nullptr;  // encoding
  std::span<const uint8_t> in;          // decoding
  std::size_t pos = 0;
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<Context*>(png_get_error_ptr(png));
  if (ctx->warning[0] != '\0')
    std::snprintf(ctx->error, sizeof ctx->error, "%s (%s)", message, ctx->warning);
  else
    std::snprintf(ctx->error, sizeof ctx->error, "%s", message);
  png_longjmp(png, 1);
}

// Warnings (a known-bad sRGB profile, a bad CRC in an ancillary chunk that libpng skips) do not stop
// decoding and would only clutter stderr; the last one is kept to explain an error that may follow.
void on_warning(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<Context*>(png_get_error_ptr(png));
  std::snprintf(ctx->warning, sizeof ctx->warning, "%s", message);
}

void write_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    ctx->out->insert(ctx->out->end(), data, data + size);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  if (!ok) png_error(png, "out of memory");  // outside the handler: it longjmps
}

void read_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  if (ctx->in.size() - ctx->pos < size) png_error(png, "truncated: the PNG data ends early");
  std::memcpy(data, ctx->in.data() + ctx->pos, size);
  ctx->pos += size;
}

// --- text: keywords are Latin-1; values are tEXt (Latin-1) when they fit and iTXt (UTF-8) otherwise ---

// Decodes UTF-8, rejecting what a PNG text cannot hold: malformed sequences, overlongs, surrogates and NUL.
std::u32string decode_utf8(std::string_view s, std::string_view what) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<uint8_t>(s[i]);
    const int extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xe ? 2 : (lead >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra))
      throw std::invalid_argument(std::string(what) + " is not valid UTF-8");
    char32_t c = extra == 0 ? lead : lead & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(s[i + k]);
      if ((next & 0xc0) != 0x80) throw std::invalid_argument(std::string(what) + " is not valid UTF-8");
      c = (c << 6) | (next & 0x3f);
    }
    constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (c < kMin[extra] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
      throw std::invalid_argument(std::string(what) + " is not valid UTF-8");
    if (c == 0) throw std::invalid_argument(std::string(what) + " contains a NUL character");
    out.push_back(c);
    i += extra + 1;
  }
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// A PNG keyword: 1-79 Latin-1 characters, printable, without leading, trailing or doubled spaces.
std::string latin1_keyword(const std::string& key) {
  const auto points = decode_utf8(key, "PNG text keyword '" + key + "'");
  std::string out;
  for (char32_t c : points) {
    const bool printable = (c >= 0x20 && c <= 0x7e) || (c >= 0xa1 && c <= 0xff);
    if (!printable || (c == ' ' && (out.empty() || out.back() == ' ')))
      throw std::invalid_argument("PNG text keyword '" + key + "' has a character a PNG keyword cannot hold");
    out.push_back(static_cast<char>(c));
  }
  if (out.empty() || out.size() > 79 || out.back() == ' ')
    throw std::invalid_argument("PNG text keyword '" + key + "' must be 1-79 characters without surrounding spaces");
  return out;
}

// A text chunk as it will be stored: Latin-1 keyword, and Latin-1 (tEXt) or UTF-8 (iTXt) text.
struct StoredText {
  std::string key;
  std::string text;
  bool utf8 = false;
};

std::vector<StoredText> to_stored_texts(const TextChunks& text_chunks) {
  std::vector<StoredText> out;
  for (const auto& [key, value] : text_chunks) {
    const auto points = decode_utf8(value, "PNG text '" + key + "'");
    const bool latin1 = std::all_of(points.begin(), points.end(), [](char32_t c) { return c <= 0xff; });
    out.push_back({latin1_keyword(key), latin1 ? std::string(points.begin(), points.end()) : value, !latin1});
  }
  return out;
}

// Own a libpng read or write struct and its info struct.
struct ReadStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadStruct() { png_destroy_read_struct(&png, &info, nullptr); }
};
struct WriteStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteStruct() { png_destroy_write_struct(&png, &info); }
};

// --- encoding ---

bool write_stream(png_structp png, png_infop info, Context* ctx, const Image* image, png_bytepp rows,
                  png_textp text, int num_text) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, ctx, write_bytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width), static_cast<png_uint_32>(image->height), 8,
               image->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (num_text > 0) png_set_text(png, info, text, num_text);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  return true;
}

// --- decoding ---

struct Header {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
};

// Reads up to the image data and sets the transforms that turn every PNG layout into RGB8.
bool read_header(png_structp png, png_infop info, Context* ctx, Header* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, ctx, read_bytes);
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_scale_16(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
  }
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != 3 * static_cast<std::size_t>(png_get_image_width(png, info)))
    png_error(png, "unsupported PNG layout");
  header->width = png_get_image_width(png, info);
  header->height = png_get_image_height(png, info);
  return true;
}

bool read_pixels(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);  // text chunks may follow the image data
  return true;
}

struct Decoded {
  Image image;
  TextChunks text;
};

// The size is checked from the IHDR bytes before libpng is even created, so an oversized image costs no
// allocation at all; libpng's own limit (kMaxSide) stays as a second guard.
Decoded decode(std::span<const uint8_t> bytes, const std::string& source, const DecodeLimits& limits) {
  const auto fail = [&](const std::string& problem) { return std::runtime_error(source + ": " + problem); };
  detail::check_size(source, detail::png_size(bytes, source), limits);

  Context ctx;
  ctx.in = bytes;
  ReadStruct s;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.info) throw std::bad_alloc();

  Header header;
  if (!read_header(s.png, s.info, &ctx, &header)) throw fail(ctx.error);
  Decoded out;
  out.image.width = static_cast<int>(header.width);
  out.image.height = static_cast<int>(header.height);
  out.image.pixels.resize(3 * static_cast<std::size_t>(header.width) * header.height);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y)
    rows[y] = out.image.pixels.data() + 3 * std::size_t{header.width} * y;
  ctx.warning[0] = '\0';  // a warning about the header does not explain an error in the pixels
  if (!read_pixels(s.png, s.info, rows.data())) throw fail(ctx.error);

  png_textp text = nullptr;
  const int num_text = png_get_text(s.png, s.info, &text, nullptr);
  for (int i = 0; i < num_text; ++i) {
    const bool utf8 = text[i].compression >= PNG_ITXT_COMPRESSION_NONE;
    const std::string_view value(text[i].text, utf8 ? text[i].itxt_length : text[i].text_length);
    out.text.emplace_back(latin1_to_utf8(text[i].key), utf8 ? std::string(value) : latin1_to_utf8(value));
  }
  return out;
}

uint32_t read_be32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]};
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& problem) { return std::runtime_error(path.string() + ": " + problem); };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw fail("is a directory, not a file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) throw fail(std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  if (std::ferror(file.get())) throw fail(std::string("cannot read: ") + std::strerror(errno));
  return bytes;
}

}  // namespace

// A PNG starts with its signature and then the IHDR chunk: length 13, "IHDR", width, height (big-endian).
detail::Size detail::png_size(std::span<const uint8_t> bytes, const std::string& source) {
  const auto fail = [&](const std::string& problem) { return std::runtime_error(source + ": " + problem); };
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    throw fail("not a PNG file (it does not start with the PNG signature)");
  if (bytes.size() < 24) throw fail("truncated: the PNG data ends before the image size in its IHDR chunk");
  if (read_be32(&bytes[8]) != 13 || std::memcmp(&bytes[12], "IHDR", 4) != 0)
    throw fail("damaged header: the PNG data does not start with a 13-byte IHDR chunk");
  const uint32_t width = read_be32(&bytes[16]), height = read_be32(&bytes[20]);
  if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX)
    throw fail("damaged header: IHDR gives the image size " + std::to_string(width) + "x" + std::to_string(height));
  return {static_cast<int>(width), static_cast<int>(height)};
}

std::vector<uint8_t> encode_png(const Image& image, const TextChunks& text_chunks) {
  if (image.channels != 3 && image.channels != 4)
    throw std::invalid_argument("encode_png: an image needs 3 (RGB) or 4 (RGBA) channels, not " +
                                std::to_string(image.channels));
  if (image.width <= 0 || image.height <= 0)
    throw std::invalid_argument("encode_png: image size " + std::to_string(image.width) + "x" +
                                std::to_string(image.height) + " is empty");
  const std::size_t row_bytes = static_cast<std::size_t>(image.width) * image.channels;
  if (image.pixels.size() != row_bytes * image.height)
    throw std::invalid_argument("encode_png: " + std::to_string(image.pixels.size()) + " pixel bytes for a " +
                                std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                                std::to_string(image.channels) + " image");
  const auto texts = to_stored_texts(text_chunks);
  std::vector<png_text> chunks(texts.size());  // libpng's view of texts
  for (std::size_t i = 0; i < texts.size(); ++i) {
    chunks[i].compression = texts[i].utf8 ? PNG_ITXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_NONE;
    chunks[i].key = const_cast<char*>(texts[i].key.c_str());
    chunks[i].text = const_cast<char*>(texts[i].text.c_str());
  }
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y) rows[y] = const_cast<png_bytep>(image.pixels.data() + row_bytes * y);
  std::vector<uint8_t> out;
  out.reserve(image.pixels.size() / 2 + 1024);

  Context ctx;
  ctx.out = &out;
  WriteStruct s;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.info) throw std::bad_alloc();
  if (!write_stream(s.png, s.info, &ctx, &image, rows.data(), chunks.data(), static_cast<int>(chunks.size())))
    throw std::runtime_error(std::string("cannot encode PNG: ") + ctx.error);
  return out;
}

void write_png(const std::filesystem::path& path, const Image& image, const TextChunks& text) {
  const auto bytes = encode_png(image, text);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!file) throw std::runtime_error(path.string() + ": cannot create: " + std::strerror(errno));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
  if (!written || std::fclose(file.release()) != 0)
    throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(errno));
}

Image read_png(const std::filesystem::path& path) { return decode(read_file(path), path.string(), {}).image; }

Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  return decode(bytes, "PNG data", limits).image;
}

TextChunks read_png_text(const std::filesystem::path& path) { return decode(read_file(path), path.string(), {}).text; }

}  // namespace darkroom::image
