#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A minimal IPFIX-over-TCP collector for the tests: accepts connections
on HOST PORT one after another and appends what each sends to FILE. A TCP
stream of IPFIX messages is an IPFIX file (RFC 5655), so ipfixDump reads
FILE as it is. Writes PORT to FILE.ready once listening."""
import socket
import sys

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(4)
with open(path + ".ready", "w") as f:
    f.write("%d\n" % port)
with open(path, "ab", buffering=0) as out:
    while True:
        conn, _ = srv.accept()
        with conn:
            while True:
                d = conn.recv(1 << 16)
                if not d:
                    break
                out.write(d)
