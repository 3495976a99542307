// Command: what a user (keys, the overlay, another thread such as IPC) asks the player to do,
// as plain data. It says nothing about how a command is carried out; the player's loop does that.
#pragma once

namespace player {

struct Command {
  enum class Kind {
    SeekAbsolute,         // value: seconds
    SeekRelative,         // value: seconds (exact: lands on the first frame at or after)
    SetPause,             // value: 0 or 1
    TogglePause,
    Quit,
    QuitWatchLater,       // quit and remember the position for the next `cine play`
    FrameStep,            // pause and show the next frame
    FrameBackStep,        // pause and show the previous frame
    SpeedMultiply,        // value: factor
    SetSpeed,             // value: playback speed, 1 = normal
    ToggleFullscreen,
    ExitFullscreen,
    ToggleMute,
    SetMute,              // value: 0 or 1
    VolumeAdd,            // value: percent points (volume is 0..130)
    SetVolume,            // value: percent
    CycleAudio,           // value: +1 or -1
    CycleSub,             // value: +1 or -1 (passes through "no subtitles")
    SetAudioTrack,        // value: audio track id (1-based)
    SetSubTrack,          // value: subtitle track id (1-based), 0 = none
    ToggleSubVisibility,
    SubDelayAdd,          // value: seconds
    ToggleStats,          // the stats panel
    ToggleHelp,           // the list of keys
    ToggleFilePicker,     // the list of files (multi-file torrents)
    PlaylistNext,
    PlaylistPrev,
    PlaylistSelect,       // value: playlist index (0-based)
    SeekPercent,          // value: 0..100
  } kind = Kind::TogglePause;
  double value = 0;
};

}  // namespace player
