#include "channel/data_channel.hpp"

#include <algorithm>
#include <cstring>

#include "crypto/base64.hpp"
#include "wire/go_json.hpp"

namespace ssmc::channel {
namespace {

using wire::MessageType;
using wire::PayloadType;

class ChannelCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssmc.channel"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "ok";
      case Errc::would_block:
        return "send window full";
      case Errc::not_ready:
        return "session not started: no stream data before the session type is known";
      case Errc::closed:
        return "data channel closed";
      case Errc::payload_too_large:
        return "payload larger than the configured maximum";
      case Errc::bad_state:
        return "operation not valid in this state";
    }
    return "unknown channel error";
  }
};

bool is_client_type(std::string_view t) {
  return t == wire::kSessionStandardStream || t == wire::kSessionInteractiveCommands ||
         t == wire::kSessionNonInteractiveCommands;
}

}  // namespace

const std::error_category& channel_category() noexcept {
  static const ChannelCategory c;
  return c;
}
std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), channel_category()}; }

DataChannel::DataChannel(Config config, crypto::RandomSource& rng, TimePoint now)
    : config_(std::move(config)),
      rng_(rng),
      start_(now),
      window_ctl_(config_.send_window_bytes, config_.adaptive_window_min_bytes),
      msg_bucket_(config_.max_messages_per_second, std::max(1.0, config_.max_messages_per_second / 10)),
      byte_bucket_(config_.max_bytes_per_second,
                   std::max<double>(static_cast<double>(wire::kDefaultMaxPayload), config_.max_bytes_per_second / 10)) {
}

std::uint64_t DataChannel::unix_ms(TimePoint now) const {
  return config_.unix_ms_at_start +
         static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count());
}

void DataChannel::emit(Event e) {
  if (const auto* d = std::get_if<DataReceived>(&e)) event_bytes_ += d->bytes.size();
  events_.push_back(std::move(e));
}

void DataChannel::drop(std::error_code ec, std::string detail) {
  ++stats_.dropped_frames;
  emit(FrameDropped{ec, std::move(detail)});
}

std::optional<Event> DataChannel::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  if (const auto* d = std::get_if<DataReceived>(&e)) {
    event_bytes_ -= d->bytes.size();
    // Room again: resume delivering messages held for receiver back-pressure.
    if (receive_ready_ && !reorder_.empty() && reorder_.begin()->first == expected_) drain_held(last_now_);
  }
  return e;
}

// ------------------------------------------------------------------ outgoing

const DataChannel::Sent* DataChannel::find_sent(std::int64_t seq) const {
  if (seq < sent_base_ || seq >= sent_base_ + static_cast<std::int64_t>(sent_.size())) return nullptr;
  return &sent_[static_cast<std::size_t>(seq - sent_base_)];
}
DataChannel::Sent* DataChannel::find_sent(std::int64_t seq) {
  return const_cast<Sent*>(std::as_const(*this).find_sent(seq));
}

std::size_t DataChannel::send_window_free_messages() const {
  return config_.send_window_messages > unacked_count_ ? config_.send_window_messages - unacked_count_ : 0;
}
std::size_t DataChannel::send_window_free_bytes() const {
  const std::size_t window = window_bytes();
  return window > unacked_bytes_ ? window - unacked_bytes_ : 0;
}

std::error_code DataChannel::send(PayloadType type, std::span<const std::uint8_t> payload, TimePoint now) {
  if (closed_) return make_error_code(Errc::closed);
  if (config_.role == Role::client && !running_) return make_error_code(Errc::not_ready);
  return send_internal(type, payload, now);
}

std::error_code DataChannel::check_room(std::size_t payload_size) {
  if (payload_size > config_.max_payload) return make_error_code(Errc::payload_too_large);
  if (config_.adaptive_window) window_ctl_.note_message(payload_size);
  if (unacked_count_ >= config_.send_window_messages ||
      (unacked_count_ > 0 && unacked_bytes_ + payload_size > window_bytes())) {
    blocked_ = true;
    return make_error_code(Errc::would_block);
  }
  return {};
}

bool DataChannel::encrypts(PayloadType type) const {
  return encryption_on_ &&
         (type == PayloadType::output ||
          (config_.role == Role::agent && (type == PayloadType::std_err || type == PayloadType::exit_code)));
}

bool DataChannel::newline_quirk(std::span<const std::uint8_t> payload) const {
  return config_.role == Role::client && config_.newline_quirk && payload.size() == 1 && payload[0] == '\n';
}

