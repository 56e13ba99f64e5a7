#include "darkroom/server/zip_archive.hpp"

#include <zip.h>

#include <memory>
#include <stdexcept>

namespace darkroom::server {
namespace {

// owned: our zip_error_t, finished here; else one that libzip keeps (a source's or an archive's).
[[noreturn]] void fail(zip_error_t* error, bool owned = true) {
  const std::string message = zip_error_strerror(error);
  if (owned) zip_error_fini(error);
  throw std::runtime_error("cannot build the zip archive: " + message);
}

}  // namespace

std::string zip_archive(const std::vector<ZipEntry>& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) fail(&error);
  // The archive writes into `buffer` when it closes; keep it past that to read it back.
  zip_source_keep(buffer);
  const std::unique_ptr<zip_source_t, decltype(&zip_source_free)> owned(buffer, zip_source_free);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) fail(&error);
  for (const auto& entry : entries) {
    // Not copied: the entries outlive zip_close, where libzip reads them.
    zip_source_t* file = zip_source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0);
    const zip_int64_t index = file ? zip_file_add(archive, entry.name.c_str(), file, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0 || zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) < 0) {
      if (file && index < 0) zip_source_free(file);
      zip_error_set(&error, zip_error_code_zip(zip_get_error(archive)), 0);
      zip_discard(archive);
      fail(&error);
    }
  }
  zip_error_fini(&error);
  if (zip_close(archive) < 0) {
    zip_error_init(&error);
    zip_error_set(&error, zip_error_code_zip(zip_get_error(archive)), 0);
    zip_discard(archive);
    fail(&error);
  }
  zip_stat_t stat;
  if (zip_source_stat(buffer, &stat) < 0 || zip_source_open(buffer) < 0) fail(zip_source_error(buffer), false);
  std::string bytes(static_cast<std::size_t>(stat.size), '\0');
  const zip_int64_t read = zip_source_read(buffer, bytes.data(), stat.size);
  zip_source_close(buffer);
  if (read != static_cast<zip_int64_t>(stat.size)) fail(zip_source_error(buffer), false);
  return bytes;
}

}  // namespace darkroom::server
