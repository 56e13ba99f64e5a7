// SimpleTokenizer's text cleaning: basic_clean (ftfy skipped, html.unescape twice, strip), whitespace_clean
// and str.lower(), with Python's definitions of whitespace and case.
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <stdexcept>
#include <string>

#include "darkroom/text/clip_tokenizer.hpp"
#include "unicode.hpp"

namespace darkroom::text::detail {
namespace {

// str.isspace()/str.strip(): White_Space plus the separators U+001C..U+001F (bidi class B/S), which the
// `regex` module's \s does not include.
bool is_python_space(char32_t c) { return is_regex_space(c) || (c >= 0x1C && c <= 0x1F); }

std::u32string_view strip(std::u32string_view text) {
  while (!text.empty() && is_python_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_python_space(text.back())) text.remove_suffix(1);
  return text;
}

// re.sub(r'\s+', ' ', text).strip()
std::u32string whitespace_clean(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (is_regex_space(text[i])) {
      out.push_back(' ');
      while (i < text.size() && is_regex_space(text[i])) ++i;
    } else {
      out.push_back(text[i++]);
    }
  }
  return std::u32string(strip(out));
}

// str.lower(): full case mapping (SpecialCasing, e.g. U+0130 -> "i\u0307") and the Final_Sigma context,
// which ICU's root locale applies the same way.
std::u32string lower(const std::u32string& text) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()),
                                                       static_cast<int32_t>(text.size()));
  s.toLower(icu::Locale::getRoot());
  std::u32string out(static_cast<size_t>(s.countChar32()), U'\0');
  UErrorCode status = U_ZERO_ERROR;
  s.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
  return out;
}

}  // namespace

bool is_regex_space(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }
bool is_letter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }
bool is_number(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }

std::u32string clean_and_lower(std::string_view utf8) {
  if (utf8.size() > ClipTokenizer::kMaxPromptBytes) {
    throw std::length_error("prompt of " + std::to_string(utf8.size()) + " bytes exceeds the limit of " +
                            std::to_string(ClipTokenizer::kMaxPromptBytes));
  }
  const std::u32string unescaped = html_unescape(html_unescape(decode_utf8(utf8)));
  return lower(whitespace_clean(strip(unescaped)));
}

}  // namespace darkroom::text::detail

namespace darkroom::text {

std::string normalize_prompt(std::string_view text) {
  return detail::encode_utf8(detail::clean_and_lower(text));
}

}  // namespace darkroom::text
