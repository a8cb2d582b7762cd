// util::invalid_utf8_at: strict UTF-8 as Python and Go decode it. The
// emulator's recorder relies on it to keep every JSON line valid UTF-8 (a
// payload of random bytes with an overlong form once broke a recording).
#include "util/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ssmc::util {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_EQ(invalid_utf8_at(""), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at("plain ASCII"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at("\xed\x9f\xbf"), std::string_view::npos);      // U+D7FF, just below the surrogates
  EXPECT_EQ(invalid_utf8_at("\xf4\x8f\xbf\xbf"), std::string_view::npos);  // U+10FFFF
}

TEST(Utf8, RefusesOverlongsSurrogatesAndBadBytesWhereTheyStart) {
  const struct {
    std::string text;
    std::size_t at;
  } cases[] = {
      {"ab\xc0\x80", 2},          // overlong NUL
      {"\xc1\xbf", 0},            // overlong 2-byte form
      {"mh?k\xe0\x93\xa8m", 4},   // overlong 3-byte form (the payload that broke a recording)
      {"\xf0\x8f\xbf\xbf", 0},    // overlong 4-byte form
      {"x\xed\xa0\x80", 1},       // a surrogate (U+D800)
      {"\xf4\x90\x80\x80", 0},    // above U+10FFFF
      {"\xf5\x80\x80\x80", 0},    // no such lead byte
      {"\x80", 0},                // a continuation byte first
      {"ok\xe2\x82", 2},          // cut short
      {"\xc3\x28", 0},            // a lead byte without its continuation
  };
  for (const auto& c : cases) EXPECT_EQ(invalid_utf8_at(c.text), c.at) << c.text;
}

}  // namespace
}  // namespace ssmc::util
