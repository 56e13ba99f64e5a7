#include "darkroom/image/png.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/golden.hpp"

namespace darkroom::image {
namespace {

namespace fs = std::filesystem;

// --- PNG bytes by hand, for layouts the encoder does not write and for damage ---

struct Chunk {
  std::string type;
  std::string data;
};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

uint32_t read_be32(const std::string& s, std::size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

const std::string kSignature = "\x89PNG\r\n\x1a\n";

std::string chunk_bytes(const Chunk& chunk) {
  const std::string body = chunk.type + chunk.data;
  const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return be32(static_cast<uint32_t>(chunk.data.size())) + body + be32(static_cast<uint32_t>(crc));
}

std::string png_bytes(const std::vector<Chunk>& chunks) {
  std::string out = kSignature;
  for (const auto& c : chunks) out += chunk_bytes(c);
  return out;
}

std::vector<Chunk> parse_chunks(const std::string& png) {
  std::vector<Chunk> chunks;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const uint32_t length = read_be32(png, at);
    chunks.push_back({png.substr(at + 4, 4), png.substr(at + 8, length)});
    at += 12 + length;
  }
  return chunks;
}

std::string zlib_compress(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
           static_cast<uLong>(raw.size()));
  out.resize(size);
  return out;
}

Chunk ihdr(uint32_t width, uint32_t height, int bit_depth, int color_type) {
  return {"IHDR", be32(width) + be32(height) + std::string{static_cast<char>(bit_depth), static_cast<char>(color_type),
                                                           0, 0, 0}};
}

// rows: the filtered scanlines, each starting with its filter byte (0 = none).
std::string simple_png(Chunk header, const std::string& rows, std::vector<Chunk> extra = {}) {
  std::vector<Chunk> chunks = {std::move(header)};
  chunks.insert(chunks.end(), extra.begin(), extra.end());
  chunks.push_back({"IDAT", zlib_compress(rows)});
  chunks.push_back({"IEND", ""});
  return png_bytes(chunks);
}

std::string as_string(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }
Image decode(const std::string& png) {
  return decode_png({reinterpret_cast<const uint8_t*>(png.data()), png.size()});
}

Image test_image(int width, int height, int channels) {
  Image image{width, height, channels, {}};
  for (int i = 0; i < width * height * channels; ++i) image.pixels.push_back(static_cast<uint8_t>(i * 131 + 7));
  return image;
}

class Png : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("darkroom_png_" + std::to_string(::getpid()) + "_" + test->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

// read_png(path) throws std::runtime_error naming the file and containing `problem`.
::testing::AssertionResult read_fails_with(const fs::path& path, std::string_view problem) {
  try {
    read_png(path);
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    if (message.find(path.string()) == std::string::npos || message.find(problem) == std::string::npos)
      return ::testing::AssertionFailure() << "expected the file and \"" << problem << "\" in: " << message;
    return ::testing::AssertionSuccess() << message;
  }
  return ::testing::AssertionFailure() << path << " was read without error";
}

TEST_F(Png, RoundTripPixelsAndText) {
  const auto image = test_image(7, 5, 3);  // odd sizes: no row padding assumptions
  const TextChunks text = {
      {"parameters", "ein Äpfel, リンゴ 🍎\nNegative prompt: blurry\nSteps: 6, Sampler: Euler, Seed: 42"},
      {"Software", "darkroom"},
      {"Comment", "café au lait"},
  };
  const auto path = dir_ / "round.png";
  write_png(path, image, text);

  const auto back = read_png(path);
  EXPECT_EQ(back.width, 7);
  EXPECT_EQ(back.height, 5);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, image.pixels);
  EXPECT_EQ(read_png_text(path), text);

  // Text that fits Latin-1 goes to tEXt (the é as one byte), anything else to iTXt, as PIL writes it.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, as_string(encode_png(image, text)));
  std::vector<std::string> types;
  for (const auto& c : parse_chunks(bytes)) {
    types.push_back(c.type);
    if (c.type == "tEXt" && c.data.starts_with("Comment"))
      EXPECT_EQ(c.data, std::string("Comment\0caf\xe9 au lait", 20));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "iTXt", "tEXt", "tEXt", "IDAT", "IEND"}));
}

