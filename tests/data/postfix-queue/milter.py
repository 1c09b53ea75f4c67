#!/usr/bin/env python3
"""
milter.py - a tiny Sendmail milter (protocol version 6) for make.sh: it
makes Postfix's cleanup edit the headers of a message whose Subject
contains "milter", so that the queue file holds the pointer records Postfix
writes for such edits (as on a server with opendkim & co.).

At end of message it adds "X-Milter-Added: yes" at the end of the header
(SMFIR_ADDHEADER, 'h'), inserts "X-Milter-First: yes" at the top
(SMFIR_INSHEADER) and changes the Subject (SMFIR_CHGHEADER). Every other
event is answered "continue".

Usage: milter.py PORT   (serves until killed)
"""
import socket
import struct
import sys
import threading

MODE = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data


def serve(conn):
    want = False
    with conn:
        f = conn.makefile("rb")
        while True:
            head = f.read(4)
            if len(head) < 4:
                return
            n = struct.unpack("!I", head)[0]
            body = f.read(n)
            cmd, data = body[:1], body[1:]
            if cmd == b"O":
                # version 6; may add and change headers; all events, with replies
                conn.sendall(packet(b"O", struct.pack("!III", 6, 0x01 | 0x10, 0)))
            elif cmd in (b"D", b"A"):
                if cmd == b"A":
                    want = False
            elif cmd == b"Q":
                return
            elif cmd == b"L":
                name, value = data.split(b"\0")[:2]
                if name.lower() == b"subject" and b"milter" in value:
                    want = True
                conn.sendall(packet(b"c"))
            elif cmd == b"E":
                if want:
                    conn.sendall(packet(b"h", b"X-Milter-Added\0yes\0"))
                    if MODE >= 2:
                        conn.sendall(packet(b"i", struct.pack("!I", 1) + b"X-Milter-First\0yes\0"))
                    if MODE >= 3:
                        conn.sendall(packet(b"m", struct.pack("!I", 1) + b"Subject\0milter edited\0"))
                want = False
                conn.sendall(packet(b"c"))
            else:
                conn.sendall(packet(b"c"))


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(5)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
