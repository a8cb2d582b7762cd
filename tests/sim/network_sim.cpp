#include "sim/network_sim.hpp"

#include <algorithm>
#include <cstring>

namespace ssmc::sim {
namespace {

using channel::DataChannel;
using wire::PayloadType;

struct InFlight {
  TimePoint at;
  std::uint64_t order;
  int to;  // 0 = client, 1 = agent
  std::uint64_t epoch;
  std::vector<std::uint8_t> frame;
  bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : order > o.order; }
};

std::vector<std::uint8_t> make_data(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> v(n);
  std::mt19937_64 g(seed);
  for (auto& b : v) b = static_cast<std::uint8_t>(g());
  return v;
}

class Runner {
public:
  explicit Runner(const SimConfig& c)
      : cfg_(c),
        gen_(c.seed),
        client_rng_(c.seed * 2 + 1),
        agent_rng_(c.seed * 2 + 2),
        client_(with_role(c.client, channel::Role::client), client_rng_, TimePoint{}),
        agent_(with_role(c.agent, channel::Role::agent), agent_rng_, TimePoint{}),
        client_src_(make_data(c.client_bytes, c.seed ^ 0x1111)),
        agent_src_(make_data(c.agent_bytes, c.seed ^ 0x2222)) {}

  SimResult run() {
    start();
    std::uint64_t idle_iterations = 0;
    TimePoint last_t = now_;
    while (true) {
      settle();
      if (!result_.failure.empty()) break;
      if (client_got_ == agent_src_.size() && agent_got_ == client_src_.size() && client_.unacked_messages() == 0 &&
          agent_.unacked_messages() == 0) {
        result_.completed = true;
        result_.data_intact = true;
        break;
      }
      auto next = next_time();
      if (!next) {
        result_.failure = "deadlock: nothing scheduled";
        break;
      }
      if (*next - TimePoint{} > cfg_.time_limit) {
        result_.failure = "virtual time limit reached";
        break;
      }
      now_ = std::max(now_, *next);
      if (now_ == last_t) {
        if (++idle_iterations > 100000) {
          result_.failure = "spin: time does not advance";
          break;
        }
      } else {
        idle_iterations = 0;
        last_t = now_;
      }
      advance();
    }
    result_.elapsed = now_ - TimePoint{};
    result_.client_rto = client_.rtt().rto();
    result_.agent_rto = agent_.rtt().rto();
    result_.client_stats = client_.stats();
    result_.agent_stats = agent_.stats();
    return result_;
  }

private:
  static channel::Config with_role(channel::Config c, channel::Role r) {
    c.role = r;
    return c;
  }

  void start() {
    const Duration first = cfg_.link.first_drop.count() > 0 ? cfg_.link.first_drop : cfg_.link.drop_every;
    if (first.count() > 0) next_drop_ = TimePoint{} + first;
    switch (cfg_.start) {
      case StartMode::no_handshake:
        agent_.start_without_handshake();
        agent_running_ = true;
        break;
      case StartMode::port_handshake:
      case StartMode::kms_handshake: {
        channel::HandshakeSpec spec;
        if (cfg_.start == StartMode::port_handshake) {
          spec.session_type = std::string(wire::kSessionPort);
          spec.properties = boost::json::object{{"portNumber", "22"}, {"type", "LocalPortForwarding"}};
        } else {
          spec.kms_key_id = "alias/sim";
        }
        agent_.start_handshake(spec, now_);
        break;
      }
    }
  }

  // Repeats pumping, flushing and event handling until nothing changes.
  void settle() {
    for (int round = 0; round < 1000; ++round) {
      bool progress = false;
      progress |= pump(agent_, agent_running_, agent_src_, agent_sent_);
      progress |= pump(client_, client_running_, client_src_, client_sent_);
      progress |= flush(client_, 1);
      progress |= flush(agent_, 0);
      progress |= events(client_, true);
      progress |= events(agent_, false);
      check_bounds();
      if (!progress || !result_.failure.empty()) return;
    }
  }

  bool pump(DataChannel& e, bool running, const std::vector<std::uint8_t>& src, std::size_t& sent) {
    if (!running) return false;
    bool progress = false;
    while (sent < src.size()) {
      const std::size_t n = std::min(cfg_.chunk, src.size() - sent);
      if (e.send(PayloadType::output, std::span(src).subspan(sent, n), now_)) break;
      sent += n;
      progress = true;
    }
    return progress;
  }

