// Helpers for the credential chain tests: file readers (map, fixture
// directory, real file system), a scripted "world" that answers the
// resolver's actions, a real fork/exec runner for RunProcessAction, and
// small JSON / time helpers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "aws/credential_chain.hpp"

namespace ssmc::aws::test {

/// Files from a map (path -> contents); other paths are "not found", or the
/// error put in `errors`. Records every path read.
class MapFiles final : public FileReader {
 public:
  std::map<std::string, std::string> files;
  std::map<std::string, std::error_code> errors;
  std::vector<std::string> reads;
  Result<std::string> read_file(const std::string& path) override;
};

/// Absolute paths mapped under `root` (a scenario's fs/ directory).
class DirFiles final : public FileReader {
 public:
  explicit DirFiles(std::string root) : root_(std::move(root)) {}
  Result<std::string> read_file(const std::string& path) override;

 private:
  std::string root_;
};

/// The real file system.
class RealFiles final : public FileReader {
 public:
  Result<std::string> read_file(const std::string& path) override;
};

struct HttpReply {
  int status = 200;
  Headers headers;
  std::string body;
  /// Set: no answer (on_http_error).
  std::error_code error;
};

struct ProcessReply {
  int exit_code = 0;
  std::string out;
  std::string err;
  std::error_code spawn_error;
};

/// Answers the resolver's actions with the callbacks (missing callbacks:
/// HTTP → connection refused, process → ENOENT, MFA → unavailable) and
/// records them.
struct World {
  std::function<HttpReply(const HttpAction&)> http;
  std::function<ProcessReply(const RunProcessAction&)> process;
  std::function<std::optional<std::string>(const PromptMfaAction&)> mfa;

  std::vector<HttpAction> requests;
  std::vector<RunProcessAction> processes;
  std::vector<PromptMfaAction> prompts;
  std::vector<WriteCacheAction> writes;

  /// Steps `resolver` to Done or Failed (fails the test after `max_steps`).
  ResolverAction run(CredentialResolver& resolver, int max_steps = 500);
};

/// Runs argv without a shell (posix_spawnp), capturing stdout/stderr. `env`
/// entries are "NAME=value"; empty = inherit.
ProcessReply run_real_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

std::string read_file_or_empty(const std::string& path);
bool file_exists(const std::string& path);

/// ISO-8601 → time point (the test fails on a bad literal).
std::chrono::system_clock::time_point at(std::string_view iso);
std::chrono::system_clock::time_point from_unix(std::int64_t seconds);
std::int64_t to_unix(std::chrono::system_clock::time_point t);

/// Form fields of an x-www-form-urlencoded body, decoded.
std::map<std::string, std::string> form_fields(std::string_view body);

/// Header value by case-insensitive name ("" when absent).
std::string header(const Headers& headers, std::string_view name);

/// A SharedConfig from file texts (the test fails on a parse error).
SharedConfig shared_config(std::string_view config_text, std::string_view credentials_text = {});

/// A temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// Writes `contents` to path()/relative (directories created); returns the full path.
  std::string write(const std::string& relative, std::string_view contents, bool executable = false) const;

 private:
  std::string path_;
};

}  // namespace ssmc::aws::test
