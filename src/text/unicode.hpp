#pragma once
// Internal to the text layer: the pieces of Python's str semantics that SimpleTokenizer relies on,
// on UTF-32 strings.
#include <string>
#include <string_view>

namespace darkroom::text::detail {

// bytes.decode("utf-8", errors="replace"): each maximal invalid subsequence (Unicode's "maximal subpart"
// practice, as CPython) becomes one U+FFFD. Surrogates encoded in UTF-8 are invalid.
std::u32string decode_utf8(std::string_view bytes);
// True when decode_utf8 would replace nothing.
bool is_valid_utf8(std::string_view bytes);
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view text);

// Python 3.11's html.unescape (named references limited to the subset in html_unescape.cpp).
std::u32string html_unescape(std::u32string_view text);

// whitespace_clean(basic_clean(text)).lower() with ftfy.fix_text = identity, on UTF-8 input.
// Throws std::length_error above ClipTokenizer::kMaxPromptBytes.
std::u32string clean_and_lower(std::string_view utf8);

// Character classes of the `regex` module as SimpleTokenizer's pattern sees them.
bool is_regex_space(char32_t c);  // \s: the Unicode White_Space property
bool is_letter(char32_t c);       // \p{L}
bool is_number(char32_t c);       // \p{N}

}  // namespace darkroom::text::detail
