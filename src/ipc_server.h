// IpcServer: a Unix socket speaking a subset of mpv's JSON IPC (`--input-ipc-server=PATH`), so
// mpv scripts and remotes can drive Cine. It translates requests into player commands and
// property reads through hooks; it never touches the pipeline itself.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "player/commands.h"
#include "player/player.h"

namespace cine {

class IpcServer {
 public:
  struct Hooks {
    std::function<player::Player::Properties()> properties;  // any thread
    std::function<void(const player::Command&)> post;        // any thread
    std::function<void(const std::string&)> loadfile;        // replace the current file
  };

  // Listens on path (an existing socket file there is replaced; any other file is an error).
  // nullptr + *error on failure.
  static std::unique_ptr<IpcServer> start(const std::string& path, std::string* error);
  ~IpcServer();

  // Points the server at the current player (null while none is playing).
  void set_hooks(Hooks hooks);

  // Handles one request (a JSON text) and returns the reply object, without the socket.
  // Exposed for tests; observe_property needs a client id.
  nlohmann::json handle(const std::string& request, int client);

 private:
  IpcServer() = default;
  void run();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cine
