#include "emulator/agent.hpp"

#include <openssl/rand.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "util/log.hpp"
#include "wire/agent_message.hpp"
#include "wire/payloads.hpp"
#include "wire/uuid.hpp"

namespace ssmc::emulator {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// How often the service timers (idle, max duration, drop-every) are checked.
constexpr std::chrono::milliseconds kServiceTick{100};

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}
}  // namespace

// ------------------------------------------------------------------ KMS

std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>> KmsStore::generate(
    const std::vector<std::pair<std::string, std::string>>& context) {
  std::vector<std::uint8_t> blob(48), plain(channel::kDataKeySize);
  RAND_bytes(blob.data(), static_cast<int>(blob.size()));
  RAND_bytes(plain.data(), static_cast<int>(plain.size()));
  auto sorted = context;
  std::sort(sorted.begin(), sorted.end());
  keys_[blob] = Key{plain, sorted};
  return {blob, plain};
}

std::optional<std::vector<std::uint8_t>> KmsStore::decrypt(
    const std::vector<std::uint8_t>& blob, const std::vector<std::pair<std::string, std::string>>& context) {
  auto it = keys_.find(blob);
  if (it == keys_.end()) return std::nullopt;
  auto sorted = context;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != it->second.context) return std::nullopt;
  return it->second.plaintext;
}

// ------------------------------------------------------------------ faults

FaultFilter::FaultFilter(const FaultConfig& config) : config_(config), rng_(config.seed) {}

bool FaultFilter::chance(double p) {
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

void FaultFilter::apply(std::span<const std::uint8_t> frame, std::optional<std::vector<std::uint8_t>>& held,
                        std::vector<std::vector<std::uint8_t>>& out) {
  if (chance(config_.loss)) return;
  std::vector<std::uint8_t> f(frame.begin(), frame.end());
  if (chance(config_.corrupt) && f.size() > wire::kPayloadOffset) f[wire::kPayloadOffset - 20] ^= 0x5a;  // digest byte
  const bool dup = chance(config_.duplicate);
  if (!held && chance(config_.reorder)) {
    held = std::move(f);
    return;
  }
  out.push_back(f);
  if (dup) out.push_back(f);
  if (held) {
    out.push_back(std::move(*held));
    held.reset();
  }
}

channel::Duration FaultFilter::delay(bool) {
  channel::Duration d = config_.delay;
  if (config_.jitter.count() > 0)
    d += channel::Duration(std::uniform_int_distribution<std::int64_t>(
        0, std::chrono::duration_cast<channel::Duration>(config_.jitter).count())(rng_));
  return d;
}

void FaultFilter::outgoing(std::span<const std::uint8_t> frame, channel::TimePoint now,
                           std::vector<std::vector<std::uint8_t>>& out) {
  if (agent_down(now)) return;
  apply(frame, held_out_, out);
  // Counted as they are handed to the WebSocket, so even a burst faster than any timer is cut at N.
  if (config_.drop_client_after > 0 && ++leg_frames_ == config_.drop_client_after && drop_client) drop_client();
}

void FaultFilter::incoming(std::span<const std::uint8_t> frame, channel::TimePoint now,
                           std::vector<std::vector<std::uint8_t>>& out) {
  if (agent_down(now)) return;
  apply(frame, held_in_, out);
}

// ------------------------------------------------------------------ session

AgentSession::AgentSession(asio::any_io_executor ex, SessionSpec spec, const Config& config, KmsStore& kms,
                           std::function<void(const std::string&)> on_end)
    : ex_(ex),
      spec_(std::move(spec)),
      config_(config),
      kms_(kms),
      on_end_(std::move(on_end)),
      chunk_(config.payload_size > 0    ? config.payload_size
             : config.profile == "fast" ? kFastChunk
                                        : kFaithfulChunk),
      attach_wait_(ex),
      service_timer_(ex) {
  const auto& f = config.faults;
  if (f.loss > 0 || f.duplicate > 0 || f.reorder > 0 || f.corrupt > 0 || f.drop_agent_every.count() > 0 ||
      f.drop_client_after > 0 || f.delay.count() > 0 || f.jitter.count() > 0)
    faults_ = std::make_unique<FaultFilter>(f);
  session::RunnerOptions options;
  auto& e = options.engine;
  e.role = channel::Role::agent;
  e.send_window_messages = channel::kAgentBufferCapacity;
  e.reorder_messages = channel::kAgentBufferCapacity;
  e.honor_pause = true;
  e.newline_quirk = false;
  e.session_id = spec_.session_id;
  e.target_id = spec_.target_id;
  e.unix_ms_at_start = unix_ms_now();
  e.give_up_after = std::chrono::hours(24);  // the agent never gives up (08 §4.3)
  if (config.profile != "fast") e.max_messages_per_second = kFaithfulMessagesPerSecond;
  // fast: no real-agent counterpart, so the emulator keeps its own queue short
  // like ssmc does (faithful keeps the real agent's 100,000-message buffer).
  e.adaptive_window = config.profile == "fast";
  if (faults_ && f.drop_client_after > 0) {
    // Cut the leg after the frame that reached the count has gone out (posted: not from inside the filter).
    faults_->drop_client = [this] {
      asio::post(ex_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || !self->client_connected_ || self->ending_) return;
        if (self->recorder_) self->recorder_->event("debug_drop", "client");
        self->runner_->drop_transport();
      });
    };
  }
  session::FrameFilter* filter = faults_.get();
  if (!config.record_dir.empty()) {
    recorder_ = std::make_unique<Recorder>(config.record_dir + "/" + spec_.session_id + ".jsonl", spec_.session_id,
                                           faults_.get());
    if (recorder_->ok()) {
      filter = recorder_.get();
    } else {
      log::warn("emulator: cannot write a transcript in {}; recording off for {}", config.record_dir, spec_.session_id);
    }
  }
  runner_ =
      std::make_unique<session::ChannelRunner>(ex, std::move(options), crypto::system_random(), *this, *this, filter);
}

