// Hostile and damaged safetensors files: each must fail with a ModelFileError that names the file and the
// specific problem, never crash or map bytes outside the file. Also a valid file written here, read back
// through models::load_tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "darkroom/io/safetensors.hpp"
#include "darkroom/models/weights.hpp"
#include "support/golden.hpp"

namespace darkroom::io {
namespace {

namespace fs = std::filesystem;

std::string u64_le(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

template <typename T>
std::string raw_bytes(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

class CorruptSafetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("darkroom_st_" + std::to_string(::getpid()) + "_" + test->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, std::string_view bytes) const {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  // A well-formed frame (length prefix, header padded with spaces to 8 bytes, data) around `header`.
  fs::path write_safetensors(const std::string& name, std::string header, std::string_view data = {}) const {
    header.append((8 - header.size() % 8) % 8, ' ');
    return write(name, u64_le(header.size()) + header + std::string(data));
  }

  fs::path dir_;
};

// Opening `path` throws ModelFileError for `path` whose message contains the path and `problem`.
::testing::AssertionResult fails_with(const fs::path& path, std::string_view problem) {
  try {
    SafetensorsFile::open(path);
  } catch (const ModelFileError& e) {
    const std::string message = e.what();
    if (e.file() != path || message.find(path.string()) == std::string::npos)
      return ::testing::AssertionFailure() << "error does not name " << path << ": " << message;
    if (e.problem().find(problem) == std::string::npos)
      return ::testing::AssertionFailure() << "expected \"" << problem << "\" in: " << message;
    return ::testing::AssertionSuccess() << message;
  }
  return ::testing::AssertionFailure() << path << " opened without error";
}

// parse_safetensors_header rejects `json` with std::invalid_argument mentioning `problem`.
::testing::AssertionResult header_fails_with(std::string_view json, uint64_t data_size, std::string_view problem) {
  try {
    parse_safetensors_header(json, data_size);
  } catch (const std::invalid_argument& e) {
    if (std::string_view(e.what()).find(problem) == std::string_view::npos)
      return ::testing::AssertionFailure() << "expected \"" << problem << "\" in: " << e.what();
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "header accepted: " << json;
}

TEST_F(CorruptSafetensors, EmptyAndTooShortFiles) {
  EXPECT_TRUE(fails_with(write("empty.safetensors", ""), "too short to be a safetensors file (0 bytes)"));
  EXPECT_TRUE(fails_with(write("short.safetensors", std::string("\x10\0\0", 3)), "too short"));
}

TEST_F(CorruptSafetensors, HeaderLengthPastEndOfFile) {
  EXPECT_TRUE(fails_with(write("past.safetensors", u64_le(100) + "{}"), "header length 100 runs past the end"));
  EXPECT_TRUE(fails_with(write("huge.safetensors", u64_le(~0ull) + "{}"), "runs past the end of the file"));
}

TEST_F(CorruptSafetensors, HeaderLengthZero) {
  EXPECT_TRUE(fails_with(write("zero.safetensors", u64_le(0) + "{}"), "header length is 0"));
}

TEST_F(CorruptSafetensors, HeaderLengthOverLimit) {
  // A sparse file, so the 100 MB header costs no disk space.
  const uint64_t header_len = (100ull << 20) + 1;
  const auto path = write("limit.safetensors", u64_le(header_len) + "{");
  fs::resize_file(path, 8 + header_len);
  EXPECT_TRUE(fails_with(path, "exceeds the 100 MB limit"));
}

TEST_F(CorruptSafetensors, TextFileRenamed) {
  EXPECT_TRUE(fails_with(write("notes.safetensors", "These are my notes about models.\n"),
                         "starts with the text \"These ar\""));
  const auto lfs = write("lfs.safetensors",
                         "version https://git-lfs.github.com/spec/v1\n"
                         "oid sha256:4c3d3d6b0ec1e0a8b6e2b2fcb1e7e0e3a2a0f5d8f1e6b9c0a3d2e1f0a9b8c7d6\n"
                         "size 11064038\n");
  EXPECT_TRUE(fails_with(lfs, "Git LFS pointer"));
}

TEST_F(CorruptSafetensors, HeaderIsNotAnObject) {
  EXPECT_TRUE(fails_with(write_safetensors("array.safetensors", "[1, 2]"), "does not start with '{'"));
  EXPECT_TRUE(fails_with(write_safetensors("broken.safetensors", R"({"a": )"), "header is not valid JSON"));
  EXPECT_TRUE(header_fails_with("[1, 2]", 0, "header is not a JSON object"));
  EXPECT_TRUE(header_fails_with(R"("text")", 0, "header is not a JSON object"));
}

TEST_F(CorruptSafetensors, OffsetsOutOfRange) {
  const auto path = write_safetensors("range.safetensors",
                                      R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
                                      std::string(8, '\0'));
  EXPECT_TRUE(fails_with(path, "tensor 'w' data [0, 16) lies past the end of the data (8 bytes)"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [18446744073709551615, 0]}})",
                                8, "offsets are reversed"));
}

TEST_F(CorruptSafetensors, ReversedOffsets) {
  const auto path = write_safetensors("reversed.safetensors",
                                      R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})",
                                      std::string(8, '\0'));
  EXPECT_TRUE(fails_with(path, "tensor 'w' offsets are reversed"));
}