  bool flush(DataChannel& e, int to) {
    bool progress = false;
    while (auto f = e.poll_output(now_)) {
      progress = true;
      transmit(to, *f);
    }
    return progress;
  }

  void transmit(int to, std::span<const std::uint8_t> frame) {
    const auto& L = cfg_.link;
    if (!transport_up_) return;
    if (L.loss > 0 && uniform() < L.loss) {
      ++result_.frames_lost;
      return;
    }
    TimePoint depart = std::max(now_, busy_until_[to]);
    if (L.bandwidth > 0)
      depart += std::chrono::duration_cast<Duration>(
          std::chrono::duration<double>(static_cast<double>(frame.size()) / L.bandwidth));
    busy_until_[to] = depart;
    Duration extra = L.jitter.count() > 0 ? Duration(static_cast<std::int64_t>(uniform() * static_cast<double>(L.jitter.count()))) : 0ns;
    if (L.reorder > 0 && uniform() < L.reorder) extra += L.delay * 2 + 5ms;
    schedule(InFlight{depart + L.delay + extra, order_++, to, epoch_, {frame.begin(), frame.end()}});
    if (L.duplicate > 0 && uniform() < L.duplicate) {
      ++result_.frames_duplicated;
      schedule(InFlight{depart + L.delay + extra + 1ms, order_++, to, epoch_, {frame.begin(), frame.end()}});
    }
  }

  void schedule(InFlight f) { queue_.push(std::move(f)); }

  bool events(DataChannel& e, bool is_client) {
    bool progress = false;
    while (auto ev = e.poll_event()) {
      progress = true;
      if (auto* d = std::get_if<channel::DataReceived>(&*ev)) {
        if (d->type != PayloadType::output) continue;
        auto& got = is_client ? client_got_ : agent_got_;
        const auto& src = is_client ? agent_src_ : client_src_;
        if (got + d->bytes.size() > src.size() ||
            std::memcmp(src.data() + got, d->bytes.data(), d->bytes.size()) != 0) {
          result_.failure = std::string(is_client ? "client" : "agent") + " received wrong bytes at offset " +
                            std::to_string(got);
          return progress;
        }
        got += d->bytes.size();
      } else if (auto* k = std::get_if<channel::KmsRequest>(&*ev)) {
        e.on_kms_result(fake_kms(*k, cfg_.seed), now_);
      } else if (auto* s = std::get_if<channel::SessionStarted>(&*ev)) {
        client_running_ = true;
        if (cfg_.start == StartMode::kms_handshake && !s->encrypted) result_.failure = "KMS session not encrypted";
      } else if (std::get_if<channel::HandshakeCompleted>(&*ev)) {
        agent_running_ = true;
      } else if (auto* f = std::get_if<channel::HandshakeFailed>(&*ev)) {
        result_.failure = std::string(is_client ? "client" : "agent") + " handshake failed: " + f->reason;
      } else if (std::get_if<channel::ResendTimeout>(&*ev)) {
        result_.failure = "resend timeout";
      }
    }
    return progress;
  }

  void check_bounds() {
    result_.max_client_unacked = std::max(result_.max_client_unacked, client_.unacked_messages());
    result_.max_agent_unacked = std::max(result_.max_agent_unacked, agent_.unacked_messages());
    result_.max_client_unacked_bytes = std::max(result_.max_client_unacked_bytes, client_.unacked_bytes());
    result_.max_agent_unacked_bytes = std::max(result_.max_agent_unacked_bytes, agent_.unacked_bytes());
    result_.max_client_reorder = std::max(result_.max_client_reorder, client_.reorder_buffer_messages());
    result_.max_agent_reorder = std::max(result_.max_agent_reorder, agent_.reorder_buffer_messages());
    auto ok = [](const DataChannel& e, const channel::Config& c) {
      return e.unacked_messages() <= c.send_window_messages &&
             e.unacked_bytes() <= c.send_window_bytes + c.max_payload &&
             e.reorder_buffer_messages() <= c.reorder_messages + 1 &&
             e.reorder_buffer_bytes() <= c.reorder_bytes + wire::encoded_size(c.max_payload);
    };
    if (!ok(client_, cfg_.client) || !ok(agent_, cfg_.agent)) {
      result_.bounded = false;
      result_.failure = "memory bound exceeded";
    }
  }

