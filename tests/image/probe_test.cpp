#include "darkroom/image/probe.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <ctime>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "darkroom/image/jpeg.hpp"
#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "sample_images.hpp"

namespace darkroom::image {
namespace {

using testing::photo_like;

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return be32(static_cast<uint32_t>(data.size())) + body + be32(static_cast<uint32_t>(crc));
}

// A complete, valid-looking 8-bit RGB PNG header claiming width x height, followed by image data far
// too short for it (one compressed byte): a decompression bomb needs no more to cost 3 x width x height
// bytes in a decoder that allocates before it checks the size.
std::vector<uint8_t> png_claiming(uint32_t width, uint32_t height) {
  const std::string rgb8 = {8, 2, 0, 0, 0};  // bit depth, colour type, compression, filter, interlace
  uLongf size = 64;
  std::string idat(size, '\0');
  compress(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>("\0"), 1);
  idat.resize(size);
  return bytes_of("\x89PNG\r\n\x1a\n" + png_chunk("IHDR", be32(width) + be32(height) + rgb8) +
                  png_chunk("IDAT", idat) + png_chunk("IEND", ""));
}

// A small real JPEG whose frame header (SOF0: FF C0, length, precision, height, width) claims
// width x height.
std::vector<uint8_t> jpeg_claiming(uint16_t width, uint16_t height) {
  auto bytes = encode_jpeg(photo_like(16, 16), 85);
  std::size_t sof = 2;
  while (sof + 9 < bytes.size() && !(bytes[sof] == 0xff && bytes[sof + 1] == 0xc0)) ++sof;
  if (sof + 9 >= bytes.size()) throw std::logic_error("encode_jpeg wrote no SOF0 marker");
  bytes[sof + 5] = static_cast<uint8_t>(height >> 8);
  bytes[sof + 6] = static_cast<uint8_t>(height);
  bytes[sof + 7] = static_cast<uint8_t>(width >> 8);
  bytes[sof + 8] = static_cast<uint8_t>(width);
  return bytes;
}

// A small real lossy WebP whose VP8 frame header claims width x height (14 bits each, little-endian, after
// the RIFF header, the "VP8 " chunk header, the 3-byte frame tag and the 3-byte start code).
std::vector<uint8_t> webp_claiming(uint16_t width, uint16_t height) {
  auto bytes = encode_webp(photo_like(16, 16), 80);
  if (std::string(bytes.begin() + 12, bytes.begin() + 16) != "VP8 ") throw std::logic_error("not a simple lossy WebP");
  bytes[26] = static_cast<uint8_t>(width);
  bytes[27] = static_cast<uint8_t>(width >> 8);
  bytes[28] = static_cast<uint8_t>(height);
  bytes[29] = static_cast<uint8_t>(height >> 8);
  return bytes;
}

template <typename Call>
std::string error_of(Call call) {
  try {
    call();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

::testing::AssertionResult probe_fails_with(const std::vector<uint8_t>& bytes, std::string_view prefix,
                                            std::string_view problem) {
  return testing::decode_fails_with([](std::span<const uint8_t> b) { return probe(b); }, bytes, prefix, problem);
}

// --- what a call costs: the evidence that a refused bomb was never allocated ---

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// The process's peak resident memory (VmHWM) in kB.
long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  return -1;
}

// Linux sets the peak back to the current size on "5" written to /proc/self/clear_refs (since 4.0).
bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5" << std::flush;
  return clear_refs.good() && peak_rss_kb() >= 0;
}

// Thread CPU time, unlike wall time, does not grow when other work loads the machine, but does include the
// kernel's time faulting in pages: zero-filling 3 x 16384^2 bytes takes over 100 ms of it. The peak
// resident memory catches the allocation itself, where Linux lets it be measured.
struct Cost {
  double cpu_ms = 0;
  std::optional<long> peak_rss_growth_kb;
};

template <typename Call>
Cost cost_of(Call call) {
  const bool measure_rss = reset_peak_rss();
  const long peak_before = measure_rss ? peak_rss_kb() : 0;
  const double start = thread_cpu_ms();
  call();
  Cost cost{thread_cpu_ms() - start, std::nullopt};
  if (measure_rss) cost.peak_rss_growth_kb = peak_rss_kb() - peak_before;
  return cost;
}

// Within 50 ms of CPU and 32 MB of memory: nothing like a 3 x 16384^2 byte pixel buffer was allocated.
void expect_cheap(const Cost& cost) {
  EXPECT_LT(cost.cpu_ms, 50.0);
  if (cost.peak_rss_growth_kb) {
    EXPECT_LT(*cost.peak_rss_growth_kb, 32 * 1024);
  }
}

// `decode` throws exactly `message`, cheaply.
template <typename Decode>
void expect_refused_cheaply(Decode decode, const std::string& message) {
  std::string error;
  expect_cheap(cost_of([&] { error = error_of(decode); }));
  EXPECT_EQ(error, message);
}

// --- probe ---

TEST(Probe, GivesFormatAndSizeOfEachFormat) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    Format format;
    int width, height;
  };
  WebpAnimation animation(40, 30, 80);
  animation.add_frame(photo_like(40, 30), 100);
  const Case cases[] = {
      {"png", encode_png(photo_like(37, 21)), Format::png, 37, 21},
      {"png rgba", encode_png(photo_like(5, 9, 4)), Format::png, 5, 9},
      {"jpeg", encode_jpeg(photo_like(33, 17)), Format::jpeg, 33, 17},
      {"webp lossy", encode_webp(photo_like(64, 48), 80), Format::webp, 64, 48},
      {"webp lossless", encode_webp(photo_like(37, 21), 100), Format::webp, 37, 21},
      {"webp animation: its canvas", animation.finish(), Format::webp, 40, 30},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto info = probe(c.bytes);
    EXPECT_EQ(info.format, c.format);
    EXPECT_EQ(info.width, c.width);
    EXPECT_EQ(info.height, c.height);
  }
}

