// The client's session modes (05, 06): interactive terminal, command
// execution, stdio stream (SSH ProxyCommand) and port forwarding.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "session/client_session.hpp"

namespace ssmc::session {

struct TerminalOptions {
  bool plugin_mode = false;   ///< stdin EOF ends the client as the official one does (05 §2.3)
  bool escapes = true;        ///< ~. ~? ~~ (05 §2.8)
};
std::unique_ptr<Mode> make_terminal_mode(TerminalOptions options);

struct CommandOptions {
  /// Marker of a wrapped command (see wrap_command); empty = the document
  /// separates streams itself (StdErr / ExitCode payloads, 05 §4).
  std::string marker;
  /// Where remote output goes: stream 1 (stdout) or 2 (stderr). Empty: fds 1 and 2.
  std::function<void(int stream, std::span<const std::uint8_t> bytes)> write;
  /// Told the remote exit status once known (nullopt: none was reported).
  std::function<void(std::optional<int>)> on_exit_code;
};
std::unique_ptr<Mode> make_command_mode(CommandOptions options);
/// Wraps a POSIX shell command so that its stdout, stderr and exit status come
/// back unambiguously through the stock AWS-StartNonInteractiveCommand
/// document, which mixes both streams and sends no exit code (05 §4).
std::string wrap_command(const std::string& command, const std::string& marker);
/// Quotes argv for a POSIX shell.
std::string shell_join(const std::vector<std::string>& argv);

/// stdin/stdout to the session (SSH ProxyCommand, 06 §2); same in both CLIs.
std::unique_ptr<Mode> make_stdio_mode();

/// One -L forward: where to listen locally.
struct ListenSpec {
  std::string bind = "127.0.0.1";  ///< address, or a path when unix
  std::uint16_t port = 0;
  bool unix_socket = false;
};
struct PortOptions {
  ListenSpec listen;
  bool plugin_mode = false;
  /// Print one JSON line to stdout once listening.
  bool ready_line = false;
  std::string label;  ///< "-L" text, for messages
};
std::unique_ptr<Mode> make_port_mode(PortOptions options);

}  // namespace ssmc::session