std::error_code DataChannel::send_internal(PayloadType type, std::span<const std::uint8_t> payload, TimePoint now) {
  if (auto ec = check_room(payload.size())) return ec;
  static constexpr std::uint8_t kCarriageReturn = '\r';
  if (newline_quirk(payload)) payload = std::span(&kCarriageReturn, 1);

  std::vector<std::uint8_t> sealed;
  if (encrypts(type)) {
    sealed = crypto::gcm_seal(encrypt_key_, rng_, payload);
    payload = sealed;
  }
  auto frame = take_frame(wire::encoded_size(payload.size()));
  if (!payload.empty()) std::memcpy(frame.data() + wire::kPayloadOffset, payload.data(), payload.size());
  return queue_frame(type, std::move(frame), now);
}

std::error_code DataChannel::send_with(PayloadType type, std::size_t max_size, PayloadFill fill, TimePoint now) {
  if (closed_) return make_error_code(Errc::closed);
  if (config_.role == Role::client && !running_) return make_error_code(Errc::not_ready);
  if (auto ec = check_room(max_size)) return ec;
  if (encrypts(type)) {  // sealing needs the plaintext apart from the frame
    fill_scratch_.resize(max_size);
    const std::size_t n = std::min(fill(fill_scratch_), max_size);
    return n == 0 ? std::error_code{} : send_internal(type, std::span(fill_scratch_).first(n), now);
  }
  auto frame = take_frame(wire::encoded_size(max_size));
  const std::size_t n = std::min(fill(std::span(frame).subspan(wire::kPayloadOffset, max_size)), max_size);
  if (n == 0) {
    recycle_frame(std::move(frame));
    return {};
  }
  frame.resize(wire::encoded_size(n));
  const auto payload = std::span(frame).subspan(wire::kPayloadOffset, n);
  if (newline_quirk(payload)) payload[0] = '\r';
  return queue_frame(type, std::move(frame), now);
}

std::error_code DataChannel::queue_frame(PayloadType type, std::vector<std::uint8_t> frame, TimePoint now) {
  wire::MessageHeader h;
  h.type = config_.role == Role::client ? MessageType::input_stream_data : MessageType::output_stream_data;
  h.created_date = unix_ms(now);
  h.sequence_number = next_seq_;
  h.flags = (config_.role == Role::agent && next_seq_ == 0) ? wire::kFlagSyn : 0;
  h.message_id = wire::Uuid::random_v4(rng_);
  h.payload_type = type;

  Sent s;
  s.frame = std::move(frame);
  if (auto ec = wire::finish_frame(h, s.frame)) {
    recycle_frame(std::move(s.frame));
    return ec;
  }
  s.payload_size = s.frame.size() - wire::kPayloadOffset;
  if (sent_.empty()) sent_base_ = next_seq_;
  const std::size_t payload_size = s.payload_size;
  sent_.push_back(std::move(s));
  ++unacked_count_;
  unacked_bytes_ += payload_size;
  ++stats_.stream_messages_sent;
  queue_stream(next_seq_);
  ++next_seq_;
  return {};
}

std::vector<std::uint8_t> DataChannel::take_frame(std::size_t size) {
  std::vector<std::uint8_t> f;
  if (!frame_pool_.empty()) {
    f = std::move(frame_pool_.back());
    frame_pool_.pop_back();
    frame_pool_bytes_ -= f.capacity();
  }
  f.resize(size);
  return f;
}

void DataChannel::recycle_frame(std::vector<std::uint8_t>&& frame) {
  if (frame.capacity() > 0 && frame_pool_bytes_ + frame.capacity() <= kFramePoolBytes) {
    frame_pool_bytes_ += frame.capacity();
    frame_pool_.push_back(std::move(frame));
  }
  frame = {};
}

void DataChannel::queue_stream(std::int64_t seq) {
  Sent* s = find_sent(seq);
  if (s == nullptr || s->acked || s->queued) return;
  s->queued = true;
  stream_out_.push_back(seq);
}

void DataChannel::queue_ack(const wire::DecodedMessage& m, TimePoint now) {
  wire::write_acknowledge(ack_json_, m.type_name, m.header.message_id, m.header.sequence_number);
  wire::MessageHeader h;
  h.type = MessageType::acknowledge;
  h.created_date = unix_ms(now);
  h.flags = wire::kFlagsAck;
  h.message_id = wire::Uuid::random_v4(rng_);
  std::vector<std::uint8_t> frame;
  if (!spare_.empty()) {
    frame = std::move(spare_.back());
    spare_.pop_back();
  }
  wire::encode(h, wire::as_bytes(ack_json_), frame);
  // Acks go out ahead of stream data: they are small, and delaying them
  // only causes retransmissions.
  acks_out_.push_back(std::move(frame));
  ++stats_.acks_sent;
}

