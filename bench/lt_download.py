#!/usr/bin/python3
"""Plain libtorrent download of a .torrent: the throughput reference of bench/streaming_bench.py.

Runs under Debian's python3 with python3-libtorrent (the same libtorrent 2.0 that Cine links).
Settings mirror a plain client on a loopback swarm: no DHT/LSD/UPnP/NAT-PMP, listen on
127.0.0.1, several connections per IP (every peer is 127.0.0.1), no rate limits; peers come from
the torrent's tracker (and from --peer, if given). Prints one JSON line when the download
finished: {"finished": seconds since this program started, "downloaded": payload bytes}.

Usage: lt_download.py TORRENT SAVE_DIR [--listen=PORT] [--peer=HOST:PORT ...] [--timeout=S] [--no-utp]
"""
import json
import sys
import time

T0 = time.monotonic()

import libtorrent as lt  # noqa: E402  (import time counts, as a program's start-up does)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = [a for a in sys.argv[1:] if a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    torrent, save = args
    listen, timeout, peers, utp, iface = 7100, 600.0, [], True, "127.0.0.1"
    for o in opts:
        k, _, v = o[2:].partition("=")
        if k == "listen":
            listen = int(v)
        elif k == "timeout":
            timeout = float(v)
        elif k == "interface":
            iface = v
        elif k == "no-utp":  # TCP only (diagnosis: libtorrent tries uTP first between its peers)
            utp = False
        elif k == "peer":
            host, _, port = v.rpartition(":")
            peers.append((host, int(port)))
        else:
            sys.exit(f"unknown option {o}")

    ses = lt.session({
        "listen_interfaces": f"{iface}:{listen}",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "allow_multiple_connections_per_ip": True,
        "enable_outgoing_utp": utp, "enable_incoming_utp": utp,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save
    h = ses.add_torrent(atp)
    for p in peers:
        h.connect_peer(p)
    deadline = T0 + timeout
    next_report = time.monotonic() + 1
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        if time.monotonic() >= next_report:  # a progress line a second on stderr, for the log
            next_report += 1
            st = h.status()
            print(json.dumps({"t": round(time.monotonic() - T0, 3), "downloaded": st.total_payload_download,
                              "rate": st.download_payload_rate, "peers": st.num_peers,
                              "pieces": st.num_pieces}), file=sys.stderr, flush=True)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_finished_alert):
                t = time.monotonic() - T0
                st = h.status()
                print(json.dumps({"finished": t, "downloaded": st.total_payload_download}), flush=True)
                return
            if isinstance(a, lt.torrent_error_alert):
                sys.exit(f"error: {a.message()}")
    sys.exit("timed out")


if __name__ == "__main__":
    main()
