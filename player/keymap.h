// Keymap: mpv's default key bindings for what Cine supports — key names in, commands out — and
// the naming of SDL key events. Pure functions; it does not read events or run commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "player/commands.h"

namespace player {

// The command bound to a key name as mpv spells it: "SPACE", "LEFT", "Shift+RIGHT", "ESC",
// "ENTER", "BS", "F8", "WHEEL_UP", or a printed character such as "q", "Q", "#", "[", "<".
// nullopt for unbound keys.
std::optional<Command> command_for_key(const std::string& name);

// Name of a non-printing key (SDL keycode + modifier state): "LEFT", "Shift+UP", "SPACE", "F8".
// Empty for keys that print a character: those arrive as text input (layout-aware) and are
// named by the character itself, except with Ctrl or Alt held ("Ctrl+x").
std::string key_name(int32_t sdl_keycode, uint16_t sdl_mods);

// The key list shown by `?` and printed by --help: (keys, what they do).
const std::vector<std::pair<const char*, const char*>>& key_help();

}  // namespace player