TEST_F(CorruptSafetensors, OverlappingTensors) {
  const auto path = write_safetensors("overlap.safetensors",
                                      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                                      std::string(12, '\0'));
  EXPECT_TRUE(fails_with(path, "tensors 'a' and 'b' overlap"));
  // Identical ranges overlap too; empty tensors at the same offset occupy nothing and do not.
  EXPECT_TRUE(header_fails_with(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                    "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                                4, "overlap"));
  EXPECT_NO_THROW(parse_safetensors_header(R"({"a": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]},
                                               "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                                           4));
}

TEST_F(CorruptSafetensors, UnknownDtype) {
  const auto path = write_safetensors("dtype.safetensors",
                                      R"({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})",
                                      std::string(2, '\0'));
  EXPECT_TRUE(fails_with(path, "tensor 'w' has unknown dtype 'F8_E4M3'"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})", 4,
                                "dtype is not a string"));
}

TEST_F(CorruptSafetensors, ShapeDoesNotMatchByteSize) {
  const auto path = write_safetensors("size.safetensors",
                                      R"({"w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 24]}})",
                                      std::string(24, '\0'));
  EXPECT_TRUE(fails_with(path, "tensor 'w' shape needs 12 bytes but its offsets span 24"));
  // A shape far larger than the file, and one whose element count overflows int64 even next to a zero dim.
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F64", "shape": [65536, 65536], "data_offsets": [0, 8]}})", 8,
                                "shape needs more bytes than the file has"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})",
                                8, "too many elements"));
  EXPECT_TRUE(header_fails_with(
      R"({"w": {"dtype": "U8", "shape": [4294967296, 4294967296, 0], "data_offsets": [0, 0]}})", 0,
      "too many elements"));
}

TEST_F(CorruptSafetensors, NegativeOrNonIntegerShape) {
  const auto negative = write_safetensors("negative.safetensors",
                                          R"({"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}})",
                                          std::string(8, '\0'));
  EXPECT_TRUE(fails_with(negative, "tensor 'w' shape entry is not a non-negative integer"));
  const auto fractional = write_safetensors("fraction.safetensors",
                                            R"({"w": {"dtype": "F32", "shape": [0.5, 4], "data_offsets": [0, 8]}})",
                                            std::string(8, '\0'));
  EXPECT_TRUE(fails_with(fractional, "tensor 'w' shape entry is not a non-negative integer"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})", 8,
                                "shape entry is not a non-negative integer"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", 8,
                                "shape is not an array"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "U8", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
                                          "data_offsets": [0, 1]}})",
                                1, "more than 16 dimensions"));
}

TEST_F(CorruptSafetensors, MalformedTensorEntries) {
  EXPECT_TRUE(header_fails_with(R"({"w": [1, 2]})", 0, "tensor 'w' entry is not an object"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F32", "shape": [1]}})", 4, "tensor 'w' has no 'data_offsets'"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", 8,
                                "data_offsets is not a pair"));
  EXPECT_TRUE(header_fails_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}})", 4,
                                "end offset is not a non-negative integer"));
}

TEST_F(CorruptSafetensors, MetadataValuesMustBeStrings) {
  const auto path = write_safetensors("meta.safetensors", R"({"__metadata__": {"format": "pt", "steps": 20}})");
  EXPECT_TRUE(fails_with(path, "__metadata__ value 'steps' is not a string"));
  EXPECT_TRUE(header_fails_with(R"({"__metadata__": ["pt"]})", 0, "__metadata__ is not an object"));
  EXPECT_TRUE(header_fails_with(R"({"__metadata__": {"nested": {"a": "b"}}})", 0, "is not a string"));
}

TEST_F(CorruptSafetensors, DirectoryAndMissingFile) {
  EXPECT_TRUE(fails_with(dir_, "is a directory"));
  EXPECT_TRUE(fails_with(dir_ / "absent.safetensors", "cannot open: No such file or directory"));
}

