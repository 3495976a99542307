// Torrent tools for the CLI: make a .torrent from a file or folder, describe a .torrent or a
// magnet for `cine info`. Synchronous and sessionless (fetching a magnet's metadata from peers
// is the caller's job, with a Session); errors are one line.
#pragma once

#include <string>
#include <vector>

#include "streaming/magnet.h"
#include "streaming/session.h"

namespace streaming {

// Hashes the file or folder at path (hidden entries inside a folder, such as .cine, are left
// out) into a v1 torrent written to out_file. piece_size 0 lets libtorrent choose; otherwise a
// power of two from 16 KiB to 64 MiB. web_seeds go into the url-list (BEP 19: for a single
// file the URL of the file itself, for a folder the URL the folder's name is appended to). On
// success *made (if given) describes the new torrent.
bool make_torrent(const std::string& path, const std::string& out_file,
                  const std::vector<std::string>& trackers, int piece_size, std::string* error,
                  Metadata* made = nullptr, const std::vector<std::string>& web_seeds = {});

// Multi-line, human-readable: name, info-hash, size, piece size and count, files with their
// indices (what --file takes), trackers.
std::string format_metadata(const Metadata& m);
// What a magnet link holds without its metadata: info-hashes, name, trackers, peers.
std::string format_magnet(const MagnetInfo& m);

// describe() = format_metadata() of a .torrent file, or format_magnet() of a magnet link.
bool describe(const std::string& source, std::string* text, std::string* error);

}  // namespace streaming