AgentSession::~AgentSession() {
  if (plugin_) plugin_->stop();
}

void AgentSession::begin() {
  started_at_ = last_input_ = std::chrono::steady_clock::now();
  if (recorder_) {
    recorder_->event("start_session", "document=" + spec_.document_name + " target=" + spec_.target_id +
                                          " agentVersion=" + spec_.agent_version);
  }
  const bool handshake = spec_.session_type == wire::kSessionPort ||
                         spec_.session_type == wire::kSessionNonInteractiveCommands || !spec_.kms_key_id.empty();
  if (handshake) {
    channel::HandshakeSpec hs;
    hs.agent_version = spec_.agent_version;
    hs.session_type = spec_.session_type;
    hs.properties = spec_.session_type == wire::kSessionPort ? spec_.properties : boost::json::value();
    if (!spec_.kms_key_id.empty()) hs.kms_key_id = spec_.kms_key_id;
    runner_->engine().start_handshake(std::move(hs), channel::Clock::now());
  } else {
    runner_->engine().start_without_handshake();
    start_plugin();
  }
  auto self = shared_from_this();
  asio::co_spawn(ex_, run(), asio::detached);
}

asio::awaitable<void> AgentSession::run() {
  auto self = shared_from_this();
  // Service timers: idle timeout, maximum duration, scheduled drops and pauses.
  asio::co_spawn(
      ex_,
      [self]() -> asio::awaitable<void> {
        auto next_drop = std::chrono::steady_clock::now() + self->config_.faults.drop_client_every;
        auto next_pause = std::chrono::steady_clock::now() + self->config_.faults.pause_every;
        auto next_agent_drop = std::chrono::steady_clock::now() + self->config_.faults.drop_agent_every;
        auto next_stall = std::chrono::steady_clock::now() + self->config_.faults.stall_consumer_every;
        bool paused = false;
        while (!self->finished_) {
          self->service_timer_.expires_after(kServiceTick);
          co_await self->service_timer_.async_wait(use_tuple);
          if (self->finished_ || self->ending_) break;
          const auto now = std::chrono::steady_clock::now();
          const auto& f = self->config_.faults;
          if (f.max_duration.count() > 0 && now - self->started_at_ >= f.max_duration) {
            self->terminate("Session reached the maximum session duration (ssmc-emulator)");
            break;
          }
          if (f.idle_timeout.count() > 0 && now - self->last_input_ >= f.idle_timeout) {
            self->terminate("Session timed out after being idle (ssmc-emulator)");
            break;
          }
          if (f.drop_client_every.count() > 0 && now >= next_drop) {
            next_drop = now + f.drop_client_every;
            if (self->client_connected_) {
              if (self->recorder_) self->recorder_->event("debug_drop", "client");
              self->runner_->drop_transport();
            }
          }
          if (f.drop_agent_every.count() > 0 && now >= next_agent_drop && self->faults_) {
            next_agent_drop = now + f.drop_agent_every + f.agent_outage;
            self->faults_->agent_outage_until(now + f.agent_outage);
            if (self->recorder_) self->recorder_->event("debug_drop", "agent");
            log::debug("emulator: session {}: agent leg down for {} ms", self->spec_.session_id,
                       std::chrono::duration_cast<std::chrono::milliseconds>(f.agent_outage).count());
          }
          if (f.stall_consumer_every.count() > 0 && now >= next_stall) {
            self->consumer_stalled_ = !self->consumer_stalled_;
            next_stall = now + (self->consumer_stalled_ ? f.stall_consumer_for : f.stall_consumer_every);
            if (self->recorder_) self->recorder_->event("debug_stall", self->consumer_stalled_ ? "start" : "end");
            log::info("emulator: session {}: consumer {}", self->spec_.session_id,
                      self->consumer_stalled_ ? "stalled" : "consuming again");
            self->apply_receive_ready();
          }
          if (f.pause_every.count() > 0 && now >= next_pause) {
            // MGS-generated pause/start publication to the agent (08 §3.5).
            paused = !paused;
            // Publication runs for the period, then pauses for a quarter of it.
            next_pause = now + (paused ? f.pause_every / 4 : f.pause_every);
            wire::MessageHeader h;
            h.type = paused ? wire::MessageType::pause_publication : wire::MessageType::start_publication;
            h.created_date = unix_ms_now();
            h.flags = wire::kFlagsAck;
            h.message_id = wire::Uuid::random_v4(crypto::system_random());
            auto frame = wire::encode(h, {});
            self->runner_->engine().on_frame(frame, channel::Clock::now());
            self->runner_->pump();
          }
        }
      },
      asio::detached);
  auto ec = co_await runner_->run();
  finished_ = true;
  service_timer_.cancel();
  attach_wait_.cancel();
  if (plugin_) plugin_->stop();
  log::info("emulator: session {} ended{}{}", spec_.session_id, ec ? ": " : "", ec ? ec.message() : "");
  if (on_end_) on_end_(spec_.session_id);
}