std::optional<std::span<const std::uint8_t>> DataChannel::poll_output(TimePoint now) {
  last_now_ = std::max(last_now_, now);
  if (!transport_up_) return std::nullopt;
  if (!acks_out_.empty()) {
    if (out_current_.capacity() > 0 && spare_.size() < kSpareFrames) spare_.push_back(std::move(out_current_));
    out_current_ = std::move(acks_out_.front());
    acks_out_.pop_front();
    ++stats_.frames_out;
    return std::span<const std::uint8_t>(out_current_);
  }
  while (!stream_out_.empty()) {
    const std::int64_t seq = stream_out_.front();
    Sent* s = find_sent(seq);
    if (s == nullptr || s->acked) {
      stream_out_.pop_front();
      continue;
    }
    if (paused_) return std::nullopt;
    const double bytes = static_cast<double>(s->frame.size());
    if (!msg_bucket_.unlimited() || !byte_bucket_.unlimited()) {
      if (msg_bucket_.ready_at(1, now) > now || byte_bucket_.ready_at(bytes, now) > now) return std::nullopt;
      msg_bucket_.try_take(1, now);
      byte_bucket_.try_take(bytes, now);
    }
    stream_out_.pop_front();
    s->queued = false;
    if (s->transmissions == 0) {
      s->first_sent = now;
      s->stamp = window_ctl_.stamp(now);
    } else {
      ++stats_.retransmissions;
    }
    ++s->transmissions;
    s->last_sent = now;
    retx_.emplace_back(seq, now);
    ++stats_.frames_out;
    return std::span<const std::uint8_t>(s->frame);
  }
  return std::nullopt;
}

void DataChannel::on_transport_lost() { transport_up_ = false; }

std::optional<DataChannel::UnackedInfo> DataChannel::oldest_unacked() const {
  for (std::size_t i = 0; i < sent_.size(); ++i) {
    const Sent& s = sent_[i];
    if (s.acked) continue;
    return UnackedInfo{sent_base_ + static_cast<std::int64_t>(i), s.transmissions, s.queued, s.last_sent};
  }
  return std::nullopt;
}

void DataChannel::on_transport_ready(TimePoint now) {
  last_now_ = std::max(last_now_, now);
  transport_up_ = true;
  paused_ = false;  // a (re)connected leg starts unpaused (03 §7)
  // Everything unacked may have died with the old socket: resend it all now,
  // in sequence order, ahead of anything queued later.
  std::vector<std::int64_t> resend;
  for (std::size_t i = 0; i < sent_.size(); ++i) {
    Sent& s = sent_[i];
    if (s.acked || s.queued || s.transmissions == 0) continue;
    s.queued = true;
    resend.push_back(sent_base_ + static_cast<std::int64_t>(i));
  }
  stream_out_.insert(stream_out_.begin(), resend.begin(), resend.end());
}

// -------------------------------------------------------------------- timers

void DataChannel::collect_expired(TimePoint now) {
  const Duration rto = rtt_.rto();
  for (prune_retx(); !retx_.empty(); prune_retx()) {
    auto [seq, sent_at] = retx_.front();
    if (sent_at + rto > now) break;
    retx_.pop_front();
    if (transport_up_ && !(paused_ && config_.honor_pause))
      queue_stream(seq);
    else
      retx_.emplace_back(seq, sent_at);    // keep the timer; on_transport_ready resends
    if (!transport_up_ || paused_) break;  // avoid spinning over the same entries
  }
}

bool DataChannel::retx_live(const std::pair<std::int64_t, TimePoint>& entry) const {
  const Sent* s = find_sent(entry.first);
  return s != nullptr && !s->acked && s->last_sent == entry.second;
}

void DataChannel::prune_retx() {
  // Acked or retransmitted entries at the front are stale: dropping them here
  // keeps next_deadline() O(1) instead of a scan over the whole window.
  while (!retx_.empty() && !retx_live(retx_.front())) retx_.pop_front();
}