  std::optional<TimePoint> next_time() const {
    std::optional<TimePoint> t;
    auto consider = [&](std::optional<TimePoint> x) {
      if (x) t = t ? std::min(*t, *x) : *x;
    };
    if (!queue_.empty()) consider(queue_.top().at);
    consider(client_.next_deadline());
    consider(agent_.next_deadline());
    consider(next_drop_);
    consider(restore_at_);
    return t;
  }

  void advance() {
    if (next_drop_ && *next_drop_ <= now_) {
      ++result_.transport_drops;
      ++epoch_;
      transport_up_ = false;
      client_.on_transport_lost();
      agent_.on_transport_lost();
      restore_at_ = now_ + cfg_.link.outage;
      next_drop_ = cfg_.link.drop_every.count() > 0 ? std::optional(now_ + cfg_.link.drop_every) : std::nullopt;
    }
    if (restore_at_ && *restore_at_ <= now_) {
      restore_at_.reset();
      transport_up_ = true;
      result_.last_restore = now_ - TimePoint{};
      busy_until_[0] = busy_until_[1] = now_;
      client_.on_transport_ready(now_);
      agent_.on_transport_ready(now_);
    }
    while (!queue_.empty() && queue_.top().at <= now_) {
      InFlight f = queue_.top();
      queue_.pop();
      if (f.epoch != epoch_ || !transport_up_) continue;  // died with its WebSocket
      (f.to == 0 ? client_ : agent_).on_frame(f.frame, now_);
    }
    for (DataChannel* e : {&client_, &agent_})
      if (auto d = e->next_deadline(); d && *d <= now_) e->on_timer(now_);
  }

  double uniform() { return std::uniform_real_distribution<double>(0, 1)(gen_); }

  SimConfig cfg_;
  std::mt19937_64 gen_;
  crypto::DeterministicRandom client_rng_, agent_rng_;
  DataChannel client_, agent_;
  std::vector<std::uint8_t> client_src_, agent_src_;
  std::size_t client_sent_ = 0, agent_sent_ = 0, client_got_ = 0, agent_got_ = 0;
  bool client_running_ = false, agent_running_ = false;
  TimePoint now_{};
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  std::uint64_t order_ = 0, epoch_ = 0;
  TimePoint busy_until_[2]{};
  bool transport_up_ = true;
  std::optional<TimePoint> next_drop_, restore_at_;
  SimResult result_;
};

}  // namespace

std::vector<LinkProfile> standard_profiles() {
  return {
      {.name = "perfect"},
      {.name = "wan-lossy", .delay = 50ms, .jitter = 10ms, .loss = 0.05},
      {.name = "dup-reorder", .delay = 20ms, .jitter = 20ms, .duplicate = 0.05, .reorder = 0.1},
      {.name = "slow-link", .delay = 30ms, .bandwidth = 2e6, .loss = 0.01},
      {.name = "flaky-ws", .delay = 10ms, .jitter = 5ms, .loss = 0.02, .duplicate = 0.01, .reorder = 0.02,
       .drop_every = 700ms, .outage = 120ms},
  };
}

channel::KmsResult fake_kms(const channel::KmsRequest& request, std::uint64_t seed) {
  constexpr std::uint8_t kMask = 0x5a;
  channel::KmsResult r;
  if (request.op == channel::KmsRequest::Op::generate_data_key) {
    std::mt19937_64 g(seed ^ 0xabcdef);
    r.plaintext.resize(channel::kDataKeySize);
    for (auto& b : r.plaintext) b = static_cast<std::uint8_t>(g());
    r.ciphertext_blob = r.plaintext;
    for (auto& b : r.ciphertext_blob) b ^= kMask;
  } else {
    r.plaintext = request.ciphertext;
    for (auto& b : r.plaintext) b ^= kMask;
  }
  return r;
}

SimResult run_session(const SimConfig& config) { return Runner(config).run(); }

}  // namespace ssmc::sim