void AgentSession::start_plugin() {
  if (plugin_started_) return;
  plugin_started_ = true;
  if (spec_.session_type == wire::kSessionPort) {
    plugin_ = make_port_plugin(*this);
  } else if (spec_.session_type == wire::kSessionNonInteractiveCommands) {
    plugin_ = make_command_plugin(*this);
  } else {
    plugin_ = make_shell_plugin(*this);
  }
  plugin_->start();
}

void AgentSession::attach(std::unique_ptr<net::WebSocket> ws, std::string_view open_data_channel) {
  if (finished_) {
    ws->abort();
    return;
  }
  if (pending_) pending_->abort();
  pending_ = std::move(ws);
  if (recorder_) {
    recorder_->event("websocket_opened", "client leg");
    recorder_->client_text(open_data_channel);
  }
  if (client_connected_) runner_->drop_transport();  // a new leg replaces the old one
  attach_wait_.cancel();
}

asio::awaitable<Result<std::unique_ptr<net::WebSocket>>> AgentSession::next(unsigned) {
  const auto give_up = std::chrono::steady_clock::now() + config_.resume_grace;
  // While ending (draining) a client may still come back for what is unacknowledged.
  while (!pending_ && !closed_sent_ && !finished_) {
    if (std::chrono::steady_clock::now() >= give_up) co_return make_error_code(net::Errc::connect_timeout);
    attach_wait_.expires_at(give_up);
    co_await attach_wait_.async_wait(use_tuple);
  }
  if (!pending_) co_return make_error_code(net::Errc::closed);
  client_connected_ = true;
  if (faults_) faults_->new_leg();  // --drop-client-after counts per leg
  co_return std::move(pending_);
}

void AgentSession::on_transport_lost(std::error_code error) {
  client_connected_ = false;
  if (recorder_) recorder_->event("websocket_closed", "client leg: " + error.message());
  log::debug("emulator: session {}: client leg lost ({})", spec_.session_id, error.message());
}

std::error_code AgentSession::send(wire::PayloadType type, std::span<const std::uint8_t> payload) {
  if (ending_) return make_error_code(channel::Errc::closed);
  return runner_->send(type, payload);
}

std::error_code AgentSession::send_with(wire::PayloadType type, std::size_t max_size, channel::PayloadFill fill) {
  if (ending_) return make_error_code(channel::Errc::closed);
  return runner_->send_with(type, max_size, fill);
}

void AgentSession::set_receive_ready(bool ready) {
  plugin_ready_ = ready;
  apply_receive_ready();
}

void AgentSession::apply_receive_ready() {
  runner_->engine().set_receive_ready(plugin_ready_ && !consumer_stalled_, channel::Clock::now());
  runner_->pump();
}

void AgentSession::touch_idle() { last_input_ = std::chrono::steady_clock::now(); }

void AgentSession::on_event(channel::Event& event) {
  if (auto* data = std::get_if<channel::DataReceived>(&event)) {
    if (data->type == wire::PayloadType::output) touch_idle();
    if (data->type == wire::PayloadType::flag) {
      auto flag = wire::parse_flag(data->bytes);
      if (flag && *flag == wire::FlagValue::terminate_session) {
        terminate("");
        return;
      }
    }
    if (plugin_) plugin_->on_input(data->type, data->bytes);
  } else if (std::get_if<channel::HandshakeCompleted>(&event)) {
    start_plugin();
  } else if (auto* failed = std::get_if<channel::HandshakeFailed>(&event)) {
    terminate("Handshake failed: " + failed->reason);
  } else if (std::get_if<channel::Writable>(&event)) {
    if (plugin_) plugin_->on_writable();
  }
}

