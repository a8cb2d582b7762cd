#include "wire/smux.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ssmc::wire {
namespace {

void put_u16le(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_u32le(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}
std::uint16_t get_u16le(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t get_u32le(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}

// Header + data into `dst`, which has room for both.
void write_frame(std::uint8_t* dst, std::uint8_t version, SmuxCmd cmd, std::uint32_t stream_id,
                 std::span<const std::uint8_t> data) noexcept {
  const SmuxFrameHeader h{version, cmd, static_cast<std::uint16_t>(data.size()), stream_id};
  encode_smux_header(h, std::span<std::uint8_t, kSmuxHeaderSize>(dst, kSmuxHeaderSize));
  if (!data.empty()) std::memcpy(dst + kSmuxHeaderSize, data.data(), data.size());
}

}  // namespace

void encode_smux_header(const SmuxFrameHeader& header, std::span<std::uint8_t, kSmuxHeaderSize> out) noexcept {
  out[0] = header.version;
  out[1] = static_cast<std::uint8_t>(header.cmd);
  put_u16le(out.data() + 2, header.length);
  put_u32le(out.data() + 4, header.stream_id);
}

SmuxFrameHeader decode_smux_header(std::span<const std::uint8_t, kSmuxHeaderSize> in) noexcept {
  return {in[0], static_cast<SmuxCmd>(in[1]), get_u16le(in.data() + 2), get_u32le(in.data() + 4)};
}

std::error_code check_smux_header(const SmuxFrameHeader& header, std::uint8_t version) noexcept {
  if (header.version != version) return Errc::smux_bad_version;
  switch (header.cmd) {
    case SmuxCmd::syn:
    case SmuxCmd::fin:
    case SmuxCmd::nop:
      if (header.length != 0) return Errc::smux_bad_length;
      return {};
    case SmuxCmd::psh:
      return {};
    case SmuxCmd::upd:
      if (version != kSmuxVersion2) return Errc::smux_bad_command;
      if (header.length != kSmuxUpdSize) return Errc::smux_bad_length;
      return {};
  }
  return Errc::smux_bad_command;
}

void append_smux_frame(std::vector<std::uint8_t>& out, SmuxCmd cmd, std::uint32_t stream_id,
                       std::span<const std::uint8_t> data, std::uint8_t version) {
  if (data.size() > kSmuxMaxLength) throw std::length_error("smux frame data longer than 65535 bytes");
  const std::size_t at = out.size();
  out.resize(at + smux_frame_size(data.size()));
  write_frame(out.data() + at, version, cmd, stream_id, data);
}

void append_smux_data(std::vector<std::uint8_t>& out, std::uint32_t stream_id, std::span<const std::uint8_t> data,
                      std::size_t max_frame_data, std::uint8_t version) {
  if (data.empty()) return;
  const std::size_t chunk = std::clamp<std::size_t>(max_frame_data, 1, kSmuxMaxLength);
  const std::size_t frames = (data.size() + chunk - 1) / chunk;
  std::size_t at = out.size();
  out.resize(at + data.size() + frames * kSmuxHeaderSize);  // one (amortised) growth
  while (!data.empty()) {
    const auto piece = data.first(std::min(chunk, data.size()));
    write_frame(out.data() + at, version, SmuxCmd::psh, stream_id, piece);
    at += smux_frame_size(piece.size());
    data = data.subspan(piece.size());
  }
}

void encode_smux_window_update(const SmuxWindowUpdate& update, std::span<std::uint8_t, kSmuxUpdSize> out) noexcept {
  put_u32le(out.data(), update.consumed);
  put_u32le(out.data() + 4, update.window);
}

Result<SmuxWindowUpdate> decode_smux_window_update(std::span<const std::uint8_t> data) noexcept {
  if (data.size() != kSmuxUpdSize) return make_error_code(Errc::smux_bad_length);
  return SmuxWindowUpdate{get_u32le(data.data()), get_u32le(data.data() + 4)};
}

void append_smux_window_update(std::vector<std::uint8_t>& out, std::uint32_t stream_id,
                               const SmuxWindowUpdate& update) {
  std::uint8_t payload[kSmuxUpdSize];
  encode_smux_window_update(update, payload);
  append_smux_frame(out, SmuxCmd::upd, stream_id, payload, kSmuxVersion2);
}

// ------------------------------------------------------------------ parser

void SmuxParser::compact() {
  if (buf_pos_ == buf_.size()) {
    buf_.clear();  // keeps capacity
    buf_pos_ = 0;
  }
}

void SmuxParser::top_up(std::size_t want) {
  const std::size_t have = buffered_bytes();
  if (have >= want) return;
  const auto take = input_.first(std::min(want - have, input_.size()));
  buf_.insert(buf_.end(), take.begin(), take.end());
  input_ = input_.subspan(take.size());
}

void SmuxParser::feed(std::span<const std::uint8_t> bytes) {
  if (error_ || bytes.empty()) return;
  if (!input_.empty()) {  // previous input not drained: own it before borrowing the new span
    compact();
    buf_.insert(buf_.end(), input_.begin(), input_.end());
  }
  input_ = bytes;
}

Result<std::optional<SmuxFrame>> SmuxParser::next() {
  if (error_) return error_;
  compact();

  // Slow path: a frame started in an earlier feed; complete it in buf_.
  if (buffered_bytes() > 0) {
    top_up(kSmuxHeaderSize);
    if (buffered_bytes() < kSmuxHeaderSize) return std::nullopt;
    const std::uint8_t* start = buf_.data() + buf_pos_;
    const auto h = decode_smux_header(std::span<const std::uint8_t, kSmuxHeaderSize>(start, kSmuxHeaderSize));
    if (auto ec = check_smux_header(h, version_)) {
      error_ = ec;
      input_ = {};
      return ec;
    }
    const std::size_t need = smux_frame_size(h.length);
    buf_.reserve(buf_pos_ + need);
    top_up(need);
    if (buffered_bytes() < need) return std::nullopt;
    start = buf_.data() + buf_pos_;  // reserve may have moved it
    buf_pos_ += need;
    return SmuxFrame{h, {start + kSmuxHeaderSize, h.length}};
  }

  // Fast path: parse straight from the fed span; stash an incomplete tail.
  if (input_.size() < kSmuxHeaderSize) {
    buf_.assign(input_.begin(), input_.end());
    input_ = {};
    return std::nullopt;
  }
  const auto h = decode_smux_header(input_.first<kSmuxHeaderSize>());
  if (auto ec = check_smux_header(h, version_)) {
    error_ = ec;
    input_ = {};
    return ec;
  }
  const std::size_t need = smux_frame_size(h.length);
  if (input_.size() < need) {
    buf_.reserve(need);
    buf_.assign(input_.begin(), input_.end());
    input_ = {};
    return std::nullopt;
  }
  const SmuxFrame frame{h, input_.subspan(kSmuxHeaderSize, h.length)};
  input_ = input_.subspan(need);
  return frame;
}

}  // namespace ssmc::wire
