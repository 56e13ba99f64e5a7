#include "darkroom/io/safetensors_writer.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

namespace darkroom::io {

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    int64_t numel = 1;
    for (auto d : t.shape) numel *= d;
    if (static_cast<uint64_t>(numel) * dtype_size(t.dtype) != t.bytes.size())
      throw std::invalid_argument("tensor '" + t.name + "': shape and byte count disagree");
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');

  const auto tmp = std::filesystem::path(path.string() + ".partial");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelFileError(path, "cannot be written");
    const uint64_t len = json.size();
    char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
    out.write(len_bytes, 8);
    out.write(json.data(), static_cast<std::streamsize>(json.size()));
    for (const auto& t : tensors)
      out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    if (!out.flush()) throw ModelFileError(path, "write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace darkroom::io
