#!/usr/bin/env python3
"""Player benchmark (issue 2): decode+present CPU of a 1080p H.264/AAC clip with
`cine play --vo=null --ao=null --no-sync`, as a ratio to `ffmpeg -i CLIP -f null -` measured
in the same run, and Cine's peak RSS while playing the clip at real pace.

Usage: bench/player_cpu.py [--cine build/cine] [--runs 3] [--seconds 30] [--workdir DIR]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def run_measured(argv):
    """Runs argv; returns (cpu seconds user+sys, wall seconds, peak RSS in MB) of that child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {err.decode(errors='replace').strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; measure RSS runs in a fresh
    # interpreter (below) so earlier children do not mask it.
    return cpu, wall, after.ru_maxrss / 1024.0


def peak_rss_mb(argv):
    code = ("import resource,subprocess,sys;"
            "p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024.0 if p.returncode==0 else -1)")
    out = subprocess.run([sys.executable, "-c", code] + argv, capture_output=True, text=True)
    return float(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cine", default=os.path.join(os.path.dirname(__file__), "..", "build", "cine"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--workdir", default="/tmp/cine-bench")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    clip = os.path.join(a.workdir, f"bench_1080p_{a.seconds}s.mkv")
    if not os.path.exists(clip):
        print(f"generating {clip} ...", file=sys.stderr)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                        "-t", str(a.seconds), "-c:v", "libx264", "-preset", "veryfast",
                        "-b:v", "8M", "-maxrate", "10M", "-bufsize", "16M", "-g", "60",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "160k", clip + ".part.mkv"],
                       check=True)
        os.rename(clip + ".part.mkv", clip)

    cine = [a.cine, "play", clip, "--vo=null", "--ao=null", "--no-sync", "--quiet"]
    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", clip, "-f", "null", "-"]
    ratios, cine_cpu, ff_cpu = [], [], []
    for i in range(a.runs):
        c, cw, _ = run_measured(cine)
        f, fw, _ = run_measured(ffmpeg)
        cine_cpu.append(c)
        ff_cpu.append(f)
        ratios.append(c / f)
        print(f"run {i + 1}: cine {c:.2f} s CPU ({cw:.2f} s wall), ffmpeg {f:.2f} s CPU "
              f"({fw:.2f} s wall), ratio {c / f:.3f}", file=sys.stderr)
    rss = peak_rss_mb([a.cine, "play", clip, "--vo=null", "--ao=null", "--quiet",
                       f"--length={min(a.seconds, 20)}"])
    print(f"clip: {clip} (1080p30 H.264 8 Mbit/s + AAC, {a.seconds} s)")
    print(f"decode+present CPU, cine / ffmpeg -f null (median of {a.runs}): "
          f"{statistics.median(ratios):.3f}x  (cine {statistics.median(cine_cpu):.2f} s, "
          f"ffmpeg {statistics.median(ff_cpu):.2f} s)  target <= 1.1x")
    print(f"peak RSS playing 1080p at real pace: {rss:.0f} MB  target <= 250 MB")


if __name__ == "__main__":
    main()
