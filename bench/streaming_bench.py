#!/usr/bin/env python3
"""Streaming benchmark (issue 7): Cine vs peerflix vs webtorrent-cli vs a plain libtorrent
download, on a loopback swarm of 3 upload-limited `cine seed` processes and opentracker.

Everything runs inside a network namespace of its own that has only a loopback interface
(`unshare -n`, entered by this script), with an nftables rule that drops and counts any packet
to an address outside 127.0.0.0/8 / ::1: nothing can leave the machine, whatever a client tries
(webtorrent-cli has no switch for DHT, LSD, UPnP or NAT-PMP).

Metrics (median of --runs):
  * time to first frame (TTFF), seek latency to 70 % during playback, cold start at 70 %,
    MB received at first frame: Cine, peerflix, webtorrent-cli (the latter two through their
    HTTP servers with `ffmpeg -frames:v 1` as the player), each as a ratio to the better of
    peerflix/webtorrent and to the physical floor (bytes of the pieces FFmpeg touches / swarm rate)
  * stalls and stalled seconds over 60 s of real-time Cine playback at swarm rates of k x bitrate
  * time to download the whole file while streaming (Cine) vs a plain libtorrent download
  * Cine's CPU time and peak RSS during those 60 s vs `ffmpeg -f null` decoding of the same 60 s

Requires (bench/setup.sh installs them): ffmpeg, strace, opentracker, nftables, iproute2,
python3-libtorrent (Debian), bench/node_modules (npm ci in bench/), a built cine.

Usage: bench/streaming_bench.py [--quick] [--runs N] [--clip-seconds S] [--clients LIST] ...
       (--help for all options). Writes bench/results/streaming.json and streaming.md.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TRACKER_PORT = 6969
SEEDER_PORTS = (7001, 7002, 7003)
LEECHER_PORT = 7100              # BitTorrent listen port of the client under test
PEERFLIX_HTTP, WEBTORRENT_HTTP = 8888, 8000
NFT_TABLE = "cinebench"
LT_PYTHON = "/usr/bin/python3"   # Debian's python with python3-libtorrent

CONTAINERS = {
    # name: (extension, description)
    "mkv": ("mkv", "1080p H.264/AAC MKV"),
    "mp4-faststart": ("mp4", "1080p H.264/AAC MP4, moov first"),
    "mp4-moov-end": ("mp4", "1080p H.264/AAC MP4, moov at end"),
    "webm": ("webm", "720p VP9/Opus WebM"),
}
NO_NET = ["--no-dht", "--no-lsd", "--no-upnp", "--no-natpmp"]

# Where the swarm (tracker, seeders) and the client under test live. By default both on this
# namespace's loopback; with --wan the swarm moves to a second private namespace behind a link
# with delay and loss (setup_wan), and these are changed to the link's two ends.
SWARM_HOST = LEECH_HOST = "127.0.0.1"
SWARM_NS = []                    # argv prefix that runs a swarm process in the swarm's namespace
WAN_NET, WAN_SWARM, WAN_LEECH = "10.77.0.0/30", "10.77.0.1", "10.77.0.2"
WAN_DEVS = ("cinewan0", "cinewan1")  # the client's end, the swarm's end


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def run(argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------------------------
# Isolation: a network namespace with only loopback, and an nftables guard + byte counters.

def net_links():
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return [l.split(":")[1].strip().split("@")[0] for l in out.splitlines() if ":" in l]


def in_isolated_netns():
    return net_links() == ["lo"]


def enter_netns():
    if os.environ.get("CINE_BENCH_NETNS") == "1":
        if not in_isolated_netns():
            sys.exit("expected a namespace with only loopback, found: " + " ".join(net_links()))
        run(["ip", "link", "set", "lo", "up"])
        return
    env = dict(os.environ, CINE_BENCH_NETNS="1")
    argv = ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    os.execvpe("unshare", argv, env)


def nft(*args, capture=False):
    return subprocess.run(["nft"] + list(args), check=True, capture_output=capture, text=True).stdout


def setup_nft(wan=False):
    """The egress guard, and the counter of what the seeders sent: on loopback their packets
    leave through this namespace's output hook; over the --wan link they come in on its device."""
    seeders = ", ".join(str(p) for p in SEEDER_PORTS)
    wan_net = f", {WAN_NET}" if wan else ""
    rules = f"""
table inet {NFT_TABLE} {{
  counter egress_blocked {{ }}
  counter swarm {{ }}
  chain out {{
    type filter hook output priority 0; policy accept;
    meta nfproto ipv4 ip daddr != {{ 127.0.0.0/8{wan_net} }} counter name egress_blocked drop
    meta nfproto ipv6 ip6 daddr != ::1 counter name egress_blocked drop
    meta l4proto {{ tcp, udp }} th sport {{ {seeders} }} counter name swarm
    meta l4proto {{ tcp, udp }} th sport != {{ {seeders} }} th dport {LEECHER_PORT} counter name swarm
  }}
  chain in {{
    type filter hook input priority 0; policy accept;
    iifname "{WAN_DEVS[0]}" meta l4proto {{ tcp, udp }} th sport {{ {seeders} }} counter name swarm
    iifname "{WAN_DEVS[0]}" meta l4proto {{ tcp, udp }} th sport != {{ {seeders} }} th dport {LEECHER_PORT} counter name swarm
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)


def setup_wan(a):
    """--wan RTT_MS,LOSS_PCT: the swarm (tracker and seeders) goes into a second private network
    namespace, joined to this one by bench/wan_link.py, a user-space link that delays every
    packet by half the RTT each way and drops LOSS_PCT % of them in each direction (this kernel
    has no netem). Neither namespace has any other interface or route."""
    global SWARM_HOST, LEECH_HOST, SWARM_NS
    rtt, loss = a.wan
    link = Proc([sys.executable, os.path.join(HERE, "wan_link.py"), WAN_DEVS[0], WAN_DEVS[1],
                 str(rtt), str(loss)], os.path.join(a.logdir, "wan_link.log"))
    holder = Proc(["unshare", "--net", "--", "sleep", "infinity"], os.path.join(a.logdir, "wan_ns.log"))
    end = time.monotonic() + 10
    mine = os.readlink("/proc/self/ns/net")
    while True:
        with open(link.log.name, "rb") as f:
            ready = b"ready" in f.read()
        try:
            separate = os.readlink(f"/proc/{holder.p.pid}/ns/net") != mine
        except OSError:
            separate = False
        if ready and separate:
            break
        if time.monotonic() > end or not link.alive() or not holder.alive():
            sys.exit(f"the --wan link did not come up: see {link.log.name}")
        time.sleep(0.02)
    ns = ["nsenter", f"--net=/proc/{holder.p.pid}/ns/net"]
    run(["ip", "link", "set", WAN_DEVS[1], "netns", str(holder.p.pid)])
    run(ns + ["ip", "link", "set", "lo", "up"])
    run(ns + ["ip", "addr", "add", WAN_SWARM + "/30", "dev", WAN_DEVS[1]])
    run(ns + ["ip", "link", "set", WAN_DEVS[1], "multicast", "off", "up"])
    run(["ip", "addr", "add", WAN_LEECH + "/30", "dev", WAN_DEVS[0]])
    run(["ip", "link", "set", WAN_DEVS[0], "multicast", "off", "up"])
    SWARM_HOST, LEECH_HOST, SWARM_NS = WAN_SWARM, WAN_LEECH, ns
    log(f"wan link up: {rtt:g} ms RTT, {loss:g} % loss each way; swarm at {WAN_SWARM}, client at {WAN_LEECH}")


def results_name(a):
    return ("streaming-quick" if a.quick else "streaming") + ("-wan" if a.wan else "")


def nft_counter(name):
    out = json.loads(nft("-j", "list", "counter", "inet", NFT_TABLE, name, capture=True))
    for item in out["nftables"]:
        if "counter" in item:
            return item["counter"]["bytes"]
    return 0


def swarm_bytes():
    """Bytes the seeders sent (IP packet lengths, both TCP and uTP) since the table was made."""
    return nft_counter("swarm")


def egress_check():
    """Sockets of any process with a peer outside loopback (should be none)."""
    out = subprocess.run(["ss", "-tunaH"], capture_output=True, text=True).stdout
    bad = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 6:
            continue
        peer = f[5]
        host = peer.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
        if host in ("*", "0.0.0.0", "::", "::1", WAN_SWARM, WAN_LEECH) or host.startswith("127."):
            continue
        bad.append(line)
    return bad


# ---------------------------------------------------------------------------------------------
# Media, torrents and floors.

def ffprobe_duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "default=nw=1:nk=1", path], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def make_media(workdir, seconds, vbitrate):
    mdir = os.path.join(workdir, "media")
    os.makedirs(mdir, exist_ok=True)
    tag = f"{seconds}s_{vbitrate}"
    paths = {c: os.path.join(mdir, f"{c}_{tag}.{CONTAINERS[c][0]}") for c in CONTAINERS}
    ff = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    src = ["-f", "lavfi", "-i", "testsrc2=size={size}:rate=30,noise=alls=8:allf=t",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000,aformat=channel_layouts=stereo"]
    gop = ["-g", "60", "-keyint_min", "60", "-sc_threshold", "0"]
    if not os.path.exists(paths["mkv"]):
        log(f"encoding 1080p H.264/AAC {seconds} s at {vbitrate} ...")
        tmp = paths["mkv"] + ".part.mkv"
        run(ff + [a.replace("{size}", "1920x1080") for a in src] +
            ["-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-b:v", vbitrate,
             "-maxrate", vbitrate, "-bufsize", vbitrate, "-pix_fmt", "yuv420p"] + gop +
            ["-c:a", "aac", "-b:a", "128k", tmp])
        os.rename(tmp, paths["mkv"])
    for c, flags in (("mp4-faststart", ["-movflags", "+faststart"]), ("mp4-moov-end", [])):
        if not os.path.exists(paths[c]):
            tmp = paths[c] + ".part.mp4"
            run(ff + ["-i", paths["mkv"], "-map", "0", "-c", "copy"] + flags + [tmp])
            os.rename(tmp, paths[c])
    if not os.path.exists(paths["webm"]):
        log(f"encoding 720p VP9/Opus {seconds} s ...")
        tmp = paths["webm"] + ".part.webm"
        vb = str(int(float(vbitrate.rstrip("M")) * 1e6 * 0.5))  # VP9 720p at half the H.264 rate
        run(ff + [a.replace("{size}", "1280x720") for a in src] +
            ["-t", str(seconds), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
             "-row-mt", "1", "-b:v", vb, "-maxrate", vb, "-minrate", vb, "-pix_fmt", "yuv420p"] + gop +
            ["-c:a", "libopus", "-b:a", "128k", tmp])
        os.rename(tmp, paths["webm"])
    return paths


def touched_ranges(argv, media):
    """Byte ranges of `media` that the FFmpeg command argv reads (traced with strace)."""
    trace = media + ".strace"
    subprocess.run(["strace", "-qq", "-s", "0", "-e", "trace=openat,read,lseek,close", "-o", trace] + argv,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fds, ranges = {}, []
    base = os.path.basename(media)
    with open(trace) as f:
        for line in f:
            line = line.strip()
            if " = " not in line:
                continue
            call, _, ret = line.rpartition(" = ")
            ret = ret.split()[0]
            try:
                r = int(ret)
            except ValueError:
                continue
            if call.startswith("openat(") and base in call and r >= 0:
                fds[r] = 0
            elif call.startswith("close("):
                fds.pop(int(call[6:].split(")")[0]), None)
            elif call.startswith("lseek("):
                fd = int(call[6:].split(",")[0])
                if fd in fds and r >= 0:
                    fds[fd] = r
            elif call.startswith("read("):
                fd = int(call[5:].split(",")[0])
                if fd in fds and r > 0:
                    ranges.append((fds[fd], fds[fd] + r))
                    fds[fd] += r
    os.unlink(trace)
    return ranges


def pieces_of(ranges, piece, size):
    s = set()
    for a, b in ranges:
        s.update(range(a // piece, (min(b, size) - 1) // piece + 1))
    return s


def piece_bytes(pieces, piece, size):
    last = (size - 1) // piece
    return sum(size - last * piece if p == last else piece for p in pieces)


def compute_floors(media, size, duration, seek_after, seek_target, piece_sizes):
    ff = ["ffmpeg", "-v", "error", "-nostdin"]
    first = touched_ranges(ff + ["-i", media, "-frames:v", "1", "-f", "null", "-"], media)
    played = touched_ranges(ff + ["-i", media, "-t", str(seek_after), "-f", "null", "-"], media)
    seek = touched_ranges(ff + ["-ss", f"{seek_target:.3f}", "-noaccurate_seek", "-i", media,
                                "-frames:v", "1", "-f", "null", "-"], media)
    out = {}
    for ps in piece_sizes:
        p_first = pieces_of(first, ps, size)
        p_played = pieces_of(played, ps, size) | p_first
        p_seek = pieces_of(seek, ps, size)
        out[ps] = {
            "first_frame_bytes": piece_bytes(p_first, ps, size),
            "seek_bytes": piece_bytes(p_seek - p_played, ps, size),
            "cold70_bytes": piece_bytes(p_seek, ps, size),
            "first_frame_pieces": sorted(p_first),
        }
    return out


def make_torrent(cine, media, piece, tdir):
    os.makedirs(tdir, exist_ok=True)
    wan = "" if SWARM_HOST == "127.0.0.1" else ".wan"  # the announce URL differs, not the info-hash
    out = os.path.join(tdir, f"{os.path.basename(media)}.{piece // 1024}k{wan}.torrent")
    if not os.path.exists(out):
        run([cine, "create", media, "-o", out, f"--tracker=http://{SWARM_HOST}:{TRACKER_PORT}/announce",
             f"--piece-size={piece}"], stdout=subprocess.DEVNULL)
    info = subprocess.run([cine, "info", out], capture_output=True, text=True, check=True).stdout
    ih = [l.split()[-1] for l in info.splitlines() if l.startswith("info-hash")][0]
    return out, ih


# ---------------------------------------------------------------------------------------------
# Processes: tracker, seeders.

def _die_with_parent():
    """preexec: the child gets SIGKILL if the benchmark dies (no orphans writing logs)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


