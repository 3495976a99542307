// Config file: `$XDG_CONFIG_HOME/cine/cine.conf` (else ~/.config/cine/cine.conf), mpv-like
// `key=value` lines with the CLI's option names. Turns them into `--key=value` arguments that go
// before the command line's own, so the command line wins. Does not know what options mean.
#pragma once

#include <string>
#include <vector>

namespace cine {

// The config file's path ("" when neither XDG_CONFIG_HOME nor HOME is set).
std::string config_path();

// Reads path. A missing file is fine (no arguments). False + *error ("FILE:LINE: why") for an
// unreadable file or a malformed line. Accepted lines: `# comment`, blank, `key`, `key=value`,
// `key=yes|no` (for flags: `dht=no` becomes --no-dht, `seed=yes` becomes --seed).
bool load_config(const std::string& path, std::vector<std::string>* args, std::string* error);

}  // namespace cine