TEST(Probe, ReadsTheClaimedSizeOfABombWithoutAllocatingIt) {
  const auto bomb = png_claiming(16384, 16384);
  ASSERT_LT(bomb.size(), 100u);
  ImageInfo info{};
  expect_cheap(cost_of([&] { info = probe(bomb); }));
  EXPECT_EQ(info.format, Format::png);
  EXPECT_EQ(info.width, 16384);
  EXPECT_EQ(info.height, 16384);

  EXPECT_EQ(probe(jpeg_claiming(16000, 12000)).width, 16000);
  EXPECT_EQ(probe(jpeg_claiming(16000, 12000)).height, 12000);
  EXPECT_EQ(probe(webp_claiming(16383, 9000)).width, 16383);
  EXPECT_EQ(probe(webp_claiming(16383, 9000)).height, 9000);
}

TEST(Probe, GarbageAndTruncatedHeadersThrow) {
  const std::string no_format = "not a PNG, JPEG or WebP image";
  EXPECT_TRUE(probe_fails_with({}, no_format, ""));
  EXPECT_TRUE(probe_fails_with(bytes_of("GIF89a and more"), no_format, ""));
  EXPECT_TRUE(probe_fails_with(bytes_of(std::string("RIFF\4\0\0\0WAVE", 12)), no_format, ""));

  const auto png = encode_png(photo_like(16, 16));
  EXPECT_TRUE(probe_fails_with({png.begin(), png.begin() + 8}, "PNG data: ", "truncated"));
  EXPECT_TRUE(probe_fails_with({png.begin(), png.begin() + 20}, "PNG data: ", "truncated"));
  auto long_ihdr = png;
  long_ihdr[11] = 14;  // the IHDR chunk's length
  EXPECT_TRUE(probe_fails_with(long_ihdr, "PNG data: ", "damaged header"));
  auto no_ihdr = png;
  no_ihdr[12] = 'X';  // the chunk type
  EXPECT_TRUE(probe_fails_with(no_ihdr, "PNG data: ", "damaged header"));
  EXPECT_TRUE(probe_fails_with(png_claiming(0, 16), "PNG data: ", "image size 0x16"));
  EXPECT_TRUE(probe_fails_with(png_claiming(1u << 31, 16), "PNG data: ", "image size 2147483648x16"));

  const auto jpeg = encode_jpeg(photo_like(16, 16));
  EXPECT_TRUE(probe_fails_with({jpeg.begin(), jpeg.begin() + 3}, "JPEG data: ", ""));
  EXPECT_TRUE(probe_fails_with({jpeg.begin(), jpeg.begin() + 20}, "JPEG data: ", ""));
  EXPECT_TRUE(probe_fails_with(bytes_of("\xff\xd8\xff garbage where the markers belong"), "JPEG data: ", ""));

  const auto webp = encode_webp(photo_like(16, 16), 80);
  EXPECT_TRUE(probe_fails_with({webp.begin(), webp.begin() + 12}, "WebP data: ", ""));
  EXPECT_TRUE(probe_fails_with({webp.begin(), webp.begin() + 20}, "WebP data: ", ""));
  EXPECT_TRUE(probe_fails_with(webp_claiming(0, 16), "WebP data: ", ""));
}