std::optional<TimePoint> DataChannel::next_deadline() const {
  std::optional<TimePoint> d;
  auto consider = [&](TimePoint t) { d = d ? std::min(*d, t) : t; };
  if (transport_up_ && !(paused_ && config_.honor_pause)) {
    for (const auto& entry : retx_) {
      if (!retx_live(entry)) continue;
      consider(entry.second + rtt_.rto());
      break;
    }
    if (!stream_out_.empty() && !paused_ && (!msg_bucket_.unlimited() || !byte_bucket_.unlimited())) {
      // Pacing holds stream output back: wake when the tokens are due.
      for (const auto seq : stream_out_) {
        const Sent* s = find_sent(seq);
        if (s == nullptr || s->acked) continue;
        consider(std::max(msg_bucket_.ready_at(1, last_now_),
                          byte_bucket_.ready_at(static_cast<double>(s->frame.size()), last_now_)));
        break;
      }
    }
  }
  if (unacked_count_ > 0 && !give_up_reported_) {
    for (const auto& s : sent_)
      if (!s.acked && s.transmissions > 0) {
        consider(s.first_sent + config_.give_up_after);
        break;
      }
  }
  if (handshake_deadline_) consider(*handshake_deadline_);
  return d;
}

void DataChannel::on_timer(TimePoint now) {
  last_now_ = std::max(last_now_, now);
  collect_expired(now);
  if (!give_up_reported_) {
    for (const auto& s : sent_) {
      if (s.acked || s.transmissions == 0) continue;
      if (s.first_sent + config_.give_up_after <= now) {
        give_up_reported_ = true;
        emit(ResendTimeout{});
      }
      break;
    }
  }
  if (handshake_deadline_ && *handshake_deadline_ <= now) {
    handshake_deadline_.reset();
    fail_handshake(awaiting_challenge_ ? "Timed out waiting for encryption challenge."
                                       : "Handshake timed out. Please ensure that you have the latest version of "
                                         "the session manager plugin.");
  }
}

// ------------------------------------------------------------------ incoming

void DataChannel::on_frame(std::span<const std::uint8_t> frame, TimePoint now) {
  last_now_ = std::max(last_now_, now);
  ++stats_.frames_in;
  if (closed_) return;
  auto decoded = wire::decode(frame, config_.decode);
  if (!decoded) {
    drop(decoded.error(), "malformed AgentMessage");
    return;
  }
  const wire::DecodedMessage& m = *decoded;
  const MessageType incoming_stream =
      config_.role == Role::client ? MessageType::output_stream_data : MessageType::input_stream_data;
  switch (m.header.type) {
    case MessageType::acknowledge:
      handle_ack(m, now);
      return;
    case MessageType::channel_closed: {
      auto cc = wire::parse_channel_closed(m.payload);
      closed_ = true;
      emit(ChannelClosedEvent{cc ? *cc : wire::ChannelClosed{}});
      return;
    }
    case MessageType::pause_publication:
    case MessageType::start_publication: {
      const bool paused = m.header.type == MessageType::pause_publication;
      if (config_.honor_pause) paused_ = paused;
      emit(PublicationChanged{paused});
      return;
    }
    case MessageType::agent_session_state:
      return;  // meant for MGS; a client ignores it (03 §11)
    default:
      break;
  }
  if (m.header.type != incoming_stream) {
    drop(wire::make_error_code(wire::Errc::unknown_message_type), std::string(m.type_name));
    return;
  }
  if (config_.honor_pause) paused_ = false;  // any input clears pause (03 §7)
  handle_stream(m, frame, now);
}

void DataChannel::handle_ack(const wire::DecodedMessage& m, TimePoint now) {
  if (config_.honor_pause) paused_ = false;
  auto seq = wire::parse_acknowledged_sequence(m.payload);
  if (!seq) {
    drop(seq.error(), "bad acknowledge payload");
    return;
  }
  ++stats_.acks_received;
  Sent* s = find_sent(*seq);
  if (s == nullptr || s->acked) return;
  // Karn's rule: sample only messages sent once (the official client samples
  // every ack against its stale lastSent; 03 §6).
  if (s->transmissions == 1) {
    rtt_.sample(now - s->last_sent);
    window_ctl_.on_ack(s->payload_size, now - s->last_sent, s->stamp, now);
  }
  s->acked = true;
  recycle_frame(std::move(s->frame));
  --unacked_count_;
  unacked_bytes_ -= s->payload_size;
  while (!sent_.empty() && sent_.front().acked) {
    sent_.pop_front();
    ++sent_base_;
  }
  prune_retx();
  if (blocked_ && send_window_free_messages() > 0 && (unacked_count_ == 0 || unacked_bytes_ < window_bytes())) {
    blocked_ = false;
    emit(Writable{});
  }
}

