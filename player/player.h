// Player: the facade that opens a ByteSource, runs demux/decode threads and the outputs, and
// drives playback from the main thread (sync, seeks, keys, overlay, subtitles, tracks, files of a
// playlist, stats events). It knows nothing of torrents: swarm details and the opening of other
// files reach it only through the hooks below, filled by the wiring layer.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "player/commands.h"
#include "player/events.h"
#include "player/overlay_model.h"
#include "player/watch_later.h"
#include "streaming/byte_source.h"

namespace player {

// A subtitle file to show next to the media's own tracks.
struct ExternalSub {
  std::string name;  // for the track list (a file name)
  std::string path;  // read from here when `data` is empty
  std::string data;  // the file's bytes (a file fetched from a torrent)
};

struct PlayerOptions {
  double start = 0;                 // seconds, or percent with start_is_percent
  bool start_is_percent = false;
  std::vector<std::pair<double, double>> seek_at;  // (at, target) seconds; at 0 = after 1st frame
  std::vector<std::pair<double, std::string>> keys_at;  // (at, key name): act as if pressed
  int64_t frames = -1;              // quit after this many shown frames
  double length = -1;               // quit after this much playback (s)
  bool video_window = true;         // false: null video output
  bool audio_device = true;         // false: null audio output
  bool no_sync = false;             // present as fast as decoded; null audio not paced
  // Before the first picture (and sound) of a file, wait until this many seconds of media past
  // it are demuxed, or the end of the file, or full queues: a stream that arrives barely faster
  // than it plays then starts with a little margin instead of stalling in its first seconds
  // (mpv's cache-pause-initial). 0: start at once.
  double cache_initial = 0;
  bool exact_seeks = true;          // false: seeks show the keyframe before the target (--hr-seek=no)
  std::string title;                // window title
  std::string frame_hash_file;      // write per-frame checksums (tests)
  double decode_slow_fraction = 0.5;  // see VideoDecoder::set_slow_fraction (tests lower it)
  std::vector<std::pair<double, std::string>> screenshots;  // (time, BMP path)
  bool quiet = false;               // no warnings on stderr
  double speed = 1.0;
  int aid = 0;                      // audio track (1-based); 0 auto, -1 none
  int sid = 0;                      // subtitle track (1-based, embedded then external); 0 auto, -1 none
  std::vector<ExternalSub> subs;    // external subtitles of the first file
  // Asked of the source before the container is opened (the resume position's bytes).
  int64_t prefetch_pos = -1, prefetch_len = 0;
  std::vector<std::string> playlist;  // names of the files the user can move between
  int playlist_pos = 0;               // the first file's entry
  // Tests: sees the decoded audio (float, interleaved) on the audio decoder's thread.
  std::function<void(const float* samples, size_t frames, int channels, int rate)> audio_tap;
};

// What the wiring layer hands over when the user moves to another playlist entry.
struct NextFile {
  std::unique_ptr<streaming::ByteSource> source;
  std::string title;
  double start = 0;                 // seconds (a remembered position), 0 = from the beginning
  int64_t prefetch_pos = -1, prefetch_len = 0;
  std::vector<ExternalSub> subs;
};

// Thread contract: run() on the main thread (SDL needs it), and the hooks are called there;
// request_quit(), post(), properties() and stats() from any thread.
class Player {
 public:
  Player(streaming::ByteSource* source, PlayerOptions opts, EventSink* events);
  ~Player();

  // Opens and plays until the end, a limit, or quit. Returns 0, or 1 with *error set to one
  // line when the input could not be played.
  int run(std::string* error);

  void request_quit();

  // Any thread: queue a command for the main loop (taken within ~10 ms, even mid-seek).
  using Command = player::Command;
  void post(Command c);
  // Any thread: a subtitle file for playlist entry `playlist_pos` that arrived late (fetched
  // from the torrent while playing). Ignored if another entry plays by then. Chosen when the
  // user has not picked a subtitle track and --sid is auto.
  void add_subtitle(int playlist_pos, ExternalSub sub);

  // Filled by the wiring layer each time the overlay is drawn (the swarm part of the snapshot).
  std::function<void(OverlaySnapshot&)> decorate;
  // Called on the main thread about 4 times a second with the playback position (seconds).
  std::function<void(double position, bool buffering)> on_tick;

  // Called when playback of a file ends for any reason, after its pipeline stopped.
  struct Leave {
    int playlist_pos = 0;
    LeaveReason reason = LeaveReason::Quit;
    double position = 0, duration = -1;
    int64_t byte_pos = -1;  // keyframe to read from to resume at `position`, -1 unknown
  };
  std::function<void(const Leave&)> on_leave;
  // Opens playlist entry `index` (the previous file's source is no longer read). False + *error
  // when it cannot; the player then goes back to the entry it left.
  std::function<bool(int index, NextFile* out, std::string* error)> open_entry;

  struct Stats {
    int64_t frames_shown = 0;
    int64_t frames_dropped = 0;
    double av_drift_max = 0;  // largest |video - audio| at presentation after sync settled
    int video_threads = 0;    // decoding threads when the last frame was shown
  };
  Stats stats() const;

  // A consistent copy of the playback state (names follow mpv's properties), for IPC.
  struct Track {
    std::string type;   // "audio" | "sub"
    int id = 0;         // 1-based within its type
    std::string title, lang, codec;
    bool external = false, selected = false, default_track = false;
  };
  struct Properties {
    double time_pos = 0, duration = -1, percent_pos = 0;
    bool pause = false, mute = false, seeking = false, buffering = false;
    bool eof_reached = false, fullscreen = false, idle = true;
    double volume = 100, speed = 1, sub_delay = 0;
    bool sub_visibility = true;
    int aid = 0, sid = 0;  // 0: none
    std::vector<Track> tracks;
    std::string filename;
    int playlist_pos = 0, playlist_count = 0;
    std::vector<std::string> sub_text;  // the subtitle lines shown now
  };
  Properties properties() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace player
