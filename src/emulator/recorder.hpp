// JSONL session recording in the format of ../shared/testdata/transcripts/
// (README "Record format"): one `ws` record per frame on the client leg, as
// the gateway saw it, plus `event` records; readable with
// ../shared/tools/transcript-summary.py.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "session/runner.hpp"

namespace ssmc::emulator {

class Recorder final : public session::FrameFilter {
 public:
  /// Appends to `path`; `inner` (faults, may be null) runs after recording
  /// incoming frames and before recording outgoing ones, so the file holds
  /// exactly what crossed the wire.
  Recorder(const std::string& path, std::string session_id, session::FrameFilter* inner);
  ~Recorder() override;
  bool ok() const { return file_ != nullptr; }

  void outgoing(std::span<const std::uint8_t> frame, channel::TimePoint now,
                std::vector<std::vector<std::uint8_t>>& out) override;
  void incoming(std::span<const std::uint8_t> frame, channel::TimePoint now,
                std::vector<std::vector<std::uint8_t>>& out) override;
  channel::Duration delay(bool outgoing) override {
    return inner_ ? inner_->delay(outgoing) : channel::Duration::zero();
  }
  /// A relay event ("start_session", "client_connected", "closed", ...).
  void event(const std::string& name, const std::string& detail = {});
  /// A text frame the client sent to the gateway (OpenDataChannel), as the
  /// golden transcripts record it.
  void client_text(std::string_view text);
  /// A frame the gateway itself generated (channel_closed).
  void gateway_frame(std::span<const std::uint8_t> frame);

 private:
  void frame(std::string_view dir, std::span<const std::uint8_t> bytes, bool relayed);
  void write_line(std::string line);

  std::FILE* file_ = nullptr;
  std::string session_id_;
  session::FrameFilter* inner_;
  std::uint64_t seq_ = 0;
};

}  // namespace ssmc::emulator