void DataChannel::handle_stream(const wire::DecodedMessage& m, std::span<const std::uint8_t> frame, TimePoint now) {
  const std::int64_t s = m.header.sequence_number;
  if (s < expected_) {  // duplicate: re-ack so the peer stops resending (03 §3.2)
    ++stats_.duplicates_received;
    queue_ack(m, now);
    return;
  }
  if (s > expected_) {  // early
    ++stats_.early_received;
    // Further ahead than the reorder buffer could ever hold: no real peer
    // gets there (its window is our reorder buffer at most); do not let a
    // hostile number take a slot that would never be released.
    if (s - expected_ > static_cast<std::int64_t>(config_.reorder_messages)) return;
    auto it = reorder_.find(s);
    if (it != reorder_.end()) {
      it->second.acked = true;
      queue_ack(m, now);
      return;
    }
    if (reorder_.size() >= config_.reorder_messages || reorder_bytes_ + frame.size() > config_.reorder_bytes)
      return;  // no room: drop unacked, it will come again
    reorder_.emplace(s, Held{std::vector<std::uint8_t>(frame.begin(), frame.end()), true});
    reorder_bytes_ += frame.size();
    queue_ack(m, now);
    return;
  }
  // in order
  if (auto it = reorder_.find(s); it != reorder_.end()) {  // a held copy exists: use the new arrival
    reorder_bytes_ -= it->second.frame.size();
    reorder_.erase(it);
  }
  const Outcome o = process(m, now);
  if (o == Outcome::not_ready) {
    // Keep it (unacked) so it is delivered as soon as the receiver drains;
    // the peer's retransmission is then a duplicate and simply re-acked.
    if (reorder_bytes_ + frame.size() <= config_.reorder_bytes) {
      reorder_.emplace(s, Held{std::vector<std::uint8_t>(frame.begin(), frame.end()), false});
      reorder_bytes_ += frame.size();
    }
    return;
  }
  if (o == Outcome::failed) return;  // no ack (03 §3.1)
  queue_ack(m, now);
  ++expected_;
  drain_held(now);
}

void DataChannel::drain_held(TimePoint now) {
  while (!reorder_.empty() && reorder_.begin()->first == expected_) {
    auto node = reorder_.extract(reorder_.begin());
    reorder_bytes_ -= node.mapped().frame.size();
    auto m = wire::decode(node.mapped().frame, config_.decode);
    if (!m) {  // cannot happen: it decoded on arrival
      ++expected_;
      continue;
    }
    const Outcome o = process(*m, now);
    if (o == Outcome::not_ready) {
      reorder_bytes_ += node.mapped().frame.size();
      reorder_.insert(std::move(node));
      return;
    }
    if (!node.mapped().acked && o == Outcome::processed) queue_ack(*m, now);
    if (!node.mapped().acked && o == Outcome::failed) {
      // In-order held message that failed: behave like the in-order path (no ack).
      return;
    }
    ++expected_;
  }
}

void DataChannel::set_receive_ready(bool ready, TimePoint now) {
  receive_ready_ = ready;
  if (ready) drain_held(now);
}

DataChannel::Outcome DataChannel::process(const wire::DecodedMessage& m, TimePoint now) {
  std::vector<std::uint8_t> plain;
  std::span<const std::uint8_t> payload = m.payload;
  const PayloadType t = m.header.payload_type;
  const bool encrypted_type = config_.role == Role::client ? (t == PayloadType::output || t == PayloadType::std_err ||
                                                              t == PayloadType::exit_code)
                                                           : t == PayloadType::output;
  if (encryption_on_ && encrypted_type) {
    auto opened = crypto::gcm_open(decrypt_key_, payload);
    if (!opened) {
      drop(wire::make_error_code(wire::Errc::digest_mismatch), "AES-GCM decryption failed");
      return Outcome::failed;
    }
    plain = std::move(*opened);
    payload = plain;
  }
  return config_.role == Role::client ? process_client(m, payload, now) : process_agent(m, payload, now);
}

DataChannel::Outcome DataChannel::deliver(PayloadType type, std::span<const std::uint8_t> payload) {
  if (!receive_ready_ || (event_bytes_ > 0 && event_bytes_ + payload.size() > config_.receive_buffer_bytes))
    return Outcome::not_ready;
  stats_.bytes_delivered += payload.size();
  auto bytes = take_frame(payload.size());  // a recycled buffer when there is one
  if (!payload.empty()) std::memcpy(bytes.data(), payload.data(), payload.size());
  emit(DataReceived{type, std::move(bytes)});
  return Outcome::processed;
}

