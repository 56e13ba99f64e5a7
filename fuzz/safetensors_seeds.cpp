// Writes the seed corpora for the safetensors fuzzers from a few small valid headers:
//   <dir>/header/N  data size (u64 LE) + header JSON, for safetensors_header_fuzz
//   <dir>/file/N    a complete safetensors file, for safetensors_file_fuzz
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

struct Seed {
  const char* header;
  uint64_t data_size;
};

// Each covers different dtypes, ranks, metadata and an empty tensor; all are accepted by the parser.
constexpr Seed kSeeds[] = {
    {R"({})", 0},
    {R"({"__metadata__":{"format":"pt"}})", 0},
    {R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 16},
    {R"({"__metadata__":{"format":"pt","note":"tiny"},)"
     R"("a.weight":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},)"
     R"("a.bias":{"dtype":"BF16","shape":[1,2],"data_offsets":[6,10]},)"
     R"("ids":{"dtype":"I64","shape":[],"data_offsets":[10,18]},)"
     R"("none":{"dtype":"U8","shape":[0,4],"data_offsets":[18,18]}})",
     18},
    {R"({"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]},)"
     R"("d":{"dtype":"F64","shape":[1],"data_offsets":[2,10]},)"
     R"("i32":{"dtype":"I32","shape":[1,1,1],"data_offsets":[10,14]},)"
     R"("i16":{"dtype":"I16","shape":[1],"data_offsets":[14,16]},)"
     R"("i8":{"dtype":"I8","shape":[2],"data_offsets":[16,18]}})",
     18},
};

std::string u64_le(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir / "header");
  std::filesystem::create_directories(dir / "file");
  int n = 0;
  for (const auto& seed : kSeeds) {
    std::string header = seed.header;
    header.append((8 - header.size() % 8) % 8, ' ');  // writers pad the header to 8 bytes with spaces
    std::string data(seed.data_size, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 37 + 1);
    write(dir / "header" / std::to_string(n), u64_le(seed.data_size) + header);
    write(dir / "file" / std::to_string(n), u64_le(header.size()) + header + data);
    ++n;
  }
  return 0;
}