TEST_F(CorruptSafetensors, TruncatedGoldenCheckpoint) {
  std::ifstream in(golden::path("checkpoints/sd1_tiny.safetensors"), std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(whole.size(), 1000u);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(whole[i]);
  const uint64_t data_begin = 8 + header_len;
  ASSERT_LT(data_begin, whole.size());

  const std::pair<uint64_t, std::string_view> cuts[] = {
      {4, "too short"},
      {8, "runs past the end of the file"},
      {9, "runs past the end of the file"},
      {data_begin / 2, "runs past the end of the file"},
      {data_begin - 1, "runs past the end of the file"},
      {data_begin, "lies past the end of the data (0 bytes)"},
      {data_begin + 1001, "lies past the end of the data (1001 bytes)"},
      {(data_begin + whole.size()) / 2, "lies past the end of the data"},
      {whole.size() - 1, "lies past the end of the data"},
  };
  for (const auto& [size, problem] : cuts) {
    const auto path = write("cut_" + std::to_string(size) + ".safetensors", std::string_view(whole).substr(0, size));
    EXPECT_TRUE(fails_with(path, problem)) << "cut at " << size;
  }
  EXPECT_NO_THROW(SafetensorsFile::open(write("whole.safetensors", whole)));
}

// Round trip of float tensors in every float format, read back as float32. F16 and BF16 widen to float32
// exactly, so the comparisons are exact, including signed zero, subnormals and infinities.
TEST_F(CorruptSafetensors, ValidRoundTripF32F16BF16) {
  const std::vector<float> f32 = {1.0f, -0.0f, 3.14159274f, -1e-30f, 1e30f, std::numeric_limits<float>::infinity()};
  const std::vector<std::pair<uint16_t, float>> f16 = {
      {0x3C00, 1.0f},      {0xC100, -2.5f}, {0x7BFF, 65504.0f}, {0x0001, 5.9604645e-8f},
      {0x3555, 0.333251953125f}, {0x8000, -0.0f}, {0xFC00, -std::numeric_limits<float>::infinity()}};
  const std::vector<float> bf16_values = {1.0f, -2.0f, 0.15625f, 3.0e38f, -1.1754944e-38f, 0.0f};

  std::string data;
  for (float v : f32) data += raw_bytes({v});
  for (const auto& [bits, value] : f16) data += raw_bytes({bits});
  std::vector<float> bf16;  // the values after rounding to bfloat16 (keeping the top 16 bits)
  for (float v : bf16_values) {
    const auto bits = static_cast<uint16_t>(std::bit_cast<uint32_t>(v) >> 16);
    data += raw_bytes({bits});
    bf16.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits) << 16));
  }
  const std::string header = R"({"__metadata__": {"format": "pt", "prompt": "ein Äpfel 🍎"},
      "x32": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
      "x16": {"dtype": "F16", "shape": [7], "data_offsets": [24, 38]},
      "xbf": {"dtype": "BF16", "shape": [3, 2], "data_offsets": [38, 50]},
      "empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [50, 50]}})";
  const auto file = SafetensorsFile::open(write_safetensors("valid.safetensors", header, data));

  EXPECT_EQ(file->metadata().at("prompt"), "ein Äpfel 🍎");
  ASSERT_EQ(file->tensors().size(), 4u);
  EXPECT_EQ(file->tensors().front().name, "empty");  // sorted by name
  const auto load = [&](std::string_view name) {
    const auto* info = file->find(name);
    EXPECT_NE(info, nullptr) << name;
    return models::load_tensor(TensorRef{file, info}, torch::kFloat32);
  };
  const auto expect_exact = [](const torch::Tensor& t, const std::vector<float>& want) {
    ASSERT_EQ(t.scalar_type(), torch::kFloat32);
    ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
    const float* got = t.data_ptr<float>();
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << "element " << i;
  };

  const auto x32 = load("x32");
  EXPECT_EQ(x32.sizes().vec(), (std::vector<int64_t>{2, 3}));
  expect_exact(x32, f32);
  std::vector<float> f16_values;
  for (const auto& [bits, value] : f16) f16_values.push_back(value);
  expect_exact(load("x16"), f16_values);
  const auto xbf = load("xbf");
  EXPECT_EQ(xbf.sizes().vec(), (std::vector<int64_t>{3, 2}));
  expect_exact(xbf, bf16);
  EXPECT_EQ(load("empty").sizes().vec(), (std::vector<int64_t>{0, 5}));
}

}  // namespace
}  // namespace darkroom::io
