// Building a ClipTokenizer from OpenAI's gzipped merges or from a Hugging Face vocab.json + merges.txt.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "darkroom/text/clip_tokenizer.hpp"
#include "byte_symbols.hpp"
#include "unicode.hpp"

namespace darkroom::text {
namespace {

// simple_tokenizer.py reads merges[1:49152-256-2+1]: the header line, then 48894 merges, so that the
// vocabulary has 49408 tokens (256 bytes, 256 bytes + </w>, 48894 merges, 2 special tokens).
constexpr size_t kClipMerges = 49152 - 256 - 2;

using detail::ByteSymbols;
using detail::byte_symbols;
using detail::Merges;
using detail::symbol_utf8;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& problem) {
  throw std::runtime_error(file.string() + ": " + problem);
}

// A token from a file, quoted for an error message: control bytes as \xNN.
std::string printable_token(std::string_view token) {
  std::string out = "'";
  for (char c : token) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte < 0x20 || byte == 0x7F) {
      constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xF]};
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(file, "read error");
  return bytes;
}

std::string gunzip(const std::string& compressed, const std::filesystem::path& file) {
  if (compressed.size() < 2 || static_cast<uint8_t>(compressed[0]) != 0x1F ||
      static_cast<uint8_t>(compressed[1]) != 0x8B) {
    fail(file, "not a gzip file");
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(file, "zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[1 << 16];
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    status = inflate(&zs, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      const std::string message = zs.msg != nullptr ? zs.msg : "truncated data";
      inflateEnd(&zs);
      fail(file, "corrupt gzip data (" + message + ")");
    }
    out.append(buffer, sizeof(buffer) - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return lines;
    start = end + 1;
  }
}

// One "a b" merge line (Python's str.split(): any run of whitespace separates, ends are trimmed).
std::pair<std::string, std::string> parse_merge(std::string_view line, size_t line_number,
                                                const std::filesystem::path& file) {
  std::vector<std::string_view> parts;
  constexpr std::string_view kSpace = " \t\r\v\f";
  for (size_t i = line.find_first_not_of(kSpace); i != std::string_view::npos;
       i = line.find_first_not_of(kSpace, i)) {
    const size_t end = std::min(line.find_first_of(kSpace, i), line.size());
    parts.push_back(line.substr(i, end - i));
    i = end;
  }
  if (parts.size() != 2) {
    fail(file, "line " + std::to_string(line_number) + ": expected a merge of two symbols, got " +
                   printable_token(line));
  }
  return {std::string(parts[0]), std::string(parts[1])};
}

}  // namespace

ClipTokenizer::ClipTokenizer(const std::unordered_map<std::string, int64_t>& encoder, const Merges& merges,
                             const std::string& source) {
  const ByteSymbols bytes = byte_symbols();
  std::unordered_map<char32_t, char> byte_of_symbol;
  for (int b = 0; b < 256; ++b) byte_of_symbol[bytes.symbol[b]] = static_cast<char>(b);

  for (const auto& [token, id] : encoder) {
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      fail(source,
           "token " + printable_token(token) + " has id " + std::to_string(id) + ", outside 0..2^31-1");
    }
    // Keep the bytes each token stands for, so decode() only concatenates.
    std::string raw;
    for (char32_t c : detail::decode_utf8(token)) {
      const auto it = byte_of_symbol.find(c);
      if (it == byte_of_symbol.end())
        fail(source, "token " + printable_token(token) + " is not made of byte-level symbols");
      raw.push_back(it->second);
    }
    if (!decoder_.emplace(id, std::move(raw)).second)
      fail(source, "id " + std::to_string(id) + " is used twice");
  }

  const auto id_of = [&](const std::string& token, const std::string& context) {
    const auto it = encoder.find(token);
    if (it == encoder.end())
      fail(source, context + ": token " + printable_token(token) + " is missing from the vocabulary");
    return static_cast<int32_t>(it->second);
  };
  for (int b = 0; b < 256; ++b) {
    byte_id_[b] = id_of(symbol_utf8(bytes.symbol[b]), "byte symbol");
    byte_end_id_[b] = id_of(symbol_utf8(bytes.symbol[b], "</w>"), "byte symbol");
  }
  bos_ = id_of(std::string(kStartOfText), "special token");
  eos_ = id_of(std::string(kEndOfText), "special token");

  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const std::string context =
        "merge " + std::to_string(rank) + " (" + printable_token(left + " " + right) + ")";
    // A later duplicate of a pair overrides its rank, as dict(zip(merges, range(...))) does.
    merges_.insert_or_assign(static_cast<uint64_t>(static_cast<uint32_t>(id_of(left, context))) << 32 |
                                 static_cast<uint32_t>(id_of(right, context)),
                             Merge{static_cast<int32_t>(rank), id_of(left + right, context)});
  }
}

ClipTokenizer ClipTokenizer::from_bpe_file(const std::filesystem::path& gz) {
  const std::string text = gunzip(read_file(gz), gz);
  if (!detail::is_valid_utf8(text)) fail(gz, "not valid UTF-8");
  const std::vector<std::string_view> lines = split_lines(text);
  if (lines.size() < kClipMerges + 1) {
    fail(gz, "has " + std::to_string(lines.size()) + " lines, expected a header and " +
                 std::to_string(kClipMerges) + " merges");
  }
  Merges merges;
  merges.reserve(kClipMerges);
  for (size_t i = 1; i <= kClipMerges; ++i) merges.push_back(parse_merge(lines[i], i + 1, gz));

  return ClipTokenizer(detail::clip_vocabulary(merges), merges, gz.string());
}

ClipTokenizer ClipTokenizer::from_vocab_and_merges(const std::filesystem::path& vocab_json,
                                                   const std::filesystem::path& merges_txt) {
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(read_file(vocab_json));
  } catch (const nlohmann::json::exception& e) {
    fail(vocab_json, std::string("malformed JSON: ") + e.what());
  }
  if (!vocab.is_object()) fail(vocab_json, "expected an object mapping tokens to ids");
  std::unordered_map<std::string, int64_t> encoder;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer())
      fail(vocab_json, "id of token " + printable_token(token) + " is not an integer");
    encoder.emplace(token, id.get<int64_t>());
  }

  const std::string text = read_file(merges_txt);
  if (!detail::is_valid_utf8(text)) fail(merges_txt, "not valid UTF-8");
  const std::vector<std::string_view> lines = split_lines(text);
  Merges merges;
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool header = i == 0 && lines[i].starts_with("#version");
    const bool blank = lines[i].find_first_not_of(" \t\r") == std::string_view::npos;
    if (!header && !blank) merges.push_back(parse_merge(lines[i], i + 1, merges_txt));
  }
  return ClipTokenizer(encoder, merges, vocab_json.string() + " + " + merges_txt.string());
}

}  // namespace darkroom::text