TEST_F(Png, RgbaDropsAlphaOnRead) {
  const auto rgba = test_image(4, 3, 4);
  const auto back = decode_png(encode_png(rgba));
  ASSERT_EQ(back.pixels.size(), 4u * 3 * 3);
  for (int p = 0; p < 12; ++p)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(back.pixels[3 * p + c], rgba.pixels[4 * p + c]);
}

TEST_F(Png, ReadsGoldenLoopImagesExactly) {
  for (const char* loop : {"sd1_euler", "sd1_euler_ancestral", "sd1_dpmpp_2m_karras", "sd1_ddim", "sd1_lcm",
                           "sdxl_euler", "sdxl_euler_neg"}) {
    SCOPED_TRACE(loop);
    const auto image = read_png(golden::path(std::string("loops/") + loop + ".png"));
    const auto expected = golden::load(std::string("loops/") + loop + ".safetensors").at("image_uint8");
    ASSERT_EQ(expected.scalar_type(), torch::kUInt8);
    ASSERT_EQ(expected.sizes().vec(), (std::vector<int64_t>{image.height, image.width, 3}));
    const auto contiguous = expected.contiguous();
    const auto* data = contiguous.data_ptr<uint8_t>();
    const std::vector<uint8_t> want(data, data + contiguous.numel());
    EXPECT_EQ(image.pixels, want);
  }
}

TEST_F(Png, DecodesEveryLayoutToRgb8) {
  // 8-bit gray, 2x2.
  auto gray = decode(simple_png(ihdr(2, 2, 8, 0), std::string("\0\x00\x80", 3) + std::string("\0\xff\x07", 3)));
  EXPECT_EQ(gray.pixels, (std::vector<uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255, 7, 7, 7}));

  // 1-bit gray, 8 pixels in one byte.
  auto bits = decode(simple_png(ihdr(8, 1, 1, 0), std::string("\0\xb0", 2)));
  EXPECT_EQ(bits.pixels, (std::vector<uint8_t>{255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 255,
                                               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));

  // 8-bit gray + alpha: alpha dropped.
  auto gray_alpha = decode(simple_png(ihdr(2, 1, 8, 4), std::string("\0\x10\x00\x20\xff", 5)));
  EXPECT_EQ(gray_alpha.pixels, (std::vector<uint8_t>{16, 16, 16, 32, 32, 32}));

  // Palette with a transparency entry: the colours, without alpha.
  auto palette = decode(simple_png(ihdr(3, 1, 8, 3), std::string("\0\x01\x00\x01", 4),
                                   {{"PLTE", "\x0a\x14\x1e\xc8\xb4\xa0"}, {"tRNS", std::string("\x00\x80", 2)}}));
  EXPECT_EQ(palette.pixels, (std::vector<uint8_t>{200, 180, 160, 10, 20, 30, 200, 180, 160}));

  // 16-bit RGB rounds to nearest: v/257. 0x0080 -> 0 (0.498), 0x0081 -> 1 (0.502), 0x8080 -> 128.
  auto deep = decode(simple_png(ihdr(1, 1, 16, 2), std::string("\0\x00\x80\x00\x81\x80\x80", 7)));
  EXPECT_EQ(deep.pixels, (std::vector<uint8_t>{0, 1, 128}));
}

