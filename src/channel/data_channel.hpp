// The data-channel engine: the reliable, ordered, optionally encrypted message
// stream of a Session Manager session (spec 03, 04), for both ends.
//
// Sans-I/O: it owns no socket, thread or clock. The driver (session layer,
// emulator agent, simulator, tests) feeds it what arrived and the time:
//
//   engine.on_frame(bytes, now);            // a binary WebSocket message arrived
//   while (auto f = engine.poll_output(now)) transport.write(*f);
//   while (auto e = engine.poll_event()) handle(*e);
//   timer.expires_at(engine.next_deadline());  ... engine.on_timer(now);
//
// Faithful on the wire, better inside: one sequence counter per direction
// shared by all payload types; ack after processing, ack early messages at
// once, re-ack duplicates; a bounded reorder buffer; a bounded send window
// with back-pressure (unacked data is never evicted); every message whose
// retransmission timer expired is resent (not only the head); transport
// replacement keeps all state and resends everything unacknowledged.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "channel/rtt.hpp"
#include "channel/send_window.hpp"
#include "channel/token_bucket.hpp"
#include "crypto/aes_gcm.hpp"
#include "crypto/random.hpp"
#include "util/function_ref.hpp"
#include "util/ring_queue.hpp"
#include "wire/agent_message.hpp"
#include "wire/payloads.hpp"

