// OverlaySnapshot: everything the overlay shows, as plain data filled by the player (playback) and
// the wiring layer (swarm); and the pure functions that turn it into seek-bar regions and status
// text. No ImGui, no SDL, no threads here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace player {

// What the swarm side knows; absent (have == false) for local files.
struct SwarmSnapshot {
  bool have = false;
  int64_t download_rate = 0, upload_rate = 0;  // bytes/s
  int peers = 0, seeds = 0;
  double progress = 0;                         // of the wanted data, 0..1
  int64_t downloaded = 0, uploaded = 0;        // bytes of this run
  double ratio = -1;                           // uploaded / downloaded over the torrent's life, -1 unknown
  int64_t buffered_ahead = 0;                  // verified bytes contiguous from the read head
  // One char per piece of the played file: 'h' verified, 'r' in flight, 'c' in flight with a
  // deadline (what playback waits for), '.' missing. file_offset: where the file starts inside
  // the first of these pieces (bytes).
  std::string pieces;
  int piece_size = 0;
  int64_t file_offset = 0;
  std::string torrent_pieces;                  // the whole torrent, same letters ("" unknown)
  int64_t ring_used = -1, ring_capacity = -1;  // read-ahead memory window (bytes), -1 unknown
};

struct TrackEntry {
  int id = 0;              // 1-based within its type, as --aid/--sid count
  std::string title;       // "eng · SubRip" or a file name
  bool selected = false;
};

struct PlaylistEntry {
  std::string name;
  bool current = false;
};

struct OverlaySnapshot {
  // Playback.
  double position = 0;          // seconds
  double duration = -1;         // seconds, -1 unknown
  bool paused = false;
  bool muted = false;
  double volume = 100;          // percent
  double speed = 1;
  bool buffering = false;       // waiting for data (opening, after a seek, or a stall)
  std::string buffering_what;   // the player's view: "opening", "seeking", "stalled"
  double buffered_until = -1;   // seconds: how far the demuxer has read ahead
  // Bytes.
  int64_t file_size = -1;
  int64_t read_head = -1;       // byte the demuxer reads (or waits for) now
  double byte_rate = 0;         // media bytes per second of playback
  // Media (stats panel).
  std::string title;
  std::string video_codec, audio_codec;
  int width = 0, height = 0;
  double fps = 0;
  int64_t frames_dropped = 0;
  double av_drift = 0;          // seconds, latest |video - audio|
  int video_packets = 0, video_packets_max = 0, audio_packets = 0, audio_packets_max = 0;
  int video_frames = 0, video_frames_max = 0;
  // Tracks, subtitles, files.
  std::vector<TrackEntry> audio_tracks, sub_tracks;
  bool sub_visible = true;
  double sub_delay = 0;
  std::vector<PlaylistEntry> playlist;
  // Panels (toggled by keys; the overlay closes them with commands).
  bool show_stats = false, show_help = false, show_files = false;
  std::string osd_message;      // short feedback ("Speed 1.10x"), shown while non-empty
  SwarmSnapshot swarm;
};

// The seek bar has two lanes: the time lane (played and buffered, in playback time) over the data
// lane (verified, in flight and missing pieces, in bytes of the file). Regions are fractions of
// the bar, [begin, end), each lane covered without gaps or overlaps in left-to-right order.
enum class Lane { Time, Data };
enum class RegionKind { Played, Buffered, Ahead, Verified, InFlight, Critical, Missing, Local };
struct SeekbarRegion {
  Lane lane;
  RegionKind kind;
  double begin, end;
};
std::vector<SeekbarRegion> seekbar_regions(const OverlaySnapshot& s);
// The read head as a fraction of the bar (byte position / file size), or -1 when unknown.
double seekbar_read_head(const OverlaySnapshot& s);
// Maps a horizontal position on the seek bar to a time.
double seekbar_time_at(double x, double bar_x, double bar_w, double duration);

// "1:02:03" / "2:03".
std::string format_time(double seconds);
// "1.2 MB", "830 kB", "12 B"; rates add "/s".
std::string format_bytes(double bytes);
std::string format_rate(double bytes_per_second);
// Seconds of media buffered ahead of the position: the demuxer's read-ahead plus the verified
// bytes past the read head at the media's byte rate.
double seconds_ahead(const OverlaySnapshot& s);
// What buffering waits for, from the pieces around the read head: "waiting for 3 pieces, 1.2 MB"
// (or the player's reason when the swarm cannot tell).
std::string buffering_text(const OverlaySnapshot& s);
// "1:02 / 24:00" and the swarm part "↓ 1.2 MB/s  ↑ 80 kB/s  12 peers (5 seeds / 7 leechers)
// 43%  ratio 0.12" (ASCII arrows when `unicode` is false).
std::string time_text(const OverlaySnapshot& s);
std::string swarm_text(const OverlaySnapshot& s, bool unicode);

}  // namespace player
