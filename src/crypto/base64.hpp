// Standard base64 with padding (RFC 4648 §4), as Go's encoding/json writes []byte.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ssmc::crypto {

std::string base64_encode(std::span<const std::uint8_t> data);
/// Strict decoding: padding required, no white space. nullopt on bad input.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace ssmc::crypto