LIVE = []  # every Proc not yet stopped, for cleanup on any exit


class Proc:
    """A child in its own process group (so its helpers go with it)."""

    def __init__(self, argv, logfile, env=None, cwd=None):
        self.argv = argv
        self.log = open(logfile, "wb")
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                  start_new_session=True, stdin=subprocess.DEVNULL,
                                  preexec_fn=_die_with_parent)
        self.rusage = None
        LIVE.append(self)

    def alive(self):
        return not self.reap(block=False)

    def stop(self, sig=signal.SIGINT, grace=5.0):
        if self in LIVE:
            LIVE.remove(self)
        if self.rusage is not None or self.p.returncode is not None:
            self.log.close()
            return
        try:
            os.killpg(self.p.pid, sig)
        except ProcessLookupError:
            pass
        end = time.monotonic() + grace
        while time.monotonic() < end:
            if self.reap(block=False):
                break
            time.sleep(0.02)
        else:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap(block=True)
        self.log.close()

    def reap(self, block):
        """wait4 the child itself to get its own rusage (CPU time, peak RSS)."""
        if self.rusage is not None:
            return True
        pid, status, ru = os.wait4(self.p.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.rusage = ru
        self.p.returncode = os.waitstatus_to_exitcode(status)
        return True


def wait_port(port, timeout, host="127.0.0.1"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Swarm:
    def __init__(self, a, logdir, info_hashes):
        self.a, self.logdir = a, logdir
        self.seeders, self.key = [], None
        os.makedirs(logdir, exist_ok=True)
        # Debian builds opentracker with an access whitelist: list our torrents. The file is
        # read after opentracker chroots to -d, hence the relative path.
        tdir = os.path.join(a.workdir, "tracker")
        os.makedirs(tdir, exist_ok=True)
        with open(os.path.join(tdir, "whitelist.txt"), "w") as f:
            f.write("".join(ih + "\n" for ih in info_hashes))
        self.tracker = Proc(SWARM_NS + ["opentracker", "-i", SWARM_HOST, "-p", str(TRACKER_PORT), "-P",
                                         str(TRACKER_PORT), "-d", tdir, "-w", "whitelist.txt"],
                            os.path.join(logdir, "opentracker.log"))
        if not wait_port(TRACKER_PORT, 10, SWARM_HOST):
            sys.exit("opentracker did not start")

    def serve(self, torrent, media, rate):
        """3 cine seeders for this torrent, each limited to `rate` bytes/s."""
        key = (torrent, rate)
        if key == self.key and all(s.alive() for s in self.seeders):
            return
        self.stop_seeders()
        for i, port in enumerate(SEEDER_PORTS):
            # (Not the loopback runs' folder: a seeder resumes its torrent with the trackers
            # it had, and the info-hash is the same, the announce URL not.)
            d = os.path.join(self.a.workdir, "seed-wan" if SWARM_NS else "seed", str(i))
            os.makedirs(d, exist_ok=True)
            dst = os.path.join(d, os.path.basename(media))
            if not os.path.exists(dst):
                os.link(media, dst)
            self.seeders.append(Proc(SWARM_NS + [self.a.cine, "seed", torrent, f"--save-path={d}",
                                      f"--listen={port}", f"--interface={SWARM_HOST}",
                                      f"--max-upload={int(rate)}"] + NO_NET,
                                     os.path.join(self.logdir, f"seeder{i}.log"),
                                     env=cine_env(self.a, f"seeder{i}")))
        for s, port in zip(self.seeders, SEEDER_PORTS):
            if not wait_port(port, 60, SWARM_HOST):
                sys.exit(f"seeder on {port} did not start: see {s.log.name}")
        # Let the seeders' first announces reach the tracker. (Until cf2f94c a `cine seed` also
        # reconnected to the other seeders every 2 s; those handshakes waited in its upload
        # limiter and kept it topped up (see settle()), so a seeder started 4 s or more before a
        # client answered at once and one started less than ~3 s before it answered late.)
        time.sleep(5.0)
        self.key = key

    def healthy(self):
        return bool(self.seeders) and all(s.alive() for s in self.seeders)

    def stop_seeders(self):
        for s in self.seeders:
            s.stop()
        self.seeders, self.key = [], None

    def stop(self):
        self.stop_seeders()
        self.tracker.stop(signal.SIGTERM)


# ---------------------------------------------------------------------------------------------
# Clients.

class Stats:
    """Follows a --stats-json file as it grows."""

    def __init__(self, path):
        self.path, self.pos, self.events, self.buf, self.bad = path, 0, [], "", []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
                self.pos += len(data)
        except FileNotFoundError:
            return
        self.buf += data.decode("utf-8", errors="replace")
        *lines, self.buf = self.buf.split("\n")
        for l in lines:
            if l.strip():
                try:
                    self.events.append(json.loads(l))
                except ValueError:
                    self.bad.append(l)

    def first(self, name, after=None):
        for e in self.events:
            if e["event"] == name and (after is None or e["t"] >= after):
                return e
        return None


def guarded(swarm, torrent, media, rate, fn, tag, res):
    """Runs fn with the 3 seeders up; if one of them died during the run (it happened once when
    another process on the machine killed cine processes), restarts them and repeats once."""
    for attempt in range(2):
        swarm.serve(torrent, media, rate)
        x = fn()
        if swarm.healthy():
            return x
        log(f"  a seeder died during {tag}")
        res["failures"].append(f"{tag}: a seeder process died during the run" +
                               ("; repeated" if attempt == 0 else "; kept, marked seeder_died"))
    x["seeder_died"] = True
    return x


SETTLE_S = 3.0
# The results' sections and the `kind` their raw entries carry.
SECTION_KINDS = {"startup": None, "stalls": "stall", "whole": "whole"}
# Per-run start-up figures whose medians make a cell.
STARTUP_KEYS = ("ttff", "seek", "cold70", "seek_kf", "cold70_kf", "ff_wire", "ff_payload", "cold70_wire",
                "http_ready", "stalled_before_seek")


def settle():
    """Pause before each measured client, the same for every client, so that the previous
    client's connections are gone. What it does not do is rest the seeders: libtorrent 2.0.8's
    upload limiter lets a message past its 100 ms ticks only while it holds more than a second
    of quota beyond it, and it banks quota only while something waits in it
    (`bandwidth_channel::need_queueing`, `bandwidth_manager::update_quotas`). A seeder that has
    just served at its full rate, or has been idle since it started, holds less, so a new
    connection gets each protocol message and each batch of blocks at a tick, until
    the limiter has banked a second (about 1 s later). Until cf2f94c the seeders' reconnects to
    each other every 2 s waited in the limiter too and topped it up during the pause, more in a
    long pause than in a short one; see the README's *What limits the misses*."""
    time.sleep(SETTLE_S)


def fresh_dir(a, name):
    d = os.path.join(a.workdir, "dl", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def cine_env(a, tag):
    """A fresh HOME and XDG dirs per Cine process: no cine.conf, no remembered position
    (watch-later resume would start a run where an earlier one stopped)."""
    home = fresh_dir(a, tag + ".home")
    return dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                XDG_DATA_HOME=os.path.join(home, "data"), XDG_STATE_HOME=os.path.join(home, "state"),
                XDG_CACHE_HOME=os.path.join(home, "cache"))


def cine_cmd(a, torrent, save, stats, extra):
    return [a.cine, "play", torrent] + a.cine_isolation + [ "--vo=null", "--ao=null", f"--stats-json={stats}",
            f"--save-path={save}", f"--listen={LEECHER_PORT}", f"--interface={LEECH_HOST}", "--no-seed",
            "--quiet"] + NO_NET + (
        [f"--peer={SWARM_HOST}:{p}" for p in SEEDER_PORTS] if a.direct_peers else []) + extra


def timeline(st):
    out = {}
    for name in ("metadata", "file_selected", "opened", "first_frame", "playing"):
        e = st.first(name)
        out[name] = e["t"] if e else None
    return out


def cine_startup(a, torrent, seek_after, seek_target, tag, extra=()):
    """TTFF, MB at first frame and seek latency to seek_target, in one Cine run."""
    settle()
    save = fresh_dir(a, tag)
    stats = os.path.join(a.logdir, tag + ".stats.jsonl")
    b0 = swarm_bytes()
    p = Proc(cine_cmd(a, torrent, save, stats, [f"--seek-at={seek_after},{seek_target:.3f}"] + list(extra)),
             os.path.join(a.logdir, tag + ".log"), env=cine_env(a, tag))
    st = Stats(stats)
    res = {"client": "cine"}
    end = time.monotonic() + a.timeout
    egress = []
    sd_seen = time.monotonic()
    while time.monotonic() < end and p.alive():
        st.poll()
        if "ff_wire" not in res and st.first("first_frame"):
            res["ff_wire"] = swarm_bytes() - b0
            egress += egress_check()
        sb = st.first("seek_begin")
        if sb and "seek_dl" not in res:
            prog = [e for e in st.events if e["event"] == "progress" and e["t"] <= sb["t"]]
            res["seek_dl"] = prog[-1]["downloaded"] if prog else None
        sd = st.first("seek_done")
        if st.first("error") or (sd and (st.first("playing", after=sd["t"]) or
                                         time.monotonic() - sd_seen > 10)):
            break
        if sd is None:
            sd_seen = time.monotonic()
        time.sleep(0.01)
    p.stop()
    st.poll()
    ff, sb, sd = st.first("first_frame"), st.first("seek_begin"), st.first("seek_done")
    stalled, open_at = 0.0, None
    for e in st.events:
        if ff is None or e["t"] < ff["t"] or (sb and e["t"] > sb["t"]):
            continue
        if e["event"] == "stall_begin":
            open_at = e["t"]
        elif e["event"] == "stall_end" and open_at is not None:
            stalled, open_at = stalled + e["t"] - open_at, None
    res["stalled_before_seek"] = stalled if ff else None
    res.update({
        "ttff": ff["t"] if ff else None,
        "ff_payload": ff["downloaded"] if ff else None,
        "seek": (sd["t"] - sb["t"]) if sb and sd else None,
        # the pre-roll after the seek's picture: playback runs again
        "seek_playing": ((st.first("playing", after=sd["t"]) or {}).get("t", float("nan")) - sb["t"])
                        if sb and sd and st.first("playing", after=sd["t"]) else None,
        "timeline": timeline(st),
        "error": (st.first("error") or {}).get("message"),
        "egress": egress,
    })
    return res


def cine_cold(a, torrent, target, tag, extra=()):
    settle()
    save = fresh_dir(a, tag)
    stats = os.path.join(a.logdir, tag + ".stats.jsonl")
    b0 = swarm_bytes()
    p = Proc(cine_cmd(a, torrent, save, stats, [f"--start={target:.3f}", "--frames=1"] + list(extra)),
             os.path.join(a.logdir, tag + ".log"), env=cine_env(a, tag))
    st = Stats(stats)
    wire = None
    end = time.monotonic() + a.timeout
    while time.monotonic() < end and p.alive():
        st.poll()
        if wire is None and st.first("first_frame"):
            wire = swarm_bytes() - b0
        if st.first("exit") or st.first("error"):
            break
        p.reap(block=False)
        time.sleep(0.01)
    p.stop()
    st.poll()
    ff = st.first("first_frame")
    return {"client": "cine", "cold70": ff["t"] if ff else None, "cold70_wire": wire,
            "cold70_timeline": timeline(st), "cold70_error": (st.first("error") or {}).get("message")}


def cine_keyframe_seeks(a, torrent, target, tag, size):
    """The seek and the cold start again with --hr-seek=no: Cine showing the keyframe before the
    target, as `ffmpeg -ss T -noaccurate_seek` does for peerflix and webtorrent-cli (an exact
    seek also downloads and decodes from that keyframe up to the target)."""
    x = cine_startup(a, torrent, a.seek_after, target, tag + "_kf", ["--hr-seek=no"])
    c = cine_cold(a, torrent, target, tag + "_cold_kf", ["--hr-seek=no"])
    valid = x.get("seek_dl") is None or x["seek_dl"] < 0.7 * size
    return {"seek_kf": x.get("seek") if valid else None, "cold70_kf": c.get("cold70")}


def http_ready(port, path, timeout, proc):
    """Polls HEAD on the client's stream URL until it answers 200/206."""
    import http.client
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.alive():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("HEAD", path)
            r = c.getresponse()
            c.close()
            if r.status in (200, 206):
                return True
        except OSError:
            pass
        proc.reap(block=False)
        time.sleep(0.02)
    return False


def node_client(a, kind, torrent, ih, fname, tag, env):
    save = fresh_dir(a, tag)
    tmp = fresh_dir(a, tag + ".tmp")
    env = dict(env, TMPDIR=tmp, HOME=tmp)
    bindir = os.path.join(HERE, "node_modules", ".bin")
    if kind == "peerflix":
        argv = ["node", os.path.join(bindir, "peerflix"), torrent, "-q", "-p", str(PEERFLIX_HTTP),
                "--hostname=127.0.0.1", "-f", save, "--no-dht", "-x", str(LEECHER_PORT)]
        port, path = PEERFLIX_HTTP, "/0"
    else:
        argv = ["node", os.path.join(bindir, "webtorrent"), "download", torrent, "-q", "-p",
                str(WEBTORRENT_HTTP), "-o", save, "--torrent-port", str(LEECHER_PORT), "--keep-seeding"]
        port, path = WEBTORRENT_HTTP, f"/webtorrent/{ih}/{urllib.parse.quote(fname)}"
    if a.direct_peers and kind == "peerflix":
        argv += sum((["-e", f"{SWARM_HOST}:{p}"] for p in SEEDER_PORTS), [])
    return Proc(argv, os.path.join(a.logdir, tag + ".log"), env=env), port, path


def ffmpeg_frame(url, ss=None, timeout=120):
    argv = ["ffmpeg", "-v", "error", "-nostdin"]
    if ss is not None:
        argv += ["-ss", f"{ss:.3f}", "-noaccurate_seek"]
    argv += ["-i", url, "-frames:v", "1", "-f", "null", "-"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return r.returncode == 0, r.stderr.strip()[-300:]
    except subprocess.TimeoutExpired:
        return False, "timeout"


def node_startup(a, kind, torrent, ih, fname, seek_after, seek_target, tag, env):
    settle()
    b0 = swarm_bytes()
    p, port, path = node_client(a, kind, torrent, ih, fname, tag, env)
    url = f"http://127.0.0.1:{port}{path}"
    res = {"client": kind}
    try:
        if not http_ready(port, path, a.timeout, p):
            res["error"] = "HTTP server never answered"
            return res
        res["http_ready"] = time.monotonic() - p.t0
        ok, err = ffmpeg_frame(url, timeout=a.timeout)
        if not ok:
            res["error"] = "first frame: " + err
            return res
        res["ttff"] = time.monotonic() - p.t0
        res["ff_wire"] = swarm_bytes() - b0
        res["egress"] = egress_check()
        # Playback at real pace from the start, as a player would, then a seek to 70 %: the player
        # drops its connection and opens the stream again at the new position.
        play = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-re", "-i", url, "-f", "null", "-"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seek_after)
        play.kill()
        play.wait()
        t0 = time.monotonic()
        ok, err = ffmpeg_frame(url, ss=seek_target, timeout=a.timeout)
        if ok:
            res["seek"] = time.monotonic() - t0
        else:
            res["error"] = "seek: " + err
        return res
    finally:
        p.stop(signal.SIGTERM)


def node_cold(a, kind, torrent, ih, fname, target, tag, env):
    settle()
    b0 = swarm_bytes()
    p, port, path = node_client(a, kind, torrent, ih, fname, tag, env)
    url = f"http://127.0.0.1:{port}{path}"
    try:
        if not http_ready(port, path, a.timeout, p):
            return {"client": kind, "cold70_error": "HTTP server never answered"}
        ok, err = ffmpeg_frame(url, ss=target, timeout=a.timeout)
        if not ok:
            return {"client": kind, "cold70_error": err}
        return {"client": kind, "cold70": time.monotonic() - p.t0, "cold70_wire": swarm_bytes() - b0}
    finally:
        p.stop(signal.SIGTERM)


def cine_stalls(a, torrent, seconds, tag):
    """Real-time playback of `seconds` from the start; stalls after the first frame, CPU, RSS."""
    settle()
    save = fresh_dir(a, tag)
    stats = os.path.join(a.logdir, tag + ".stats.jsonl")
    p = Proc(cine_cmd(a, torrent, save, stats, [f"--length={seconds}"]),
             os.path.join(a.logdir, tag + ".log"), env=cine_env(a, tag))
    st = Stats(stats)
    end = time.monotonic() + seconds * 3 + a.timeout
    while time.monotonic() < end and p.alive():
        if p.reap(block=False):
            break
        time.sleep(0.1)
    wall = time.monotonic() - p.t0
    p.stop()
    st.poll()
    ff = st.first("first_frame")
    ex = st.first("exit")
    stalls, stalled, open_at = 0, 0.0, None
    for e in st.events:
        if ff is None or e["t"] < ff["t"]:
            continue
        if e["event"] == "stall_begin":
            stalls += 1
            open_at = e["t"]
        elif e["event"] == "stall_end" and open_at is not None:
            stalled += e["t"] - open_at
            open_at = None
    if open_at is not None:
        stalled += (ex["t"] if ex else st.events[-1]["t"]) - open_at
    ru = p.rusage
    pl = st.first("playing")
    return {
        "ttff": ff["t"] if ff else None,
        "hold_s": (pl["t"] - ff["t"]) if ff and pl else None,
        "stalls": stalls if ff else None,
        "stalled_s": stalled if ff else None,
        "completed": bool(ex and ex.get("code") == 0),
        "cpu_s": (ru.ru_utime + ru.ru_stime) if ru else None,
        "rss_mb": ru.ru_maxrss / 1024.0 if ru else None,
        "minflt": ru.ru_minflt if ru else None,
        "nvcsw": ru.ru_nvcsw if ru else None,
        # decoding threads (progress events carry them since 2026-12-03): a single-threaded
        # decoder that measures itself too slow switches to one per core, at a CPU cost
        "video_threads": sorted({e["video_threads"] for e in st.events
                                 if e["event"] == "progress" and "video_threads" in e}),
        "wall_s": wall,
        "error": (st.first("error") or {}).get("message"),
    }


def cine_whole(a, torrent, duration, tag):
    """Seconds from start until Cine has every piece while it streams from the start."""
    settle()
    save = fresh_dir(a, tag)
    stats = os.path.join(a.logdir, tag + ".stats.jsonl")
    p = Proc(cine_cmd(a, torrent, save, stats, [f"--length={duration}"]),
             os.path.join(a.logdir, tag + ".log"), env=cine_env(a, tag))
    st = Stats(stats)
    done = None
    end = time.monotonic() + a.timeout + duration
    while time.monotonic() < end and p.alive() and done is None:
        st.poll()
        md = st.first("metadata")
        prog = [e for e in st.events if e["event"] == "progress"]
        if md and prog and prog[-1]["pieces_have"] >= md["pieces"]:
            # interpolate between the last two progress events on pieces_have
            last = prog[-1]
            prev = prog[-2] if len(prog) > 1 else {"t": 0.0, "pieces_have": 0}
            dp = last["pieces_have"] - prev["pieces_have"]
            frac = (md["pieces"] - prev["pieces_have"]) / dp if dp > 0 else 1.0
            done = prev["t"] + frac * (last["t"] - prev["t"])
        time.sleep(0.05)
    p.stop()
    st.poll()
    return {"client": "cine", "whole_s": done, "error": (st.first("error") or {}).get("message")}


def lt_whole(a, torrent, tag, utp=True):
    settle()
    save = fresh_dir(a, tag)
    argv = [LT_PYTHON, os.path.join(HERE, "lt_download.py"), torrent, save, f"--listen={LEECHER_PORT}",
            f"--timeout={a.timeout * 4}", f"--interface={LEECH_HOST}"] + ([] if utp else ["--no-utp"])
    if a.direct_peers:
        argv += [f"--peer={SWARM_HOST}:{p}" for p in SEEDER_PORTS]
    r = subprocess.run(argv, capture_output=True, text=True)
    with open(os.path.join(a.logdir, tag + ".log"), "w") as f:
        f.write(r.stderr)
    if r.returncode != 0:
        return {"client": "libtorrent", "whole_s": None, "error": r.stderr.strip()[-300:]}
    return {"client": "libtorrent" if utp else "libtorrent-tcp",
            "whole_s": json.loads(r.stdout.strip().splitlines()[-1])["finished"]}


def ffmpeg_decode_cpu(media, seconds, realtime=False):
    """CPU seconds of `ffmpeg -f null` decoding `seconds` of `media`: as fast as it can (the
    issue's reference), or with -re at the pace of playback (context: what decoding at real
    time costs on this machine, where a CPU that idles between frames decodes each more slowly)."""
    before = os.times()
    run(["ffmpeg", "-v", "error", "-nostdin"] + (["-re"] if realtime else []) +
        ["-i", media, "-t", str(seconds), "-f", "null", "-"])
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


# ---------------------------------------------------------------------------------------------
# Report.

def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return None if a is None or not b else a / b


def write_markdown(res, path):
    a = res["config"]
    L = []
    L.append("# Streaming benchmark (issue 7)\n")
    # Runs per cell by section, from the raw results (a merged file keeps sections run with other
    # --runs values).
    per = {}
    for sec, kind in SECTION_KINDS.items():
        runs = [x["run"] for x in res.get("raw", []) if x.get("kind") == kind and x.get("run") is not None]
        if runs:
            per[sec] = max(runs) + 1
    counts = set(per.values())
    runs_text = (f"{counts.pop() if counts else a['runs']} run(s) per cell" if len(counts) <= 1 else
                 "runs per cell: " + ", ".join(f"{k} {v}" for k, v in per.items()))
    L.append(f"Generated by `bench/streaming_bench.py` on {res['date']} — {runs_text}, "
             f"median shown; clip {a['clip_seconds']} s; swarm: 3 × `cine seed` at "
             f"{a['seeder_rate'] / 1e6:.2f} MB/s each = **{3 * a['seeder_rate'] / 1e6:.2f} MB/s** "
             f"(MB = 10⁶ bytes) unless noted, opentracker, " + (
                 f"in a private network namespace of their own behind a link of **{a['wan'][0]:g} ms "
                 f"round trip and {a['wan'][1]:g} % loss each way** (`bench/wan_link.py`, user space: "
                 f"this kernel has no netem) to the client's namespace; the floors below leave the "
                 f"round trips out" if a.get("wan") else
                 "all on loopback in a private network namespace") +
             f". Clients: {', '.join(a['clients'])}. Machine: {res['machine']}.\n")
    builds = res.get("section_builds", {})
    mixed = len(set(builds.values())) > 1  # sections kept from runs of other builds
    if res.get("section_dates"):
        if mixed:
            L.append("Sections run on: " + ", ".join(
                f"{k} {v} (Cine {builds.get(k, '?')})" for k, v in res["section_dates"].items()) + ".\n")
        else:
            L.append("Sections run on: " + ", ".join(f"{k} {v}" for k, v in res["section_dates"].items()) +
                     " (same `cine` binary).\n")
    b = res.get("cine_build", {})
    loads = [x.get("load1") for x in res.get("raw", []) if x.get("load1") is not None]
    L.append(("This run's " if mixed else "") + f"Cine built from {b.get('commit', '?')}" + (f" plus uncommitted changes in {', '.join(b['uncommitted'])}"
             if b.get("uncommitted") else "") + ". " + (f"1-min load average during the runs: median "
             f"{statistics.median(loads):.1f}, max {max(loads):.1f} on 2 cores (the machine is shared with "
             f"other builds; figures are wall-clock).\n" if loads else "\n"))
    L.append("Floor = bytes of the pieces that `ffmpeg` reads for the operation (traced with strace) ÷ "
             "swarm rate. *best* = the better of peerflix and webtorrent-cli. peerflix and "
             "webtorrent-cli are timed from their start until `ffmpeg -frames:v 1` on their HTTP "
             "stream exits (seeks: from the new request to exit, `-ss T -noaccurate_seek`).\n")
    media = res["media"]
    piece_sizes = a["piece_sizes"]

    def cells():
        """(container, piece size, start-up results) of every cell that ran."""
        for c in a["containers"]:
            for ps in piece_sizes:
                if res["startup"].get(f"{c}/{ps}"):
                    yield c, ps, res["startup"][f"{c}/{ps}"]

    def kf_rows(metric, floor_key):
        """Seek-like metrics: Cine exact and Cine to the keyframe (--hr-seek=no); the verdict is on
        the latter, the like-for-like figure (the peers' ffmpeg runs with -noaccurate_seek)."""
        rows = []
        for c, ps, s in cells():
            g = lambda cl, k: s.get(cl, {}).get(k)
            exact, kf = g("cine", metric), g("cine", metric + "_kf")
            pf, wt = g("peerflix", metric), g("webtorrent", metric)
            best = min([x for x in (pf, wt) if x is not None], default=None)
            floor = s["floor"].get(floor_key)
            r_kf = ratio(kf, best)
            verdict = ("✅" if r_kf <= 0.5 else "❌") if r_kf is not None else ""
            exact_txt = fmt(exact)
            cc = s.get("cine", {})
            if metric == "seek" and cc.get("runs") and cc.get("seek_runs", 0) < cc["runs"]:
                exact_txt += f" ({cc.get('seek_runs', 0)}/{cc['runs']} runs valid)"
            rows.append(f"| {c} | {ps // 1024} KiB | {fmt(kf)} | {exact_txt} | {fmt(pf)} | {fmt(wt)} | "
                        f"{fmt(floor)} | {fmt(r_kf)}× | {fmt(ratio(exact, best))}× | "
                        f"{fmt(ratio(kf, floor))}× | {verdict} |")
        return rows

    kf_hdr = ("| media | pieces | Cine, keyframe | Cine, exact | peerflix | webtorrent | floor | "
              "keyframe / best | exact / best | keyframe / floor | target |\n|---|---|---|---|---|---|---|---|---|---|---|")
    kf_note = ("*keyframe* = Cine with `--hr-seek=no`, showing the keyframe at or before the target as "
               "`ffmpeg -ss T -noaccurate_seek` does for peerflix and webtorrent-cli: the like-for-like "
               "figure, which the verdict uses. *exact* = Cine's default (mpv's hr-seek), which also "
               "downloads and decodes from that keyframe up to the target frame.\n")

    def cell_rows(metric, floor_key, unit_div=1.0, nd=2, target=None):
        rows = []
        for c, ps, s in cells():
            v = {k: s.get(k, {}).get(metric) for k in ("cine", "peerflix", "webtorrent")}
            v = {k: (x / unit_div if x is not None else None) for k, x in v.items()}
            best = min([x for k, x in v.items() if k != "cine" and x is not None], default=None)
            floor = s["floor"].get(floor_key)
            if floor is not None:
                floor = floor / unit_div
            r_best, r_floor = ratio(v["cine"], best), ratio(v["cine"], floor)
            verdict = ""
            if target == "half" and r_best is not None:
                verdict = "✅" if r_best <= 0.5 else "❌"
            elif target == "mb" and ps == 262144 and v["cine"] is not None:
                verdict = "✅" if v["cine"] <= 1.5 else "❌"
            cine_txt = fmt(v['cine'], nd)
            cc = s.get("cine", {})
            if metric == "seek" and cc.get("runs") and cc.get("seek_runs", 0) < cc["runs"]:
                cine_txt += f" ({cc.get('seek_runs', 0)}/{cc['runs']} runs valid)"
            rows.append(f"| {c} | {ps // 1024} KiB | {cine_txt} | {fmt(v['peerflix'], nd)} | "
                        f"{fmt(v['webtorrent'], nd)} | {fmt(floor, nd)} | {fmt(r_best)}× | {fmt(r_floor)}× | {verdict} |")
        return rows

    hdr = "| media | pieces | Cine | peerflix | webtorrent | floor | Cine / best | Cine / floor | target |\n|---|---|---|---|---|---|---|---|---|"
    L.append("## Time to first frame (s) — target ≤ 0.5× best\n")
    L.append(hdr)
    L += cell_rows("ttff", "first_frame_s", target="half")
    L.append("\n## Seek latency to 70 % during playback (s) — target ≤ 0.5× best\n")
    L.append(f"Seek issued after {a['seek_after']} s of playback. ")
    L.append(f"For reference, `ffmpeg -ss T -frames:v 1` on the *local file* (process start-up + "
             f"probe + seek, no network) takes {fmt(res.get('ffmpeg_local_seek_s'))} s: part of the "
             f"peerflix/webtorrent figures that a resident player would not pay.\n")
    L.append("A Cine run counts only if less than 70 % of the file had arrived when the seek began; "
             "a run that stalled long enough before its seek to download the whole file is left out "
             "(see *stalled before seek* below).\n")
    L.append(kf_note)
    L.append(kf_hdr)
    L += kf_rows("seek", "seek_s")
    L.append("\n## Cold start at 70 % (s) — time to the first frame of a fresh client started at 70 %\n")
    L.append(kf_hdr)
    L += kf_rows("cold70", "cold70_s")
    L.append("\n## MB at first frame — target ≤ 1.5 MB for 256 KiB pieces (Cine's own count)\n")
    L.append("*own* = Cine's payload count in its `first_frame` event. *wire* = bytes the seeders sent "
             "to the client until its first frame was seen (IP packet lengths, counted by nftables on the "
             "seeders' ports — the same meter for every client; it also counts data still in loopback "
             "socket buffers, so it runs ahead of what a client had received). Floor = bytes of the "
             "pieces FFmpeg reads for its first frame.\n")
    L.append("| media | pieces | Cine own | Cine wire | peerflix wire | webtorrent wire | floor | Cine wire / best | Cine own / floor | target |\n|---|---|---|---|---|---|---|---|---|---|")
    for c in a["containers"]:
        for ps in piece_sizes:
            s = res["startup"].get(f"{c}/{ps}")
            if not s:
                continue
            g = lambda cl, k: (s.get(cl, {}).get(k) / 1e6) if s.get(cl, {}).get(k) is not None else None
            own, cw, pw, ww = g("cine", "ff_payload"), g("cine", "ff_wire"), g("peerflix", "ff_wire"), g("webtorrent", "ff_wire")
            best = min([x for x in (pw, ww) if x is not None], default=None)
            floor = s["floor"]["first_frame_bytes"] / 1e6
            verdict = ("✅" if own <= 1.5 else "❌") if (ps == 262144 and own is not None) else ""
            L.append(f"| {c} | {ps // 1024} KiB | {fmt(own)} | {fmt(cw)} | {fmt(pw)} | {fmt(ww)} | {fmt(floor)} | "
                     f"{fmt(ratio(cw, best))}× | {fmt(ratio(own, floor))}× | {verdict} |")

    if res.get("cine_timeline"):
        L.append("\n### Where Cine's time to first frame goes (median s since start)\n")
        L.append("*playing* = the end of the pre-roll hold after the first picture; *seek → playing* = from the seek to the end of the hold after its picture.\n")
        L.append("| media | pieces | metadata | opened | first frame | playing | seek → playing | payload at first frame (MB) | floor (MB) | stalled before seek, per run (s) |\n|---|---|---|---|---|---|---|---|---|---|")
        for k, tl in res["cine_timeline"].items():
            c, ps = k.split("/")
            fl = res["startup"][k]["floor"]["first_frame_bytes"] / 1e6
            L.append(f"| {c} | {int(ps) // 1024} KiB | {fmt(tl['metadata'], 3)} | {fmt(tl['opened'])} | "
                     f"{fmt(tl['first_frame'])} | {fmt(tl.get('playing'))} | {fmt(tl.get('seek_playing'))} | "
                     f"{fmt(tl['ff_payload_mb'])} | {fmt(fl)} | "
                     f"{', '.join(fmt(x, 1) for x in tl.get('stalled_before_seek', []))} |")

    if res.get("stalls"):
        L.append(f"\n## Stalls over {a['stall_seconds']} s of real-time Cine playback — target 0 at 1.5× and 3×\n")
        L.append("Swarm rate = k × the file's average bitrate, split over the 3 seeders. Stalls counted after the first frame.\n")
        L.append("*pre-roll hold* = from the first picture to the `playing` event: the picture stands while a second of media past it arrives (mpv's cache pause); it is not counted as a stall unless nothing arrives for 2 s.\n")
        L.append("| media | bitrate (Mbit/s) | swarm | stalls (median, all runs) | stalled s (median) | TTFF (s) | pre-roll hold (s) | target |\n|---|---|---|---|---|---|---|---|")
        for k, s in res["stalls"].items():
            c, ps, mult = k.split("/")
            mult = float(mult)
            st = s["stalls"]
            verdict = "" if mult < 1.5 else ("✅" if st and max(st) == 0 else "❌")
            L.append(f"| {c} ({int(ps) // 1024} KiB) | {media[c]['bitrate'] / 1e6:.2f} | {mult:g}× | "
                     f"{fmt(median(st), 0)} ({', '.join(str(x) for x in st)}) | {fmt(median(s['stalled_s']))} | "
                     f"{fmt(median(s['ttff']))} | {fmt(median(s.get('hold_s', [])))} | {verdict or 'report'} |")

    if res.get("whole"):
        L.append("\n## Whole file: download while streaming vs plain libtorrent — target ≥ 0.95×\n")
        L.append("Cine plays from the start at real pace; time until it has every piece (interpolated between "
                 "its 1 s progress events). Plain = Debian's python3-libtorrent 2.0 downloading the same torrent "
                 "from the same swarm. Throughput ratio = plain time ÷ Cine time.\n")
        L.append("A third column repeats the plain download with uTP off (`enable_outgoing/incoming_utp = false`): "
                 "libtorrent tries uTP first between its own peers, and uTP through the seeders' rate limiter on "
                 "loopback delivers an erratic fraction of the configured rate; over TCP the same swarm is steady.\n")
        L.append("| media | pieces | size (MB) | Cine streaming, s (runs) | plain libtorrent, s (runs) | plain, TCP only, s (runs) | floor (s) | throughput ratio | ratio vs TCP only | target |\n|---|---|---|---|---|---|---|---|---|---|")
        eff = []
        for k, s in res["whole"].items():
            c, ps = k.split("/")
            cm, lm = median(s["cine"]), median(s["libtorrent"])
            r = ratio(lm, cm)
            size = media[c]["size"]
            runs = lambda xs: "(" + ", ".join(fmt(x, 1) for x in xs) + ")"
            tm = s.get("libtorrent-tcp") or []
            L.append(f"| {c} | {int(ps) // 1024} KiB | {size / 1e6:.1f} | {fmt(cm)} {runs(s['cine'])} | {fmt(lm)} {runs(s['libtorrent'])} | "
                     f"{fmt(median(tm))} {runs(tm)} | "
                     f"{fmt(size / (3 * a['seeder_rate']))} | {fmt(r)}× | {fmt(ratio(median(tm), cm))}× | "
                     f"{'✅' if r and r >= 0.95 else '❌'} |")
            if lm:
                eff.append(size / lm)
        if eff:
            L.append(f"\nEffective swarm rate seen by plain libtorrent (median over media): {statistics.median(eff) / 1e6:.2f} MB/s of the "
                     f"{3 * a['seeder_rate'] / 1e6:.2f} MB/s configured (the floors above use the configured rate).")

    if res.get("cpu"):
        L.append(f"\n## Cine CPU and memory during {a['stall_seconds']} s of playback (swarm at 3× bitrate)\n")
        L.append("CPU = user+sys of the whole `cine play` process (decode, torrent, hashing) for the run; "
                 "reference = `ffmpeg -i FILE -t S -f null -` decoding the same seconds, as fast as it can "
                 "(the verdict's), run right after each of Cine's runs so that both see the machine in the same state; "
                 "medians of the runs, each run's figures below the table. For context, *ffmpeg -re* = the same decoding paced at playback speed, as a player "
                 "decodes: on this machine a CPU that idles between frames decodes each more slowly. Target ≤ 1.1× and ≤ 250 MB.\n")
        L.append("| media | Cine CPU (s) | ffmpeg -f null CPU (s) | ratio | ffmpeg -re CPU (s) | Cine / ffmpeg -re | peak RSS (MB) | target |\n"
                 "|---|---|---|---|---|---|---|---|")
        for c, s in res["cpu"].items():
            r = ratio(s["cine_cpu_s"], s["ffmpeg_cpu_s"])
            rre = ratio(s["cine_cpu_s"], s.get("ffmpeg_re_cpu_s"))
            ok = r is not None and r <= 1.1 and s["rss_mb"] is not None and s["rss_mb"] <= 250
            L.append(f"| {c} | {fmt(s['cine_cpu_s'])} | {fmt(s['ffmpeg_cpu_s'])} | {fmt(r)}× | "
                     f"{fmt(s.get('ffmpeg_re_cpu_s'))} | {fmt(rre)}× | {fmt(s['rss_mb'], 0)} | {'✅' if ok else '❌'} |")
        for c, s in res["cpu"].items():
            if s.get("runs"):
                L.append(f"\n{c}, run by run (Cine / ffmpeg -f null / ffmpeg -re, s): " +
                         "; ".join(f"{fmt(x)} / {fmt(y)} / {fmt(z)}" for x, y, z in s["runs"]))

    L.append(f"\nIsolation: {res.get('isolation', '(run in progress)')}\n")
    if res.get("failures"):
        L.append("\n## Failures\n")
        for f in res["failures"][:40]:
            L.append(f"- {f}")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 container (mkv), 1 run, 40 s clip, 256 KiB only")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clip-seconds", type=int, default=90)
    ap.add_argument("--video-bitrate", default="8M", help="H.264 rate (VP9 720p gets half)")
    ap.add_argument("--containers", default=",".join(CONTAINERS))
    ap.add_argument("--piece-sizes", default="262144,1048576")
    ap.add_argument("--clients", default="cine,peerflix,webtorrent")
    ap.add_argument("--seeder-rate", type=float, default=1.5e6, help="bytes/s per seeder (3 seeders)")
    ap.add_argument("--seek-after", type=float, default=5.0, help="seconds of playback before the 70%% seek")
    ap.add_argument("--stall-rates", default="1.2,1.5,3", help="swarm rate as multiples of the bitrate")
    ap.add_argument("--stall-seconds", type=int, default=60)
    ap.add_argument("--stall-containers", default="mkv")
    ap.add_argument("--whole-containers", default="mkv,mp4-moov-end")
    ap.add_argument("--skip", default="", help="comma list of: startup,stalls,whole")
    ap.add_argument("--direct-peers", action="store_true",
                    help="also give clients the seeders' addresses (default: tracker only, for all)")
    ap.add_argument("--wan", metavar="RTT_MS,LOSS_PCT",
                    help="put the swarm behind a link with this round-trip time and loss each way "
                         "(e.g. 50,1; bench/wan_link.py); results go to streaming-wan.*")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-operation timeout, s")
    ap.add_argument("--cine", default=os.path.join(REPO, "build-bench", "cine"))
    ap.add_argument("--workdir", default="/tmp/cine-streaming-bench")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--merge", action="store_true",
                    help="keep the sections of the existing results JSON that this run skips")
    ap.add_argument("--report", metavar="JSON", help="only rewrite the Markdown table from a results JSON")
    a = ap.parse_args()
    if a.report:
        res = json.load(open(a.report))
        reaggregate(res)
        with open(a.report, "w") as f:
            json.dump(res, f, indent=1, default=str)
        md = os.path.splitext(a.report)[0] + ".md"
        write_markdown(res, md)
        print(md)
        return
    if a.quick:
        a.runs, a.clip_seconds = 1, 60
        a.containers, a.piece_sizes = "mkv", "262144"
        a.stall_containers, a.whole_containers = "mkv", "mkv"
        a.stall_seconds = 30
    a.cine = os.path.abspath(a.cine)
    if a.wan:
        try:
            rtt, loss = (float(x) for x in a.wan.split(","))
            assert 0 <= rtt <= 2000 and 0 <= loss < 50
        except (ValueError, AssertionError):
            sys.exit("--wan wants RTT_MS,LOSS_PCT, e.g. 50,1")
        a.wan = (rtt, loss)
    a.containers = [c for c in a.containers.split(",") if c]
    a.piece_sizes = [int(x) for x in a.piece_sizes.split(",")]
    a.clients = [c for c in a.clients.split(",") if c]
    a.stall_rates = [float(x) for x in a.stall_rates.split(",") if x]
    a.stall_containers = [c for c in a.stall_containers.split(",") if c in a.containers]
    a.whole_containers = [c for c in a.whole_containers.split(",") if c in a.containers]
    skip = set(a.skip.split(","))
    for tool in ("ffmpeg", "ffprobe", "strace", "opentracker", "nft", "ip", "ss", "unshare", "node") + \
            (("nsenter",) if a.wan else ()):
        if not shutil.which(tool):
            sys.exit(f"missing tool: {tool} (run bench/setup.sh)")
    if not os.access(a.cine, os.X_OK):
        sys.exit(f"no cine binary at {a.cine} (build it, or pass --cine)")
    helptext = subprocess.run([a.cine, "--help"], capture_output=True, text=True).stdout
    a.cine_isolation = [f for f in ("--no-config", "--no-resume-playback") if f in helptext]
    if {"peerflix", "webtorrent"} & set(a.clients) and not os.path.isdir(os.path.join(HERE, "node_modules", ".bin")):
        sys.exit("bench/node_modules missing: run bench/setup.sh")
    if a.clip_seconds < a.stall_seconds + 5 and "stalls" not in skip:
        sys.exit("--clip-seconds must exceed --stall-seconds")

    enter_netns()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit("hung up"))
    setup_nft(wan=bool(a.wan))
    a.logdir = os.path.join(a.workdir, "logs", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(a.logdir, exist_ok=True)
    if a.wan:
        setup_wan(a)
    os.makedirs(a.out, exist_ok=True)
    t_start = time.monotonic()
    env = dict(os.environ)
    env.pop("CINE_BENCH_NETNS", None)

    paths = make_media(os.path.join(a.workdir), a.clip_seconds, a.video_bitrate)
    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "config": {k: v for k, v in vars(a).items()},
           "machine": f"{os.cpu_count()} cores, Debian, {subprocess.run(['uname', '-r'], capture_output=True, text=True).stdout.strip()}",
           "media": {}, "startup": {}, "stalls": {}, "whole": {}, "cpu": {}, "failures": [], "raw": []}
    res["config"]["seeder_rate"] = a.seeder_rate
    name = results_name(a) + ".json"
    if a.merge and os.path.exists(os.path.join(a.out, name)):
        old = json.load(open(os.path.join(a.out, name)))
        for sec, kind in SECTION_KINDS.items():
            if sec in skip:
                res[sec] = old.get(sec, {})
                res["raw"] += [x for x in old.get("raw", []) if x.get("kind") == kind]
                mine = {"startup": lambda f: "_stall" not in f and "_whole_" not in f,
                        "stalls": lambda f: "_stall" in f, "whole": lambda f: "_whole_" in f}[sec]
                res["failures"] += [f for f in old.get("failures", []) if mine(f)]
                if sec == "startup":
                    res["cine_timeline"] = old.get("cine_timeline", {})
                    res["ffmpeg_local_seek_s"] = old.get("ffmpeg_local_seek_s")
                if sec == "stalls":
                    res["cpu"] = old.get("cpu", {})
        res["merged_from"] = old.get("date")
        res["section_dates"] = {k: v for k, v in old.get("section_dates", {}).items() if k in skip}
        # Which build each kept section ran on (results before this field: the old run's build).
        old_commit = old.get("cine_build", {}).get("commit", "?")
        res["section_builds"] = {k: old.get("section_builds", {}).get(k, old_commit)
                                 for k in res["section_dates"]}
    git = lambda *x: subprocess.run(["git", "-C", REPO] + list(x), capture_output=True, text=True).stdout.rstrip("\n")
    dirty = [l[3:] for l in git("status", "--porcelain", "--untracked-files=no").splitlines()
             if not l[3:].startswith("bench/")]
    res["cine_build"] = {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted": dirty}
    swarm_rate = 3 * a.seeder_rate
    torrents = {}
    for c in a.containers:
        m = paths[c]
        size, dur = os.path.getsize(m), ffprobe_duration(m)
        res["media"][c] = {"file": os.path.basename(m), "size": size, "duration": dur, "bitrate": size * 8 / dur}
        for ps in a.piece_sizes:
            torrents[(c, ps)] = make_torrent(a.cine, m, ps, os.path.join(a.workdir, "torrents"))
    log("media:", json.dumps(res["media"]))

    # local reference: ffmpeg process + probe + seek on a local file (no network)
    t0 = time.monotonic()
    m0 = paths[a.containers[0]]
    ffmpeg_frame(m0, ss=0.7 * res["media"][a.containers[0]]["duration"])
    res["ffmpeg_local_seek_s"] = time.monotonic() - t0

    swarm = Swarm(a, a.logdir, [ih for _, ih in torrents.values()])
    egress_seen = []
    try:
        # ---------------- startup, seek, cold start
        if "startup" not in skip:
            for c in a.containers:
                m, dur, size = paths[c], res["media"][c]["duration"], res["media"][c]["size"]
                target = 0.7 * dur
                floors = compute_floors(m, size, dur, a.seek_after, target, a.piece_sizes)
                for ps in a.piece_sizes:
                    torrent, ih = torrents[(c, ps)]
                    swarm.serve(torrent, m, a.seeder_rate)
                    fl = floors[ps]
                    cell = {"floor": {
                        "first_frame_bytes": fl["first_frame_bytes"], "seek_bytes": fl["seek_bytes"],
                        "cold70_bytes": fl["cold70_bytes"],
                        "first_frame_s": fl["first_frame_bytes"] / swarm_rate,
                        "seek_s": fl["seek_bytes"] / swarm_rate,
                        "cold70_s": fl["cold70_bytes"] / swarm_rate,
                        "first_frame_pieces": fl["first_frame_pieces"]}}
                    per = {k: [] for k in a.clients}
                    for r in range(a.runs):
                        order = a.clients[r % len(a.clients):] + a.clients[:r % len(a.clients)]
                        for cl in order:
                            tag = f"{c}_{ps // 1024}k_{cl}_r{r}"
                            log(f"startup {tag}")
                            if cl == "cine":
                                fn = lambda: {**cine_startup(a, torrent, a.seek_after, target, tag),
                                              **cine_cold(a, torrent, target, tag + "_cold"),
                                              **cine_keyframe_seeks(a, torrent, target, tag, size)}
                            else:
                                fn = lambda: {**node_startup(a, cl, torrent, ih, os.path.basename(m), a.seek_after,
                                                             target, tag, env),
                                              **node_cold(a, cl, torrent, ih, os.path.basename(m), target,
                                                          tag + "_cold", env)}
                            x = guarded(swarm, torrent, m, a.seeder_rate, fn, tag, res)
                            x.update({"container": c, "piece": ps, "run": r, "load1": os.getloadavg()[0]})
                            if x.get("seek_dl") is not None and x["seek_dl"] >= 0.7 * size:
                                x["seek_target_maybe_downloaded"] = True
                                x["seek_all"], x["seek"] = x.get("seek"), None  # not a seek to undownloaded data
                                res["failures"].append(f"{tag}: {x['seek_dl'] / 1e6:.1f} MB downloaded before the "
                                                       f"seek: the 70 % target may have been downloaded already")
                            x["egress"] = x.get("egress") or []
                            egress_seen += x["egress"]
                            res["raw"].append(x)
                            per[cl].append(x)
                            for k in ("error", "cold70_error"):
                                if x.get(k):
                                    res["failures"].append(f"{tag}: {k}: {x[k]}")
                            log(f"  ttff={fmt(x.get('ttff'))} seek={fmt(x.get('seek'))} cold70={fmt(x.get('cold70'))} "
                                f"ff_wire={fmt((x.get('ff_wire') or 0) / 1e6)}MB")
                    for cl, xs in per.items():
                        cell[cl] = {k: median([x.get(k) for x in xs]) for k in STARTUP_KEYS}
                        cell[cl]["seek_runs"] = sum(1 for x in xs if x.get("seek") is not None)
                        cell[cl]["runs"] = len(xs)
                    res["startup"][f"{c}/{ps}"] = cell
                    if per.get("cine"):
                        tls = [x["timeline"] for x in per["cine"]]
                        res.setdefault("cine_timeline", {})[f"{c}/{ps}"] = {
                            **{k: median([t.get(k) for t in tls]) for k in ("metadata", "opened", "first_frame", "playing")},
                            "seek_playing": median([x.get("seek_playing") for x in per["cine"]]),
                            "stalled_before_seek": [x.get("stalled_before_seek") for x in per["cine"]],
                            "ff_payload_mb": (cell["cine"]["ff_payload"] or 0) / 1e6}
                    save(res, a)

        # ---------------- stalls, CPU, RSS (Cine)
        if "stalls" not in skip and "cine" in a.clients:
            for c in a.stall_containers:
                m = paths[c]
                br = res["media"][c]["bitrate"] / 8  # bytes/s
                ps = a.piece_sizes[0]
                torrent, _ = torrents[(c, ps)]
                for mult in a.stall_rates:
                    swarm.serve(torrent, m, mult * br / 3)
                    xs, ffc, ffre = [], [], []
                    for r in range(a.runs):
                        tag = f"{c}_{ps // 1024}k_stall{mult:g}_r{r}"
                        log(f"stalls {tag} (seeders at {mult * br / 3 / 1e6:.3f} MB/s each)")
                        x = guarded(swarm, torrent, m, mult * br / 3,
                                    lambda: cine_stalls(a, torrent, a.stall_seconds, tag), tag, res)
                        log(f"  stalls={x['stalls']} stalled={fmt(x['stalled_s'])}s ttff={fmt(x['ttff'])} "
                            f"cpu={fmt(x['cpu_s'])}s rss={fmt(x['rss_mb'], 0)}MB")
                        x.update({"container": c, "piece": ps, "mult": mult, "run": r, "kind": "stall",
                                  "load1": os.getloadavg()[0]})
                        if x.get("error") or not x["completed"]:
                            res["failures"].append(f"{tag}: {x.get('error') or 'did not finish the playback'}")
                        res["raw"].append(x)
                        xs.append(x)
                        if mult == max(a.stall_rates):
                            # The reference right after each of Cine's runs, not all three after
                            # all of Cine's: this shared machine's speed drifts over minutes.
                            ffc.append(ffmpeg_decode_cpu(m, a.stall_seconds))
                            ffre.append(ffmpeg_decode_cpu(m, a.stall_seconds, realtime=True))
                            log(f"  ffmpeg -f null cpu={fmt(ffc[-1])}s, with -re {fmt(ffre[-1])}s")
                    res["stalls"][f"{c}/{ps}/{mult:g}"] = {k: [x[k] for x in xs] for k in
                                                          ("stalls", "stalled_s", "ttff", "hold_s", "cpu_s", "rss_mb")}
                    if mult == max(a.stall_rates):
                        res["cpu"][c] = {"cine_cpu_s": median([x["cpu_s"] for x in xs]),
                                         "ffmpeg_cpu_s": median(ffc),
                                         "ffmpeg_re_cpu_s": median(ffre),
                                         "runs": list(zip([x["cpu_s"] for x in xs], ffc, ffre)),
                                         "rss_mb": max([x["rss_mb"] for x in xs if x["rss_mb"]], default=None)}
                    save(res, a)

        # ---------------- whole file while streaming vs plain libtorrent
        if "whole" not in skip:
            for c in a.whole_containers:
                m, dur = paths[c], res["media"][c]["duration"]
                for ps in a.piece_sizes[:1]:
                    torrent, _ = torrents[(c, ps)]
                    swarm.serve(torrent, m, a.seeder_rate)
                    cell = {"cine": [], "libtorrent": [], "libtorrent-tcp": []}
                    for r in range(a.runs):
                        order = ["cine", "libtorrent", "libtorrent-tcp"]
                        for cl in order[r % 3:] + order[:r % 3]:
                            if cl == "cine" and "cine" not in a.clients:
                                continue
                            tag = f"{c}_{ps // 1024}k_whole_{cl}_r{r}"
                            log(f"whole {tag}")
                            x = guarded(swarm, torrent, m, a.seeder_rate,
                                        (lambda: cine_whole(a, torrent, dur, tag)) if cl == "cine"
                                        else (lambda: lt_whole(a, torrent, tag, utp=(cl == "libtorrent"))), tag, res)
                            log(f"  {fmt(x['whole_s'])} s")
                            if x.get("error") or x["whole_s"] is None:
                                res["failures"].append(f"{tag}: {x.get('error') or 'not finished'}")
                            x.update({"container": c, "piece": ps, "run": r, "kind": "whole",
                                      "load1": os.getloadavg()[0]})
                            res["raw"].append(x)
                            cell[cl].append(x["whole_s"])
                    res["whole"][f"{c}/{ps}"] = cell
                    save(res, a)
    finally:
        swarm.stop()
        for p in list(LIVE):
            p.stop(signal.SIGKILL, grace=2)
    blocked = nft_counter("egress_blocked")
    samples = sum(1 for x in res["raw"] if "egress" in x)
    where = (f"loopback and the --wan link's {WAN_NET}" if a.wan else "loopback")
    res["isolation"] = (f"private network namespace with only `lo`" + (
                            f" and the --wan link to the swarm's namespace" if a.wan else "") +
                        f"; nftables dropped {blocked} bytes addressed outside {where}; {samples} `ss` "
                        f"samples during client runs found {len(egress_seen)} sockets with a peer "
                        f"outside {where}.")
    res["egress_sockets"] = egress_seen
    res.setdefault("section_dates", {}).update({k: res["date"] for k in ("startup", "stalls", "whole") if k not in skip})
    res.setdefault("section_builds", {}).update(
        {k: res["cine_build"]["commit"] for k in ("startup", "stalls", "whole") if k not in skip})
    res["elapsed_s"] = time.monotonic() - t_start
    save(res, a)
    log(f"done in {res['elapsed_s'] / 60:.1f} min: {os.path.join(a.out, results_name(a) + '.md')}")


def reaggregate(res):
    """Recomputes the startup cells from the raw runs (used by --report)."""
    sizes = {c: m["size"] for c, m in res["media"].items()}
    for key, cell in res.get("startup", {}).items():
        c, ps = key.split("/")
        for cl in ("cine", "peerflix", "webtorrent"):
            xs = [x for x in res["raw"] if x.get("kind") is None and x.get("container") == c
                  and x.get("piece") == int(ps) and x.get("client") == cl]
            if not xs:
                continue
            for x in xs:
                if cl == "cine" and x.get("seek_dl") is not None and x["seek_dl"] >= 0.7 * sizes[c]:
                    x["seek_target_maybe_downloaded"] = True
                    if x.get("seek") is not None:
                        x["seek_all"], x["seek"] = x["seek"], None
            cell[cl] = {k: median([x.get(k) for x in xs]) for k in STARTUP_KEYS}
            cell[cl]["seek_runs"] = sum(1 for x in xs if x.get("seek") is not None)
            cell[cl]["runs"] = len(xs)
            if cl == "cine":
                tl = res.setdefault("cine_timeline", {}).setdefault(key, {})
                tl["stalled_before_seek"] = [x.get("stalled_before_seek") for x in xs]


def save(res, a):
    name = results_name(a)
    with open(os.path.join(a.out, name + ".json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    try:
        write_markdown(res, os.path.join(a.out, name + ".md"))
    except Exception:  # the JSON is the record; the table can be redone with --report
        import traceback
        traceback.print_exc()


if __name__ == "__main__":
    main()