// -------------------------------------------------------------- client role

DataChannel::Outcome DataChannel::process_client(const wire::DecodedMessage& m, std::span<const std::uint8_t> payload,
                                                 TimePoint now) {
  switch (m.header.payload_type) {
    case PayloadType::handshake_request:
      client_handshake_request(payload, now);
      return Outcome::processed;
    case PayloadType::enc_challenge_request:
      return client_challenge(payload, now);
    case PayloadType::handshake_complete:
      client_handshake_complete(payload);
      return Outcome::processed;
    default:
      break;
  }
  if (!running_) {
    if (handshake_seen_) {
      // Data before HandshakeComplete: not ready, the agent resends (03 §9).
      return Outcome::not_ready;
    }
    if (m.header.payload_type != PayloadType::output) return Outcome::not_ready;
    // No handshake: the first Output declares a Standard_Stream session (03 §9, 04 §10).
    const Outcome o = deliver(PayloadType::output, payload);
    if (o != Outcome::processed) return o;
    running_ = true;
    SessionStarted started;
    started.session_type = std::string(wire::kSessionStandardStream);
    started.requested_type = started.session_type;
    // The start event must precede the first data: move it to the front of the data just queued.
    events_.insert(events_.end() - 1, Event{std::move(started)});
    return Outcome::processed;
  }
  return deliver(m.header.payload_type, payload);
}

void DataChannel::client_handshake_request(std::span<const std::uint8_t> payload, TimePoint now) {
  handshake_seen_ = true;
  pending_response_ = {};
  pending_response_.client_version = config_.client_version;
  pending_start_ = {};
  auto req = wire::parse_handshake_request(payload);
  if (!req) {
    pending_response_.errors.push_back("Failed to parse HandshakeRequest: " + req.error().message());
    emit(HandshakeFailed{"malformed HandshakeRequest"});
    client_send_handshake_response(now);
    return;
  }
  agent_version_ = req->agent_version;
  pending_start_.agent_version = req->agent_version;
  for (const auto& action : req->actions) {
    wire::ProcessedAction pa;
    pa.action_type = action.action_type;
    if (action.action_type == wire::kActionSessionType) {
      auto p = wire::parse_session_type_params(action.parameters);
      if (p && (is_client_type(p->session_type) || p->session_type == wire::kSessionPort)) {
        pending_start_.requested_type = p->session_type;
        pending_start_.session_type =
            std::string(p->session_type == wire::kSessionPort ? wire::kSessionPort : wire::kSessionStandardStream);
        pending_start_.properties = p->properties;
        pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::success);
      } else {
        pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::failed);
        pa.error = "Failed to process action SessionType: Unknown session type " +
                   (p ? p->session_type : std::string("(unparseable)"));
        pending_response_.errors.push_back(pa.error);
      }
    } else if (action.action_type == wire::kActionKmsEncryption) {
      auto p = wire::parse_kms_encryption_params(action.parameters);
      if (config_.legacy_cli || !p) {
        pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::failed);
        pa.error = config_.legacy_cli
                       ? "Failed to process action KMSEncryption: Installed version of CLI does not support Session "
                         "Manager encryption feature. Please upgrade to the latest version of your CLI (e.g., AWS "
                         "CLI)."
                       : "Failed to process action KMSEncryption: malformed parameters";
        pending_response_.errors.push_back(pa.error);
      } else {
        KmsRequest kr{KmsRequest::Op::generate_data_key, p->kms_key_id, {}, {}};
        kr.encryption_context = {{"aws:ssm:SessionId", config_.session_id}, {"aws:ssm:TargetId", config_.target_id}};
        const bool bind = config_.kms_challenge_binding && !p->challenge.empty();
        if (bind) kr.encryption_context.emplace_back("aws:ssm:RandomChallenge", p->challenge);
        pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::success);
        if (bind) pa.action_result = boost::json::object{{"ChallengeAcknowledgement", true}};
        pending_kms_action_ = pending_response_.actions.size();
        waiting_kms_ = true;
        emit(std::move(kr));
      }
    } else {
      pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::unsupported);
      pa.error = "Unsupported action " + action.action_type;
      pending_response_.errors.push_back(pa.error);
    }
    pending_response_.actions.push_back(std::move(pa));
  }
  if (!waiting_kms_) client_send_handshake_response(now);
}

