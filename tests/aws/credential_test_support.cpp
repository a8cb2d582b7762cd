#include "aws/credential_test_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace ssmc::aws::test {

namespace fs = std::filesystem;

namespace {

Result<std::string> read_path(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error_code(std::errc::no_such_file_or_directory);
  if (fs::is_directory(path, ec)) return make_error_code(std::errc::is_a_directory);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error_code(std::errc::permission_denied);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Result<std::string> MapFiles::read_file(const std::string& path) {
  reads.push_back(path);
  if (const auto e = errors.find(path); e != errors.end()) return e->second;
  const auto it = files.find(path);
  if (it == files.end()) return make_error_code(std::errc::no_such_file_or_directory);
  return it->second;
}

Result<std::string> DirFiles::read_file(const std::string& path) {
  if (path.empty() || path.front() != '/') return make_error_code(std::errc::no_such_file_or_directory);
  return read_path(root_ + path);
}

Result<std::string> RealFiles::read_file(const std::string& path) { return read_path(path); }

ResolverAction World::run(CredentialResolver& resolver, int max_steps) {
  for (int i = 0; i < max_steps; ++i) {
    ResolverAction action = resolver.next_action();
    if (std::holds_alternative<Done>(action) || std::holds_alternative<Failed>(action)) return action;
    if (auto* h = std::get_if<HttpAction>(&action)) {
      requests.push_back(*h);
      HttpReply reply;
      if (http)
        reply = http(*h);
      else
        reply.error = make_error_code(std::errc::connection_refused);
      if (reply.error)
        resolver.on_http_error(reply.error);
      else
        resolver.on_http_response(reply.status, reply.headers, reply.body);
    } else if (auto* p = std::get_if<RunProcessAction>(&action)) {
      processes.push_back(*p);
      ProcessReply reply;
      if (process)
        reply = process(*p);
      else
        reply.spawn_error = make_error_code(std::errc::no_such_file_or_directory);
      if (reply.spawn_error)
        resolver.on_process_error(reply.spawn_error);
      else
        resolver.on_process_result(reply.exit_code, reply.out, reply.err);
    } else if (auto* m = std::get_if<PromptMfaAction>(&action)) {
      prompts.push_back(*m);
      std::optional<std::string> code = mfa ? mfa(*m) : std::nullopt;
      if (code)
        resolver.on_mfa_code(*code);
      else
        resolver.on_mfa_unavailable();
    } else if (auto* w = std::get_if<WriteCacheAction>(&action)) {
      writes.push_back(*w);
    }
  }
  ADD_FAILURE() << "resolver did not finish in " << max_steps << " steps";
  return Failed{make_error_code(std::errc::timed_out), "test: too many steps"};
}

ProcessReply run_real_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ProcessReply reply;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    reply.spawn_error = std::error_code(errno, std::generic_category());
    return reply;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.empty() ? environ : envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    reply.spawn_error = std::error_code(rc, std::generic_category());
    return reply;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&reply.out, &reply.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  reply.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return reply;
}

std::string read_file_or_empty(const std::string& path) {
  auto r = read_path(path);
  return r ? *r : std::string();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::chrono::system_clock::time_point at(std::string_view iso) {
  auto t = parse_iso8601(iso);
  EXPECT_TRUE(t) << "bad time literal " << iso;
  return t ? *t : std::chrono::system_clock::time_point{};
}

std::chrono::system_clock::time_point from_unix(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

std::int64_t to_unix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::map<std::string, std::string> form_fields(std::string_view body) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else if (s[i] == '+') {
        out += ' ';
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto piece = body.substr(0, amp);
    const auto eq = piece.find('=');
    out[decode(piece.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(piece.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

std::string header(const Headers& headers, std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string o(s);
    for (char& c : o)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return o;
  };
  for (const auto& h : headers)
    if (lower(h.name) == lower(name)) return h.value;
  return {};
}

SharedConfig shared_config(std::string_view config_text, std::string_view credentials_text) {
  auto config = parse_config_file(config_text, FileKind::config);
  EXPECT_TRUE(config) << (config ? "" : config.error().message);
  auto credentials = parse_config_file(credentials_text, FileKind::credentials);
  EXPECT_TRUE(credentials) << (credentials ? "" : credentials.error().message);
  return make_shared_config(config ? *config : ParsedFile{}, credentials ? *credentials : ParsedFile{},
                            ConfigFilePaths{"/home/u/.aws/config", "/home/u/.aws/credentials"});
}

TempDir::TempDir() {
  std::string templ = (fs::temp_directory_path() / "ssmc-cred-XXXXXX").string();
  char* made = mkdtemp(templ.data());
  if (!made) throw std::runtime_error("mkdtemp failed");
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& relative, std::string_view contents, bool executable) const {
  const fs::path full = fs::path(path_) / relative;
  fs::create_directories(full.parent_path());
  {
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  if (executable) fs::permissions(full, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  return full.string();
}

}  // namespace ssmc::aws::test