namespace ssmc::channel {

/// Version reported in OpenDataChannel, HandshakeResponse and `--version`:
/// four parts, >= 1.2.764.0, the minimum AWS supports (02 §2, 04 §4.1).
inline constexpr std::string_view kClientVersion = "1.2.896.0";

/// Official read-chunk size; the default largest stream payload (03 §1).
inline constexpr std::size_t kStreamDataPayloadSize = 1024;
/// Official client's OutgoingMessageBufferCapacity / IncomingMessageBufferCapacity (03 §1).
inline constexpr std::size_t kClientBufferCapacity = 10'000;
/// Agent's buffer capacities (03 §1).
inline constexpr std::size_t kAgentBufferCapacity = 100'000;
/// Default byte bound of the send window and of the reorder buffer.
inline constexpr std::size_t kDefaultWindowBytes = 16 * 1024 * 1024;
/// Default bound of delivered-but-unconsumed payload bytes before the engine
/// stops acknowledging (receiver back-pressure, 03 §3.3 "not ready").
inline constexpr std::size_t kDefaultReceiveBufferBytes = 4 * 1024 * 1024;
/// The official client gives up after ~300 s of resending the head (03 §5.3-§5.4).
inline constexpr Duration kResendGiveUp = 300s;
/// Agent: time allowed for each handshake step (04 §2 handshakeTimeout).
inline constexpr Duration kHandshakeStepTimeout = 15s;
/// KMS data key size and split (04 §6).
inline constexpr std::size_t kDataKeySize = 64;
/// Random bytes of the agent's encryption challenge (04 §7).
inline constexpr std::size_t kChallengeSize = 64;
inline constexpr std::string_view kEncryptedCustomerMessage = "This session is encrypted using AWS KMS.";

enum class Role { client, agent };

/// Errors returned by the engine's calls.
enum class Errc {
  ok = 0,
  would_block = 1,    ///< send window full: stop reading the source until Writable
  not_ready,          ///< no stream data before the session type is known (03 §9)
  closed,             ///< channel_closed received or close() called
  payload_too_large,  ///< larger than Config::max_payload
  bad_state,          ///< call not valid in this role/state
};
const std::error_category& channel_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

struct Config {
  Role role = Role::client;
  /// Send window: unacknowledged stream messages and bytes.
  std::size_t send_window_messages = kClientBufferCapacity;
  std::size_t send_window_bytes = kDefaultWindowBytes;
  /// Reorder buffer: early (out-of-order) messages kept.
  std::size_t reorder_messages = kClientBufferCapacity;
  std::size_t reorder_bytes = kDefaultWindowBytes;
  /// Delivered payload bytes waiting in the event queue before acking stops.
  std::size_t receive_buffer_bytes = kDefaultReceiveBufferBytes;
  /// Largest payload `send` accepts (the session layer chunks).
  std::size_t max_payload = wire::kDefaultMaxPayload;
  /// The head unacked this long → ResendTimeout event.
  Duration give_up_after = kResendGiveUp;
  /// Adapt the bytes in flight to the path (send_window.hpp), with
  /// send_window_bytes as the ceiling: keeps interactive data from queueing
  /// behind bulk data. Off = a fixed send_window_bytes.
  bool adaptive_window = false;
  /// Floor of the adaptive window (tests use small ones).
  std::size_t adaptive_window_min_bytes = kMinAdaptiveWindowBytes;
  /// Pacing of stream messages (0 = unlimited): messages/s, bytes/s.
  double max_messages_per_second = 0;
  double max_bytes_per_second = 0;
  /// Honour pause_publication (the agent does; the official client ignores it, 03 §7).
  bool honor_pause = false;
  /// Client: a payload that is exactly "\n" is sent as "\r" (05 §2.3).
  bool newline_quirk = true;
  std::string client_version{kClientVersion};
  /// KMS encryption context (04 §4): aws:ssm:SessionId / aws:ssm:TargetId.
  std::string session_id;
  std::string target_id;
  /// Client: bind the agent's random challenge into the KMS context (04 §9).
  bool kms_challenge_binding = false;
  /// Client started with the legacy 4-argument command line (04 §4 quirk).
  bool legacy_cli = false;
  /// Wall clock for CreatedDate: Unix ms at the `now` passed to the constructor.
  std::uint64_t unix_ms_at_start = 1'700'000'000'000;
  wire::DecodeOptions decode;
};

/// Agent role: what start_handshake asks of the client.
struct HandshakeSpec {
  std::string agent_version = "3.3.1142.0";
  std::string session_type{wire::kSessionStandardStream};
  boost::json::value properties;  ///< null, or the Port properties object
  std::optional<std::string> kms_key_id;
};

// ------------------------------------------------------------------- events

/// Stream payload delivered in order (Output, StdErr, ExitCode, Size, Flag,...),
/// already decrypted.
struct DataReceived {
  wire::PayloadType type;
  std::vector<std::uint8_t> bytes;
};
/// Client: the session type is known (after HandshakeComplete, or the first
/// Output of a session without handshake). Stream sends are allowed from now.
struct SessionStarted {
  std::string session_type;       ///< Standard_Stream | Port (as the client stores it, 04 §4)
  std::string requested_type;     ///< as the agent named it
  boost::json::value properties;  ///< Port properties, else null
  std::string agent_version;      ///< empty without handshake
  bool encrypted = false;
  std::string customer_message;  ///< HandshakeComplete text, to print
};
/// Agent: the client completed the handshake.
struct HandshakeCompleted {
  std::string client_version;
  bool encrypted = false;
};
/// The handshake failed (client: a HandshakeRequest could not be processed;
/// agent: the client reported failures, a timeout, or a bad challenge).
struct HandshakeFailed {
  std::string reason;
};
/// The engine needs a KMS call; answer with on_kms_result().
struct KmsRequest {
  enum class Op { generate_data_key, decrypt } op;
  std::string key_id;
  std::vector<std::pair<std::string, std::string>> encryption_context;
  std::vector<std::uint8_t> ciphertext;  ///< decrypt only
};
/// MGS ended the session (03 §8).
struct ChannelClosedEvent {
  wire::ChannelClosed payload;
};
/// The oldest unacked message was not acknowledged for give_up_after (03 §5.4).
struct ResendTimeout {};
/// The send window has room again after a would_block.
struct Writable {};
/// pause_publication / start_publication received.
struct PublicationChanged {
  bool paused;
};
/// A frame was dropped (malformed, unknown type, failed decryption). Informational.
struct FrameDropped {
  std::error_code error;
  std::string detail;
};

using Event = std::variant<DataReceived, SessionStarted, HandshakeCompleted, HandshakeFailed, KmsRequest,
                           ChannelClosedEvent, ResendTimeout, Writable, PublicationChanged, FrameDropped>;

/// Answer to a KmsRequest.
struct KmsResult {
  std::vector<std::uint8_t> plaintext;        ///< 64-byte data key
  std::vector<std::uint8_t> ciphertext_blob;  ///< generate_data_key only
};

/// send_with's producer: writes into the payload area, returns bytes written.
using PayloadFill = util::FunctionRef<std::size_t(std::span<std::uint8_t>)>;

/// Counters for statistics and tests.
struct Stats {
  std::uint64_t frames_in = 0, frames_out = 0;
  std::uint64_t stream_messages_sent = 0, retransmissions = 0;
  std::uint64_t acks_sent = 0, acks_received = 0;
  std::uint64_t duplicates_received = 0, early_received = 0, dropped_frames = 0;
  std::uint64_t bytes_delivered = 0;
};

class DataChannel {
 public:
  DataChannel(Config config, crypto::RandomSource& rng, TimePoint now);

  // ----- transport side
  /// One binary (or text) WebSocket message from the peer.
  void on_frame(std::span<const std::uint8_t> frame, TimePoint now);
  /// The next frame to write, valid until the next call into the engine;
  /// nullopt when nothing is due (or the transport is down, or pacing holds it).
  std::optional<std::span<const std::uint8_t>> poll_output(TimePoint now);
  /// The WebSocket broke: stop emitting frames, keep all state.
  void on_transport_lost();
  /// A new WebSocket is open (and OpenDataChannel sent): resend every
  /// unacknowledged message at once.
  void on_transport_ready(TimePoint now);
  bool transport_up() const { return transport_up_; }

