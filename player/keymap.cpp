#include "player/keymap.h"

#include <SDL2/SDL_keyboard.h>
#include <SDL2/SDL_keycode.h>

#include <map>

namespace player {

namespace {

using K = Command::Kind;

const std::map<std::string, Command>& bindings() {
  static const std::map<std::string, Command> b = {
      {"SPACE", {K::TogglePause, 0}},
      {"p", {K::TogglePause, 0}},
      {"LEFT", {K::SeekRelative, -5}},
      {"RIGHT", {K::SeekRelative, 5}},
      {"UP", {K::SeekRelative, 60}},
      {"DOWN", {K::SeekRelative, -60}},
      {"Shift+LEFT", {K::SeekRelative, -1}},
      {"Shift+RIGHT", {K::SeekRelative, 1}},
      {"Shift+UP", {K::SeekRelative, 5}},
      {"Shift+DOWN", {K::SeekRelative, -5}},
      {"WHEEL_UP", {K::VolumeAdd, 2}},
      {"WHEEL_DOWN", {K::VolumeAdd, -2}},
      {"WHEEL_LEFT", {K::SeekRelative, -10}},
      {"WHEEL_RIGHT", {K::SeekRelative, 10}},
      {"MBTN_BACK", {K::PlaylistPrev, 0}},
      {"MBTN_FORWARD", {K::PlaylistNext, 0}},
      {"[", {K::SpeedMultiply, 1 / 1.1}},
      {"]", {K::SpeedMultiply, 1.1}},
      {"{", {K::SpeedMultiply, 0.5}},
      {"}", {K::SpeedMultiply, 2.0}},
      {"BS", {K::SetSpeed, 1.0}},
      {".", {K::FrameStep, 0}},
      {",", {K::FrameBackStep, 0}},
      {"f", {K::ToggleFullscreen, 0}},
      {"ESC", {K::ExitFullscreen, 0}},
      {"m", {K::ToggleMute, 0}},
      {"9", {K::VolumeAdd, -2}},
      {"/", {K::VolumeAdd, -2}},
      {"0", {K::VolumeAdd, 2}},
      {"*", {K::VolumeAdd, 2}},
      {"j", {K::CycleSub, 1}},
      {"J", {K::CycleSub, -1}},
      {"#", {K::CycleAudio, 1}},
      {"v", {K::ToggleSubVisibility, 0}},
      {"z", {K::SubDelayAdd, -0.1}},
      {"Z", {K::SubDelayAdd, 0.1}},
      {"x", {K::SubDelayAdd, 0.1}},
      {"i", {K::ToggleStats, 0}},
      {"?", {K::ToggleHelp, 0}},
      {"F8", {K::ToggleFilePicker, 0}},
      {"q", {K::Quit, 0}},
      {"Q", {K::QuitWatchLater, 0}},
      {"<", {K::PlaylistPrev, 0}},
      {">", {K::PlaylistNext, 0}},
      {"ENTER", {K::PlaylistNext, 0}},
  };
  return b;
}

}  // namespace

std::optional<Command> command_for_key(const std::string& name) {
  auto it = bindings().find(name);
  if (it == bindings().end()) return std::nullopt;
  return it->second;
}

std::string key_name(int32_t sym, uint16_t mods) {
  std::string base;
  switch (sym) {
    case SDLK_LEFT: base = "LEFT"; break;
    case SDLK_RIGHT: base = "RIGHT"; break;
    case SDLK_UP: base = "UP"; break;
    case SDLK_DOWN: base = "DOWN"; break;
    case SDLK_SPACE: base = "SPACE"; break;
    case SDLK_ESCAPE: base = "ESC"; break;
    case SDLK_RETURN:
    case SDLK_KP_ENTER: base = "ENTER"; break;
    case SDLK_BACKSPACE: base = "BS"; break;
    case SDLK_TAB: base = "TAB"; break;
    case SDLK_HOME: base = "HOME"; break;
    case SDLK_END: base = "END"; break;
    case SDLK_PAGEUP: base = "PGUP"; break;
    case SDLK_PAGEDOWN: base = "PGDWN"; break;
    default:
      if (sym >= SDLK_F1 && sym <= SDLK_F12) {
        base = "F" + std::to_string(sym - SDLK_F1 + 1);
      } else if (sym > 32 && sym < 127 && (mods & (KMOD_CTRL | KMOD_ALT))) {
        // No text input arrives with Ctrl/Alt held: name the key itself.
        base = std::string(1, static_cast<char>(sym));
      } else {
        return {};  // printing keys come as text input
      }
  }
  std::string prefix;
  if (mods & KMOD_CTRL) prefix += "Ctrl+";
  if (mods & KMOD_ALT) prefix += "Alt+";
  if (mods & KMOD_SHIFT) prefix += "Shift+";
  return prefix + base;
}

const std::vector<std::pair<const char*, const char*>>& key_help() {
  static const std::vector<std::pair<const char*, const char*>> h = {
      {"space, p", "pause / play"},
      {"left, right", "seek 5 s back / forward"},
      {"up, down", "seek 60 s forward / back"},
      {"shift + arrows", "exact 1 s / 5 s steps"},
      {"[  ]   {  }   backspace", "speed -10% / +10%, half / double, reset"},
      {".  ,", "next frame / previous frame"},
      {"f, double-click", "fullscreen   (esc leaves it)"},
      {"m   9  0   wheel", "mute   volume down / up"},
      {"j  J   v", "next / previous subtitles, hide subtitles"},
      {"z  Z", "subtitle delay -100 ms / +100 ms"},
      {"#", "next audio track"},
      {"<  >   F8", "previous / next file, list of files"},
      {"i   ?", "stats panel, this list"},
      {"q   Q", "quit, quit and remember the position"},
  };
  return h;
}

}  // namespace player
