#!/usr/bin/env python3
"""A point-to-point link with delay and random loss, in user space (this kernel has no netem).

Usage: wan_link.py DEV_A DEV_B RTT_MS LOSS_PCT [SEED]

Creates two TUN devices, DEV_A and DEV_B, prints "ready" on stdout, and from then on carries
every IP packet written to one out of the other, RTT_MS / 2 later, dropping LOSS_PCT % of the
packets in each direction at random (independently, like netem's `loss` on both ends). The
caller moves one device into another network namespace and gives both an address; the link
lives as long as this process. Packets keep their order. No bandwidth cap: the benchmark's
seeders are rate-limited themselves.
"""
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.strip().splitlines()[2])
    dev_a, dev_b = sys.argv[1], sys.argv[2]
    one_way = float(sys.argv[3]) / 2000.0
    loss = float(sys.argv[4]) / 100.0
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) == 6 else None)
    a, b = open_tun(dev_a), open_tun(dev_b)
    other = {a: b, b: a}
    print("ready", flush=True)
    queue, seq = [], 0           # (due, seq, fd to write, packet)
    carried = dropped = 0
    next_report = time.monotonic() + 10
    while True:
        now = time.monotonic()
        if now >= next_report:
            print(f"carried {carried} packets, dropped {dropped}", flush=True)
            next_report = now + 10
        while queue and queue[0][0] <= now:
            _, _, fd, pkt = heapq.heappop(queue)
            try:
                os.write(fd, pkt)
            except OSError:      # the device went down: the packet is lost, as on a wire
                pass
        timeout = max(0.0, min(queue[0][0], next_report) - time.monotonic()) if queue else 1.0
        ready, _, _ = select.select([a, b], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if loss > 0 and rng.random() < loss:
                    dropped += 1
                    continue
                carried += 1
                seq += 1
                heapq.heappush(queue, (now + one_way, seq, other[fd], pkt))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