TEST_F(Png, ReadsLatin1CompressedAndLateText) {
  const std::string rows("\0\x00\x00\x00", 4);
  const std::string ztxt = std::string("Title\0\0", 7) + zlib_compress("gr\xfc\xdf und mehr");
  const auto png = png_bytes({ihdr(1, 1, 8, 2),
                              {"tEXt", std::string("Autor\0J\xfcrgen", 12)},
                              {"zTXt", ztxt},
                              {"IDAT", zlib_compress(rows)},
                              {"iTXt", std::string("parameters\0\0\0\0\0", 15) + "прompt ✓"},
                              {"IEND", ""}});
  const auto path = write("text.png", png);
  const TextChunks expected = {{"Autor", "Jürgen"}, {"Title", "grüß und mehr"}, {"parameters", "прompt ✓"}};
  EXPECT_EQ(read_png_text(path), expected);
}

TEST_F(Png, CorruptFilesGiveClearErrors) {
  const auto good = as_string(encode_png(test_image(16, 16, 3), {{"parameters", "x"}}));

  EXPECT_TRUE(read_fails_with(write("empty.png", ""), "not a PNG file"));
  EXPECT_TRUE(read_fails_with(write("text.png", "this is not an image\n"), "not a PNG file"));
  EXPECT_TRUE(read_fails_with(write("cut.png", good.substr(0, good.size() / 2)), "truncated"));
  EXPECT_TRUE(read_fails_with(write("header_only.png", good.substr(0, 20)), "truncated"));

  auto bad_crc = good;
  bad_crc[8 + 8 + 2] ^= 0x01;  // a byte of the IHDR width, without fixing the CRC
  EXPECT_TRUE(read_fails_with(write("crc.png", bad_crc), "CRC error"));

  // Garbage image data with valid CRCs: zlib rejects it.
  auto chunks = parse_chunks(good);
  for (auto& c : chunks)
    if (c.type == "IDAT") c.data = std::string("\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
  EXPECT_TRUE(read_fails_with(write("idat.png", png_bytes(chunks)), ".png: "));

  // A tiny file that claims a huge image is refused before anything is allocated.
  EXPECT_TRUE(read_fails_with(write("huge.png", simple_png(ihdr(1000000, 1000000, 8, 2), "")),
                              "the image is 1000000x1000000, larger than the 16384x16384 allowed"));

  EXPECT_TRUE(read_fails_with(dir_, "is a directory"));
  EXPECT_TRUE(read_fails_with(dir_ / "missing.png", "cannot open: No such file or directory"));
  EXPECT_THROW(read_png_text(dir_ / "missing.png"), std::runtime_error);
  EXPECT_THROW(write_png(dir_ / "no_dir" / "x.png", test_image(1, 1, 3)), std::runtime_error);
  EXPECT_THROW(decode("\x89PNG\r\n\x1a\n garbage"), std::runtime_error);
}

TEST_F(Png, RejectsWhatAPngCannotHold) {
  const auto image = test_image(2, 2, 3);
  EXPECT_THROW(encode_png(test_image(2, 2, 2)), std::invalid_argument);
  EXPECT_THROW(encode_png(Image{2, 3, 3, image.pixels}), std::invalid_argument);
  EXPECT_THROW(encode_png(Image{0, 0, 3, {}}), std::invalid_argument);
  EXPECT_THROW(encode_png(image, {{"", "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(image, {{std::string(80, 'k'), "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(image, {{" lead", "x"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(image, {{"Schlüssel🔑", "x"}}), std::invalid_argument);  // keywords are Latin-1
  EXPECT_THROW(encode_png(image, {{"k", "bad \xc3"}}), std::invalid_argument);     // cut UTF-8 sequence
  EXPECT_THROW(encode_png(image, {{"k", "over\xc0\xaflong"}}), std::invalid_argument);
  EXPECT_THROW(encode_png(image, {{"k", std::string("nul\0", 4)}}), std::invalid_argument);
  EXPECT_NO_THROW(encode_png(image, {{"Schlüssel", "ü"}}));  // Latin-1 keyword
}

}  // namespace
}  // namespace darkroom::image
