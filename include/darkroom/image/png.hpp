#pragma once
// PNG encoding and decoding with text chunks. Generation parameters travel as a text chunk, as A1111
// writes them (key "parameters"), so a saved image can be reproduced or read by other front-ends.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "darkroom/image/image.hpp"
#include "darkroom/image/probe.hpp"

namespace darkroom::image {

// (keyword, text) pairs, both UTF-8, in file order. Keywords must be 1-79 printable Latin-1 characters.
using TextChunks = std::vector<std::pair<std::string, std::string>>;

// Encodes an RGB or RGBA image. A text is stored as tEXt when it fits in Latin-1 and as iTXt (UTF-8)
// otherwise, which is what PIL does. Throws std::invalid_argument for an inconsistent image or text
// that a PNG cannot hold (bad keyword, malformed UTF-8, NUL characters).
std::vector<uint8_t> encode_png(const Image& image, const TextChunks& text_chunks = {});
// encode_png, then writes the file; I/O errors throw std::runtime_error naming the file.
void write_png(const std::filesystem::path& path, const Image& image, const TextChunks& text = {});

// Decodes any 8- or 16-bit PNG (gray, gray+alpha, palette, RGB, RGBA, interlaced) to RGB8: 16-bit samples
// are rounded to 8 bits and alpha is dropped. Damaged or hostile data throws std::runtime_error naming the
// file (or "PNG data") and the problem; so does a size beyond `limits`, refused before any pixel is allocated.
Image read_png(const std::filesystem::path& path);
Image decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});
// The tEXt, zTXt and iTXt chunks of a PNG file, converted to UTF-8, in file order.
TextChunks read_png_text(const std::filesystem::path& path);

}  // namespace darkroom::image