  // ----- timers
  /// The earliest time on_timer must be called; nullopt if none.
  std::optional<TimePoint> next_deadline() const;
  void on_timer(TimePoint now);

  // ----- application side
  /// Queues one stream message. Errors: would_block (window full; a Writable
  /// event follows), not_ready, closed, payload_too_large.
  std::error_code send(wire::PayloadType type, std::span<const std::uint8_t> payload, TimePoint now);
  /// Writes the payload in place: `fill` gets the frame's payload area
  /// (`max_size` bytes) and returns how many bytes it wrote (0 = nothing to
  /// send: no message, no error). Same errors as send(), judged on
  /// `max_size` before `fill` runs. Saves send()'s copy for a producer that
  /// can write into a buffer (the mux bridge polls smux output into it).
  std::error_code send_with(wire::PayloadType type, std::size_t max_size, PayloadFill fill, TimePoint now);
  /// Room left in the send window, in messages and bytes.
  std::size_t send_window_free_messages() const;
  std::size_t send_window_free_bytes() const;
  /// Next event, or nullopt. Consuming delivered data frees receive buffer
  /// space, which may deliver held messages (and queue their acks).
  std::optional<Event> poll_event();
  /// Hands back a byte buffer (a handled DataReceived's `bytes`) for reuse,
  /// so that steady delivery does not allocate. Optional.
  void recycle(std::vector<std::uint8_t>&& buffer) { recycle_frame(std::move(buffer)); }
  /// Receiver back-pressure: while false, in-order data is left unacked
  /// (the peer retransmits), like the official "handler not ready".
  void set_receive_ready(bool ready, TimePoint now);
  /// Answer to a KmsRequest (an error fails the handshake).
  void on_kms_result(Result<KmsResult> result, TimePoint now);
  /// Agent: send the HandshakeRequest (04 §2).
  std::error_code start_handshake(HandshakeSpec spec, TimePoint now);
  /// Agent without handshake (plain shell): mark the session running.
  void start_without_handshake();
  /// Marks the channel closed: further sends fail, frames are ignored.
  void close() { closed_ = true; }

  // ----- inspection
  bool running() const { return running_; }
  bool closed() const { return closed_; }
  bool encrypted() const { return encryption_on_; }
  std::int64_t next_outgoing_sequence() const { return next_seq_; }
  std::int64_t expected_incoming_sequence() const { return expected_; }
  std::size_t unacked_messages() const { return unacked_count_; }
  /// The oldest unacknowledged stream message, for diagnostics.
  struct UnackedInfo {
    std::int64_t sequence_number = 0;
    std::uint32_t transmissions = 0;
    bool queued = false;  ///< waiting for (re)transmission
    TimePoint last_sent{};
  };
  std::optional<UnackedInfo> oldest_unacked() const;
  std::size_t unacked_bytes() const { return unacked_bytes_; }
  /// Bytes the send window allows now (adaptive or fixed).
  std::size_t window_bytes() const {
    return config_.adaptive_window ? window_ctl_.window() : config_.send_window_bytes;
  }
  std::size_t reorder_buffer_messages() const { return reorder_.size(); }
  std::size_t reorder_buffer_bytes() const { return reorder_bytes_; }
  std::size_t queued_event_bytes() const { return event_bytes_; }
  const RttEstimator& rtt() const { return rtt_; }
  const Stats& stats() const { return stats_; }
  Role role() const { return config_.role; }
  const std::string& agent_version() const { return agent_version_; }

 private:
  struct Sent {
    std::vector<std::uint8_t> frame;
    std::size_t payload_size = 0;
    TimePoint first_sent{}, last_sent{};
    std::uint32_t transmissions = 0;
    AdaptiveWindow::Stamp stamp;  ///< delivery state at the first transmission
    bool acked = false;
    bool queued = false;  ///< waiting in out_ for (re)transmission
  };
  struct Held {
    std::vector<std::uint8_t> frame;
    bool acked = false;  ///< early messages are acked on arrival; held in-order ones are not
  };
  enum class Outcome { processed, not_ready, failed };