asio::awaitable<Result<channel::KmsResult>> AgentSession::kms(const channel::KmsRequest& request) {
  auto plain = kms_.decrypt(request.ciphertext, request.encryption_context);
  if (!plain) co_return make_error_code(std::errc::permission_denied);
  co_return channel::KmsResult{*plain, {}};
}

void AgentSession::plugin_done(const std::string& reason) {
  if (ending_) return;
  asio::co_spawn(ex_, finish(reason), asio::detached);
}

void AgentSession::terminate(const std::string& reason) {
  if (ending_) return;
  ending_ = true;
  if (plugin_) plugin_->stop();
  asio::co_spawn(ex_, finish(reason), asio::detached);
}

asio::awaitable<void> AgentSession::finish(std::string reason) {
  auto self = shared_from_this();
  ending_ = true;
  // Drain: wait until the client acknowledged everything, at most 2 s (08 §4.6).
  // Only time with a client leg attached counts: while the client is away
  // (dropped, resuming) the gateway holds the session for ResumeSession, so
  // what the agent sent last still reaches a client that comes back within
  // the resume grace. (Whether the real gateway buffers for an absent client
  // is UNVERIFIED, 08 §3.5; without this a drop in the last 2 s of a command
  // would lose its output.)
  constexpr auto kDrainPoll = std::chrono::milliseconds(20);
  auto drained = std::chrono::steady_clock::duration::zero();
  const auto give_up = std::chrono::steady_clock::now() + config_.resume_grace;
  asio::steady_timer t(ex_);
  while (runner_->engine().unacked_messages() > 0 && drained < kAgentDrainTimeout &&
         std::chrono::steady_clock::now() < give_up && !finished_) {
    t.expires_after(kDrainPoll);
    co_await t.async_wait(use_tuple);
    if (client_connected_) drained += kDrainPoll;
  }
  if (finished_) co_return;
  if (const auto left = runner_->engine().unacked_messages(); left > 0) {
    const auto& st = runner_->engine().stats();
    const auto oldest = runner_->engine().oldest_unacked();
    const auto ago = oldest ? std::chrono::duration_cast<std::chrono::milliseconds>(channel::Clock::now() -
                                                                                     oldest->last_sent)
                            : std::chrono::milliseconds(0);
    log::info(
        "emulator: session {}: drain gave up with {} message(s) unacknowledged ({} sent, {} resent, {} acks in); "
        "oldest: #{}, sent {} time(s), last {} ms ago{}",
        spec_.session_id, left, st.stream_messages_sent, st.retransmissions, st.acks_received,
        oldest ? oldest->sequence_number : -1, oldest ? oldest->transmissions : 0, ago.count(),
        oldest && oldest->queued ? ", queued" : "");
  }
  wire::ChannelClosed closed;
  closed.message_id = wire::Uuid::random_v4(crypto::system_random()).to_string();
  closed.created_date = std::to_string(unix_ms_now());
  closed.destination_id = spec_.session_id;
  closed.session_id = spec_.session_id;
  closed.output = reason;
  const std::string payload = wire::to_json(closed);
  wire::MessageHeader h;
  h.type = wire::MessageType::channel_closed;
  h.created_date = unix_ms_now();
  h.flags = wire::kFlagsAck;
  h.message_id = wire::Uuid::random_v4(crypto::system_random());
  auto frame = wire::encode(h, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
  if (config_.faults.short_channel_closed && frame.size() >= wire::kPayloadOffset) {
    // HL 112, no PayloadType field, NUL padding (02 §9.5).
    constexpr std::size_t kShortHeader = 112;
    std::vector<std::uint8_t> shortf(frame.begin(), frame.begin() + kShortHeader);
    shortf[3] = kShortHeader;
    for (std::size_t i = 4; i < 4 + wire::kMessageTypeSize; ++i) {
      if (shortf[i] == ' ') shortf[i] = 0;
    }
    shortf.insert(shortf.end(), frame.begin() + wire::kHeaderLength, frame.end());  // PayloadLength + payload
    frame = std::move(shortf);
  }
  closed_sent_ = true;
  attach_wait_.cancel();
  if (recorder_) {
    recorder_->gateway_frame(frame);
    recorder_->event("terminate", reason.empty() ? "session ended" : reason);
  }
  runner_->inject(std::move(frame));
  runner_->stop(std::chrono::milliseconds(500));
}

}  // namespace ssmc::emulator
