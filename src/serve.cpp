#include "src/serve.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "src/app.h"
#include "streaming/session.h"

namespace cine {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string extension(const std::string& name) {
  auto dot = name.find_last_of('.');
  return dot == std::string::npos ? "" : lower(name.substr(dot + 1));
}

std::string content_type(const std::string& name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {"mkv", "video/x-matroska"}, {"mp4", "video/mp4"},        {"m4v", "video/mp4"},
      {"webm", "video/webm"},      {"avi", "video/x-msvideo"},  {"mov", "video/quicktime"},
      {"ts", "video/mp2t"},        {"m2ts", "video/mp2t"},      {"mpg", "video/mpeg"},
      {"mpeg", "video/mpeg"},      {"ogv", "video/ogg"},        {"flv", "video/x-flv"},
      {"wmv", "video/x-ms-wmv"},   {"mp3", "audio/mpeg"},       {"flac", "audio/flac"},
      {"m4a", "audio/mp4"},        {"ogg", "audio/ogg"},        {"opus", "audio/ogg"},
      {"srt", "application/x-subrip"}, {"vtt", "text/vtt"},     {"ass", "text/x-ssa"},
  };
  const std::string ext = extension(name);
  for (const auto& [e, t] : kTypes)
    if (ext == e) return t;
  return "application/octet-stream";
}

bool is_video(const std::string& name) {
  const std::string t = content_type(name);
  return t.rfind("video/", 0) == 0;
}

std::string url_encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string base_name(const std::string& p) { return p.substr(p.find_last_of('/') + 1); }

}  // namespace