  std::uint64_t unix_ms(TimePoint now) const;
  Sent* find_sent(std::int64_t seq);
  const Sent* find_sent(std::int64_t seq) const;
  void queue_ack(const wire::DecodedMessage& m, TimePoint now);
  void queue_stream(std::int64_t seq);
  std::error_code send_internal(wire::PayloadType type, std::span<const std::uint8_t> payload, TimePoint now);
  void handle_ack(const wire::DecodedMessage& m, TimePoint now);
  void handle_stream(const wire::DecodedMessage& m, std::span<const std::uint8_t> frame, TimePoint now);
  void drain_held(TimePoint now);
  Outcome process(const wire::DecodedMessage& m, TimePoint now);
  Outcome process_client(const wire::DecodedMessage& m, std::span<const std::uint8_t> payload, TimePoint now);
  Outcome process_agent(const wire::DecodedMessage& m, std::span<const std::uint8_t> payload, TimePoint now);
  Outcome deliver(wire::PayloadType type, std::span<const std::uint8_t> payload);
  void client_handshake_request(std::span<const std::uint8_t> payload, TimePoint now);
  void client_send_handshake_response(TimePoint now);
  Outcome client_challenge(std::span<const std::uint8_t> payload, TimePoint now);
  void client_handshake_complete(std::span<const std::uint8_t> payload);
  void agent_handshake_response(std::span<const std::uint8_t> payload, TimePoint now);
  void agent_send_challenge(TimePoint now);
  void agent_challenge_response(std::span<const std::uint8_t> payload, TimePoint now);
  void agent_complete(TimePoint now);
  void set_keys(std::span<const std::uint8_t> data_key);
  void fail_handshake(std::string reason);
  void emit(Event e);
  void drop(std::error_code ec, std::string detail);
  void collect_expired(TimePoint now);
  bool retx_live(const std::pair<std::int64_t, TimePoint>& entry) const;
  void prune_retx();

  Config config_;
  crypto::RandomSource& rng_;
  TimePoint start_;
  RttEstimator rtt_;
  AdaptiveWindow window_ctl_;
  TokenBucket msg_bucket_, byte_bucket_;
  Stats stats_;

  // outgoing
  std::int64_t next_seq_ = 0;
  std::int64_t sent_base_ = 0;  ///< sequence number of sent_.front()
  util::RingQueue<Sent> sent_;
  std::size_t unacked_count_ = 0, unacked_bytes_ = 0;
  util::RingQueue<std::pair<std::int64_t, TimePoint>> retx_;  ///< (seq, last_sent), oldest first
  util::RingQueue<std::vector<std::uint8_t>> acks_out_;       ///< encoded acks, sent first
  util::RingQueue<std::int64_t> stream_out_;                  ///< stream messages due for (re)transmission
  std::vector<std::vector<std::uint8_t>> spare_;              ///< recycled ack buffers
  static constexpr std::size_t kSpareFrames = 64;
  /// Buffers of acknowledged stream frames, reused for new ones: no heap
  /// allocation per message in steady state. Bounded in bytes of capacity.
  std::vector<std::vector<std::uint8_t>> frame_pool_;
  std::size_t frame_pool_bytes_ = 0;
  static constexpr std::size_t kFramePoolBytes = 1024 * 1024;
  std::vector<std::uint8_t> take_frame(std::size_t size);
  void recycle_frame(std::vector<std::uint8_t>&& frame);
  std::error_code check_room(std::size_t payload_size);
  bool encrypts(wire::PayloadType type) const;
  bool newline_quirk(std::span<const std::uint8_t> payload) const;
  /// Completes `frame` (payload in place) as the next stream message and queues it.
  std::error_code queue_frame(wire::PayloadType type, std::vector<std::uint8_t> frame, TimePoint now);
  std::vector<std::uint8_t> fill_scratch_;  ///< send_with's plaintext when sealing
  std::vector<std::uint8_t> out_current_;   ///< keeps the frame returned by poll_output alive
  bool blocked_ = false;
  bool transport_up_ = true;
  bool paused_ = false;
  bool give_up_reported_ = false;

  // incoming
  std::int64_t expected_ = 0;
  std::map<std::int64_t, Held> reorder_;
  std::size_t reorder_bytes_ = 0;
  bool receive_ready_ = true;
  util::RingQueue<Event> events_;
  std::size_t event_bytes_ = 0;

  // session / handshake
  bool running_ = false;
  bool closed_ = false;
  bool handshake_seen_ = false;
  std::string agent_version_;
  SessionStarted pending_start_;
  wire::HandshakeResponse pending_response_;
  std::optional<std::size_t> pending_kms_action_;
  bool waiting_kms_ = false;
  // agent handshake
  std::optional<HandshakeSpec> agent_spec_;
  std::optional<TimePoint> handshake_deadline_;
  TimePoint handshake_started_{};
  std::vector<std::uint8_t> challenge_;
  std::string client_version_seen_;
  bool awaiting_response_ = false, awaiting_challenge_ = false;
  // encryption
  bool encryption_on_ = false;
  crypto::AesKey encrypt_key_{}, decrypt_key_{};
  std::string ack_json_;  ///< reused buffer
  TimePoint last_now_{};  ///< time of the latest call (for next_deadline)
};

}  // namespace ssmc::channel

template <>
struct std::is_error_code_enum<ssmc::channel::Errc> : std::true_type {};
