#include "emulator/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "crypto/sha256.hpp"
#include "util/utf8.hpp"
#include "wire/agent_message.hpp"

namespace ssmc::emulator {

namespace {
/// Payload text is included when valid UTF-8 and at most this long (README).
constexpr std::size_t kMaxPayloadText = 4096;

std::pair<std::string, std::int64_t> timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(ns % 1'000'000'000));
  return {std::string(buf) + frac, static_cast<std::int64_t>(ns)};
}

/// Strictly (a payload with an overlong form or a surrogate is recorded as
/// hex only: the JSON line must stay valid UTF-8).
bool valid_utf8(std::span<const std::uint8_t> s) {
  return util::invalid_utf8_at({reinterpret_cast<const char*>(s.data()), s.size()}) == std::string_view::npos;
}

/// Owner-only: a recording holds the session's tokens (OpenDataChannel).
std::FILE* open_private(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  std::FILE* f = ::fdopen(fd, "a");
  if (!f) ::close(fd);
  return f;
}
}  // namespace

Recorder::Recorder(const std::string& path, std::string session_id, session::FrameFilter* inner)
    : file_(open_private(path)), session_id_(std::move(session_id)), inner_(inner) {}

Recorder::~Recorder() {
  if (file_) std::fclose(file_);
}

void Recorder::write_line(std::string line) {
  if (!file_) return;
  line.push_back('\n');
  // A full disk must not end the session: the recording just stops growing.
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

void Recorder::frame(std::string_view dir, std::span<const std::uint8_t> bytes, bool relayed) {
  auto [t, t_ns] = timestamp();
  boost::json::object r{{"seq", ++seq_}, {"kind", "ws"}, {"t", t}, {"t_ns", t_ns}, {"session", session_id_},
                        {"dir", dir}, {"ws_type", "binary"}, {"len", bytes.size()}, {"hex", crypto::to_hex(bytes)}};
  if (relayed) r["relayed"] = true;
  wire::DecodeOptions options;
  options.verify_digest = false;
  if (auto m = wire::decode(bytes, options)) {
    const auto& h = m->header;
    boost::json::object d{{"messageType", std::string(m->type_name)},
                          {"schemaVersion", h.schema_version},
                          {"createdDate", h.created_date},
                          {"sequenceNumber", h.sequence_number},
                          {"flags", h.flags},
                          {"messageId", h.message_id.to_string()},
                          {"payloadType", static_cast<std::uint32_t>(h.payload_type)},
                          {"payloadLength", m->payload.size()}};
    d["digestOk"] = static_cast<bool>(wire::decode(bytes));
    if (m->payload.size() <= kMaxPayloadText && valid_utf8(m->payload)) {
      d["payloadText"] = std::string(m->payload.begin(), m->payload.end());
    }
    r["decoded"] = std::move(d);
  }
  write_line(boost::json::serialize(r));
}

void Recorder::event(const std::string& name, const std::string& detail) {
  auto [t, t_ns] = timestamp();
  boost::json::object r{{"seq", ++seq_}, {"kind", "event"}, {"t", t},           {"t_ns", t_ns},
                        {"session", session_id_}, {"event", name}, {"detail", detail}};
  write_line(boost::json::serialize(r));
}

void Recorder::client_text(std::string_view text) {
  auto [t, t_ns] = timestamp();
  boost::json::object r{{"seq", ++seq_},          {"kind", "ws"},        {"t", t},
                        {"t_ns", t_ns},           {"session", session_id_}, {"dir", "client->mgs"},
                        {"relayed", false},       {"ws_type", "text"},   {"len", text.size()},
                        {"text", text}};
  write_line(boost::json::serialize(r));
}

void Recorder::gateway_frame(std::span<const std::uint8_t> bytes) { frame("mgs->client", bytes, false); }

void Recorder::outgoing(std::span<const std::uint8_t> frame_bytes, channel::TimePoint now,
                        std::vector<std::vector<std::uint8_t>>& out) {
  const std::size_t first = out.size();
  if (inner_) {
    inner_->outgoing(frame_bytes, now, out);
  } else {
    out.emplace_back(frame_bytes.begin(), frame_bytes.end());
  }
  for (std::size_t i = first; i < out.size(); ++i) frame("agent->client", out[i], true);
}

void Recorder::incoming(std::span<const std::uint8_t> frame_bytes, channel::TimePoint now,
                        std::vector<std::vector<std::uint8_t>>& out) {
  frame("client->agent", frame_bytes, true);
  if (inner_) {
    inner_->incoming(frame_bytes, now, out);
  } else {
    out.emplace_back(frame_bytes.begin(), frame_bytes.end());
  }
}

}  // namespace ssmc::emulator