void DataChannel::on_kms_result(Result<KmsResult> result, TimePoint now) {
  if (!waiting_kms_) return;
  waiting_kms_ = false;
  if (config_.role == Role::agent) {
    if (!result || result->plaintext.size() != kDataKeySize) {
      fail_handshake("KMS Decrypt failed: " + (result ? std::string("bad key size") : result.error().message()));
      return;
    }
    set_keys(result->plaintext);
    agent_send_challenge(now);
    return;
  }
  if (!pending_kms_action_) return;
  auto& pa = pending_response_.actions[*pending_kms_action_];
  pending_kms_action_.reset();
  if (!result || result->plaintext.size() != kDataKeySize) {
    pa.action_status = static_cast<std::int64_t>(wire::ActionStatus::failed);
    pa.action_result = nullptr;
    pa.error = "Failed to process action KMSEncryption: " +
               (result ? std::string("KMS returned a data key of the wrong size") : result.error().message());
    pending_response_.errors.push_back(pa.error);
  } else {
    wire::KmsEncryptionResult r{crypto::base64_encode(result->ciphertext_blob), std::nullopt};
    if (pa.action_result.is_object()) r.challenge_acknowledgement = true;
    pa.action_result = wire::to_json_value(r);
    set_keys(result->plaintext);
    pending_start_.encrypted = true;
  }
  client_send_handshake_response(now);
}

void DataChannel::set_keys(std::span<const std::uint8_t> key) {
  // Bytes 0..31: agent->client; 32..63: client->agent (04 §6).
  crypto::AesKey agent_to_client, client_to_agent;
  std::copy_n(key.begin(), 32, agent_to_client.begin());
  std::copy_n(key.begin() + 32, 32, client_to_agent.begin());
  encrypt_key_ = config_.role == Role::client ? client_to_agent : agent_to_client;
  decrypt_key_ = config_.role == Role::client ? agent_to_client : client_to_agent;
  encryption_on_ = true;
}

void DataChannel::client_send_handshake_response(TimePoint now) {
  const std::string json = wire::to_json(pending_response_);
  send_internal(PayloadType::handshake_response, wire::as_bytes(json), now);
}

DataChannel::Outcome DataChannel::client_challenge(std::span<const std::uint8_t> payload, TimePoint now) {
  auto req = wire::parse_encryption_challenge(payload);
  if (!req || !encryption_on_) {
    drop(wire::make_error_code(wire::Errc::bad_json), "EncChallengeRequest without encryption or malformed");
    return Outcome::failed;
  }
  auto blob = crypto::base64_decode(req->challenge);
  std::optional<std::vector<std::uint8_t>> plain;
  if (blob) plain = crypto::gcm_open(decrypt_key_, *blob);
  if (!plain) {
    drop(wire::make_error_code(wire::Errc::digest_mismatch), "cannot decrypt the encryption challenge");
    return Outcome::failed;
  }
  const auto resealed = crypto::gcm_seal(encrypt_key_, rng_, *plain);
  const std::string json = wire::to_json(wire::EncryptionChallenge{crypto::base64_encode(resealed)});
  send_internal(PayloadType::enc_challenge_response, wire::as_bytes(json), now);
  return Outcome::processed;
}

void DataChannel::client_handshake_complete(std::span<const std::uint8_t> payload) {
  auto c = wire::parse_handshake_complete(payload);
  if (pending_start_.session_type.empty()) {
    emit(HandshakeFailed{"unable to determine SessionType"});
    return;
  }
  if (running_) return;
  running_ = true;
  pending_start_.customer_message = c ? c->customer_message : std::string();
  pending_start_.encrypted = encryption_on_;
  emit(std::move(pending_start_));
  pending_start_ = {};
}

// --------------------------------------------------------------- agent role

std::error_code DataChannel::start_handshake(HandshakeSpec spec, TimePoint now) {
  if (config_.role != Role::agent || agent_spec_) return make_error_code(Errc::bad_state);
  wire::HandshakeRequest req;
  req.agent_version = spec.agent_version;
  boost::json::object st;
  st["SessionType"] = spec.session_type;
  st["Properties"] = spec.properties;
  req.actions.push_back({std::string(wire::kActionSessionType), std::move(st)});
  if (spec.kms_key_id) {
    std::array<std::uint8_t, 16> challenge;
    rng_.fill(challenge);
    boost::json::object kms;
    kms["KMSKeyId"] = *spec.kms_key_id;
    kms["Challenge"] = crypto::base64_encode(challenge);
    req.actions.push_back({std::string(wire::kActionKmsEncryption), std::move(kms)});
  }
  agent_spec_ = std::move(spec);
  handshake_seen_ = true;
  awaiting_response_ = true;
  handshake_started_ = now;
  handshake_deadline_ = now + kHandshakeStepTimeout;
  const std::string json = wire::to_json(req);
  return send_internal(PayloadType::handshake_request, wire::as_bytes(json), now);
}

