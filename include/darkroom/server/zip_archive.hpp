#pragma once
// A zip archive built in memory (libzip): NovelAI's non-streamed answer is a zip of PNGs.
#include <cstdint>
#include <string>
#include <vector>

namespace darkroom::server {

struct ZipEntry {
  std::string name;
  std::vector<uint8_t> bytes;
};

// The archive's bytes, entries in order and stored (PNGs are compressed already). Throws
// std::runtime_error with libzip's message when the archive cannot be built.
std::string zip_archive(const std::vector<ZipEntry>& entries);

}  // namespace darkroom::server
