#include "support/transcript.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <stdexcept>

namespace ssmc::test {

std::filesystem::path transcripts_dir() {
  if (const char* env = std::getenv("SSMC_SHARED_DIR")) return std::filesystem::path(env) / "testdata/transcripts";
  return std::filesystem::path(SSMC_SHARED_DIR) / "testdata/transcripts";
}

std::vector<std::filesystem::path> transcript_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(transcripts_dir()))
    if (e.path().extension() == ".jsonl") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  if (out.empty()) throw std::runtime_error("no transcripts in " + transcripts_dir().string());
  return out;
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex");
  };
  std::vector<std::uint8_t> out;
  std::string clean;
  for (char c : hex)
    if (c != ' ' && c != '\n') clean += c;
  if (clean.size() % 2) throw std::runtime_error("odd hex length");
  for (std::size_t i = 0; i < clean.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nib(clean[i]) * 16 + nib(clean[i + 1])));
  return out;
}

Transcript load_transcript(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file.string());
  Transcript t;
  t.name = file.stem().string();
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto v = boost::json::parse(line);
    t.records.push_back(v);
    const auto& o = v.as_object();
    if (o.at("kind").as_string() != "ws") continue;
    WsRecord r;
    r.seq = static_cast<std::size_t>(o.at("seq").to_number<std::int64_t>());
    r.dir = std::string(o.at("dir").as_string());
    r.ws_type = std::string(o.at("ws_type").as_string());
    if (auto it = o.find("hex"); it != o.end()) r.bytes = from_hex(it->value().as_string());
    if (auto it = o.find("decoded"); it != o.end()) r.decoded = it->value();
    r.t_ns = o.at("t_ns").to_number<std::int64_t>();
    t.frames.push_back(std::move(r));
  }
  return t;
}

}  // namespace ssmc::test
