// cine: a streaming torrent player. Entry point: parse the command line, run the command.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "src/app.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/logging.h"
#include "src/serve.h"
#include "src/torrent_commands.h"

int main(int argc, char** argv) {
  cine::Options opts;
  std::string error;
  // The config file's options go right after the command, so the command line overrides them.
  std::vector<std::string> args(argv, argv + argc);
  bool use_config = argc > 1 && argv[1][0] != '-';
  for (int i = 1; i < argc; ++i) use_config &= std::string(argv[i]) != "--no-config";
  if (use_config) {
    std::vector<std::string> conf;
    if (!cine::load_config(cine::config_path(), &conf, &error)) {
      cine::print_error(error);
      return 2;
    }
    args.insert(args.begin() + 2, conf.begin(), conf.end());
  }
  args.erase(std::remove(args.begin(), args.end(), std::string("--no-config")), args.end());
  std::vector<char*> argv2;
  for (auto& a : args) argv2.push_back(a.data());
  if (!cine::parse_cli(static_cast<int>(argv2.size()), argv2.data(), &opts, &error)) {
    cine::print_error(error);
    return 2;
  }
  if (opts.help) {
    std::fputs(cine::usage_text().c_str(), stdout);
    return 0;
  }
  if (!cine::setup_logging(opts.verbose, opts.log_file, &error)) {
    cine::print_error(error);
    return 2;
  }
  cine::install_signal_handlers();
  if (opts.command == "play") return cine::run_play(opts);
  if (opts.command == "demo") return cine::run_demo(opts);
  if (opts.command == "info") return cine::run_info(opts);
  if (opts.command == "create") return cine::run_create(opts);
  if (opts.command == "seed") return cine::run_seed(opts);
  if (opts.command == "serve") return cine::run_serve(opts);
  cine::print_error("'" + opts.command + "' is not available yet");
  return 2;
}