void DataChannel::start_without_handshake() { running_ = true; }

DataChannel::Outcome DataChannel::process_agent(const wire::DecodedMessage& m, std::span<const std::uint8_t> payload,
                                                TimePoint now) {
  const PayloadType t = m.header.payload_type;
  if (t == PayloadType::handshake_response) {
    if (awaiting_response_) agent_handshake_response(payload, now);
    return Outcome::processed;
  }
  if (t == PayloadType::enc_challenge_response) {
    if (awaiting_challenge_) agent_challenge_response(payload, now);
    return Outcome::processed;
  }
  // Before the handshake completes the agent acks and discards stream data (03 §3.3).
  if (handshake_seen_ && !running_) return Outcome::processed;
  return deliver(t, payload);
}

void DataChannel::agent_handshake_response(std::span<const std::uint8_t> payload, TimePoint now) {
  awaiting_response_ = false;
  handshake_deadline_.reset();
  auto resp = wire::parse_handshake_response(payload);
  if (!resp) {
    fail_handshake("malformed HandshakeResponse");
    return;
  }
  client_version_seen_ = resp->client_version;
  const wire::ProcessedAction* kms = nullptr;
  for (const auto& a : resp->actions) {
    if (a.action_status != static_cast<std::int64_t>(wire::ActionStatus::success)) {
      fail_handshake(a.action_type + " failed on client with status " + std::to_string(a.action_status) +
                     " error: " + a.error);
      return;
    }
    if (a.action_type == wire::kActionKmsEncryption) kms = &a;
  }
  if (agent_spec_->kms_key_id) {
    if (kms == nullptr) {
      fail_handshake("KMSEncryption action missing from HandshakeResponse");
      return;
    }
    auto r = wire::parse_kms_encryption_result(kms->action_result);
    auto blob = r ? crypto::base64_decode(r->kms_ciphertext_key) : std::nullopt;
    if (!blob) {
      fail_handshake("malformed KMSEncryption result");
      return;
    }
    KmsRequest kr{KmsRequest::Op::decrypt, *agent_spec_->kms_key_id, {}, std::move(*blob)};
    kr.encryption_context = {{"aws:ssm:SessionId", config_.session_id}, {"aws:ssm:TargetId", config_.target_id}};
    waiting_kms_ = true;
    emit(std::move(kr));
    return;
  }
  agent_complete(now);
}

void DataChannel::agent_send_challenge(TimePoint now) {
  challenge_.resize(kChallengeSize);
  rng_.fill(challenge_);
  const auto sealed = crypto::gcm_seal(encrypt_key_, rng_, challenge_);
  const std::string json = wire::to_json(wire::EncryptionChallenge{crypto::base64_encode(sealed)});
  awaiting_challenge_ = true;
  handshake_deadline_ = now + kHandshakeStepTimeout;
  send_internal(PayloadType::enc_challenge_request, wire::as_bytes(json), now);
}

void DataChannel::agent_challenge_response(std::span<const std::uint8_t> payload, TimePoint now) {
  awaiting_challenge_ = false;
  handshake_deadline_.reset();
  auto c = wire::parse_encryption_challenge(payload);
  auto blob = c ? crypto::base64_decode(c->challenge) : std::nullopt;
  auto plain = blob ? crypto::gcm_open(decrypt_key_, *blob) : std::nullopt;
  if (!plain || *plain != challenge_) {
    fail_handshake("encryption challenge mismatch");
    return;
  }
  agent_complete(now);
}

void DataChannel::agent_complete(TimePoint now) {
  wire::HandshakeComplete c;
  c.handshake_time_to_complete_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - handshake_started_).count();
  if (encryption_on_) c.customer_message = std::string(kEncryptedCustomerMessage);
  const std::string json = wire::to_json(c);
  send_internal(PayloadType::handshake_complete, wire::as_bytes(json), now);
  running_ = true;
  emit(HandshakeCompleted{client_version_seen_, encryption_on_});
}

void DataChannel::fail_handshake(std::string reason) {
  awaiting_response_ = awaiting_challenge_ = false;
  emit(HandshakeFailed{std::move(reason)});
}

}  // namespace ssmc::channel
