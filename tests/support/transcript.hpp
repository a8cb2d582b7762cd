// Loads the golden transcripts of ../shared/testdata/transcripts/ (JSONL).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ssmc::test {

/// One WebSocket frame record (`kind: "ws"`).
struct WsRecord {
  std::size_t seq = 0;
  std::string dir;      ///< "client->agent", "agent->client", "mgs->client", ...
  std::string ws_type;  ///< "binary", "text", "ping", ...
  std::vector<std::uint8_t> bytes;
  boost::json::value decoded;  ///< the relay's informational decode (binary only)
  std::int64_t t_ns = 0;
};

struct Transcript {
  std::string name;
  std::vector<WsRecord> frames;
  std::vector<boost::json::value> records;  ///< every record, raw
};

/// Folder holding the transcripts (SSMC_SHARED_DIR/testdata/transcripts).
std::filesystem::path transcripts_dir();
/// Every `*.jsonl` file there, sorted by name.
std::vector<std::filesystem::path> transcript_files();
/// Parses one transcript; throws on malformed input (test data is trusted).
Transcript load_transcript(const std::filesystem::path& file);

std::vector<std::uint8_t> from_hex(std::string_view hex);

}  // namespace ssmc::test