int run_serve(const Options& o) {
  std::string error;
  streaming::SessionConfig cfg = session_config(o);
  cfg.save_path = o.save_path.empty() ? default_save_path() : o.save_path;
  cfg.plan_before_add = true;
  cfg.posix_disk_io = true;
  if (!make_dirs(cfg.save_path, &error)) {
    print_error(error);
    return 1;
  }
  auto session = streaming::Session::create(cfg, &error);
  if (!session || !session->add(o.source, &error)) {
    print_error(error);
    return 1;
  }
  if (!session->wait_metadata([] { return quit_requested(); }, &error)) {
    if (quit_requested()) return 130;
    print_error(error);
    return 1;
  }
  const streaming::Metadata md = session->metadata();
  streaming::FileEntry chosen;
  if (!session->select_file(o.file, &chosen, &error)) {
    print_error(error);
    return 1;
  }

  std::mutex mu;  // the session's file choice and stream: one reader at a time
  int current_file = chosen.index;
  const std::string bind = o.bind.empty() ? "127.0.0.1" : o.bind;

  httplib::Server srv;
  srv.set_keep_alive_max_count(100);
  // DNS rebinding: only answer requests addressed to us by a loopback name or the bind address.
  srv.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    std::string host = lower(req.get_header_value("Host"));
    auto colon = host.rfind(':');
    if (colon != std::string::npos && host.find(']') != std::string::npos && colon < host.find(']'))
      colon = std::string::npos;
    std::string name = colon == std::string::npos ? host : host.substr(0, colon);
    bool ok = name == "127.0.0.1" || name == "localhost" || name == "[::1]" || name == bind ||
              (bind == "0.0.0.0" && !name.empty());
    if (!ok) {
      res.status = 403;
      res.set_content("forbidden host\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto file_url = [&](const streaming::FileEntry& f) {
    return "/stream/" + md.info_hash + "/" + std::to_string(f.index) + "/" + url_encode(base_name(f.path));
  };

  srv.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    json files = json::array();
    for (const auto& f : md.files)
      files.push_back({{"index", f.index}, {"name", f.path}, {"size", f.size}, {"url", file_url(f)}});
    json j = {{"name", md.name}, {"info_hash", md.info_hash}, {"files", files},
              {"playlist", "/playlist.m3u"}, {"status", "/status"}};
    res.set_content(j.dump(2), "application/json");
  });

  srv.Get("/playlist.m3u", [&](const httplib::Request& req, httplib::Response& res) {
    std::string host = req.get_header_value("Host");
    std::string body = "#EXTM3U\n";
    std::vector<streaming::FileEntry> videos;
    for (const auto& f : md.files)
      if (is_video(f.path)) videos.push_back(f);
    std::sort(videos.begin(), videos.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    for (const auto& f : videos)
      body += "#EXTINF:-1," + base_name(f.path) + "\nhttp://" + host + file_url(f) + "\n";
    res.set_content(body, "audio/x-mpegurl");
  });

  srv.Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    streaming::SwarmStats st = session->stats();
    json j = {{"name", md.name},           {"info_hash", md.info_hash},
              {"downloaded", st.downloaded}, {"uploaded", st.uploaded},
              {"download_rate", st.download_rate}, {"upload_rate", st.upload_rate},
              {"peers", st.peers},         {"seeds", st.seeds},
              {"pieces_have", st.pieces_have}, {"pieces", st.num_pieces},
              {"progress", st.progress},   {"buffered_ahead", st.buffered_ahead},
              {"file", current_file}};
    res.set_content(j.dump(2), "application/json");
  });

  auto stream_handler = [&](const httplib::Request& req, httplib::Response& res) {
    const std::string hash = req.matches[1];
    int index = -1;
    try {
      index = std::stoi(std::string(req.matches[2]));
    } catch (...) {
    }
    if (lower(hash) != md.info_hash || index < 0 || index >= static_cast<int>(md.files.size())) {
      res.status = 404;
      res.set_content("no such file\n", "text/plain");
      return;
    }
    const streaming::FileEntry f = md.files[static_cast<size_t>(index)];
    res.set_header("Accept-Ranges", "bytes");
    if (req.method == "HEAD" || f.size == 0) {
      // httplib answers HEAD from the content provider's length without reading.
      res.set_content_provider(static_cast<size_t>(f.size), content_type(f.path),
                               [](size_t, size_t, httplib::DataSink&) { return false; });
      return;
    }
    std::shared_ptr<streaming::ByteSource> stream;
    {
      std::lock_guard<std::mutex> lk(mu);
      streaming::FileEntry e;
      if (index != current_file) {
        if (!session->select_file(std::to_string(index), &e, &error)) {
          res.status = 500;
          return;
        }
        current_file = index;
      }
      stream = session->open_stream();  // the newest request's reader leads the picker
    }
    if (!stream) {
      res.status = 503;
      return;
    }
    res.set_content_provider(
        static_cast<size_t>(f.size), content_type(f.path),
        [stream](size_t offset, size_t length, httplib::DataSink& sink) {
          if (static_cast<int64_t>(offset) != stream->position() &&
              !stream->seek(static_cast<int64_t>(offset)))
            return false;
          std::vector<uint8_t> buf(std::min<size_t>(length, 256 * 1024));
          int64_t n = stream->read(buf.data(), buf.size());
          if (n <= 0) return false;
          return sink.write(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
        });
  };
  srv.Get(R"(/stream/([0-9a-fA-F]+)/(\d+)(?:/.*)?)", stream_handler);

  int port = o.port;
  if (port == 0) {
    port = srv.bind_to_any_port(bind);
  } else if (!srv.bind_to_port(bind, port)) {
    port = -1;
  }
  if (port <= 0) {
    print_error("cannot listen on " + bind + ":" + std::to_string(o.port));
    return 1;
  }
  std::printf("serving %s on http://%s:%d%s\n", md.name.c_str(), bind == "0.0.0.0" ? "127.0.0.1" : bind.c_str(),
              port, file_url(chosen).c_str());
  std::printf("playlist: http://%s:%d/playlist.m3u\n", bind == "0.0.0.0" ? "127.0.0.1" : bind.c_str(), port);
  std::fflush(stdout);
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    while (!quit_requested() && !done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    srv.stop();
  });
  srv.listen_after_bind();
  done = true;
  stopper.join();
  session->save_resume();
  return 0;
}

}  // namespace cine