// --- decode ---

TEST(Decode, ChoosesTheDecoderByMagicBytes) {
  const auto image = photo_like(24, 16);
  const auto png = encode_png(image), jpeg = encode_jpeg(image), webp = encode_webp(image, 100);
  EXPECT_EQ(decode(png).pixels, image.pixels);
  EXPECT_EQ(decode(jpeg).pixels, decode_jpeg(jpeg).pixels);
  EXPECT_EQ(decode(webp).pixels, image.pixels);
  EXPECT_EQ(error_of([] { decode(bytes_of("GIF89a")); }),
            "not a PNG, JPEG or WebP image (it starts with none of their signatures)");
  const auto png_prefix = bytes_of("\x89PNG\r\n\x1a\n");
  EXPECT_TRUE(testing::decode_fails_with([](std::span<const uint8_t> b) { return decode(b); }, png_prefix,
                                         "PNG data: ", "truncated"));
}

TEST(Decode, RefusesAPngBombFromItsHeader) {
  const auto bomb = png_claiming(16384, 16384);
  ASSERT_LT(bomb.size(), 100u);
  const std::string refusal = "PNG data: the image is 16384x16384, larger than the 64x64 allowed";
  expect_refused_cheaply([&] { decode(bomb, {64, 64}); }, refusal);
  expect_refused_cheaply([&] { decode_png(bomb, {64, 64}); }, refusal);
  // Beyond the decoders' own bound, whatever the limits say.
  expect_refused_cheaply([&] { decode_png(png_claiming(16385, 8), {100000, 100000}); },
                         "PNG data: the image is 16385x8, larger than the 16384x16384 allowed");
}

TEST(Decode, RefusesAJpegBombFromItsHeader) {
  const auto bomb = jpeg_claiming(16000, 16000);
  const std::string refusal = "JPEG data: the image is 16000x16000, larger than the 64x64 allowed";
  expect_refused_cheaply([&] { decode(bomb, {64, 64}); }, refusal);
  expect_refused_cheaply([&] { decode_jpeg(bomb, {64, 64}); }, refusal);
  expect_refused_cheaply([&] { decode_jpeg(jpeg_claiming(20000, 10), {100000, 100000}); },
                         "JPEG data: the image is 20000x10, larger than the 16384x16384 allowed");
}

TEST(Decode, RefusesAWebpBombFromItsHeader) {
  const auto bomb = webp_claiming(16383, 16383);
  const std::string refusal = "WebP data: the image is 16383x16383, larger than the 64x64 allowed";
  expect_refused_cheaply([&] { decode(bomb, {64, 64}); }, refusal);
  expect_refused_cheaply([&] { decode_webp(bomb, {64, 64}); }, refusal);
}

TEST(Decode, AnImageExactlyAtTheLimitDecodes) {
  const auto image = photo_like(64, 48);
  const std::vector<uint8_t> encoded[] = {encode_png(image), encode_jpeg(image), encode_webp(image, 80)};
  for (const auto& bytes : encoded) {
    SCOPED_TRACE(format_name(probe(bytes).format));
    const auto decoded = decode(bytes, {64, 48});
    EXPECT_EQ(decoded.width, 64);
    EXPECT_EQ(decoded.height, 48);
    EXPECT_NE(error_of([&] { decode(bytes, {63, 48}); }).find("the image is 64x48, larger than the 63x48 allowed"),
              std::string::npos);
    EXPECT_NE(error_of([&] { decode(bytes, {64, 47}); }).find("the image is 64x48, larger than the 64x47 allowed"),
              std::string::npos);
  }
  EXPECT_EQ(decode_png(encoded[0], {64, 48}).pixels, image.pixels);
  EXPECT_EQ(decode_jpeg(encoded[1], {64, 48}).width, 64);
  EXPECT_EQ(decode_webp(encoded[2], {64, 48}).width, 64);
}

}  // namespace
}  // namespace darkroom::image
