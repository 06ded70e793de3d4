#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each fuzz target into fuzz/corpus/.

Seeds are requests, responses and command-line values taken from the unit
tests (and the forms the docs name), so fuzzing starts from meaningful
inputs. Stream targets get a control byte first (see fuzz/entries.rs):
bits 0-2 the number of 2-byte cut points that follow, then flags.
Run from anywhere: python3 fuzz/seeds/make_seeds.py
"""
import hashlib
import os
import struct

FUZZ = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(target, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def stream(ctl_flags, cuts, body):
    assert len(cuts) <= 7
    return bytes([ctl_flags | len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts) + body


REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nA;name=value ; x\r\n0123456789\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo HTTP/1.1\nHost: t\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nConnection: foo, close\r\n\r\n",
    b"\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n",
    b"\x01\x02garbage\r\n\r\n",
    b"GET /\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/1.2\r\n\r\n",
    b"GET / FOO/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: [::1]:8888\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: exa@mple:80\r\n\r\n",
    b"GET http://t/echo HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /bytes/100 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /bytes/67108865 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /delay/5 HTTP/1.1\r\nHost: t\r\n\r\nGET /delay/60001 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /bytes/+3 HTTP/1.1\r\nHost: t\r\n\r\nDELETE /nope?x#y HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo?x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcPOST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcPUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 60\r\n\r\n" + b"a" * 60,
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + b"c" * 40 + b"\r\n1\r\nx\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
]

for i, r in enumerate(REQUESTS):
    # max_body 1024 (bits 3-4 = 2), large budget, keep-alive allowed.
    write("server_request", stream(0x10, [], r))
    flags = [0x18, 0x30, 0x50, 0x00, 0x08][i % 5]
    write("server_request", stream(flags, [len(r) // 3, len(r) // 2], r))

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\na\n0123456789\n0\n\n",
    b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end",
    b"HTTP/1.0 200 OK\n\nhello world\n",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
    b"\x00\x00\x12\x04\x00\x00\x00\x00\x00",
    b"\x16\x03\x01\x02\x00\x01",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 80 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + b"e" * 20 + b"\r\nx\r\n0\r\nT: " + b"t" * 20 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc",
    b"HTTP/1.1 200\r\n\r\n",
    b"HTTP/1.1 999 Weird\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\n!",
]
for i, r in enumerate(RESPONSES):
    write("client_response", stream(0x20, [], r))
    flags = [0x00, 0x08, 0x10, 0x30, 0x38][i % 5]
    write("client_response", stream(flags, [len(r) // 4, len(r) // 2, len(r) - 1], r))

WIRE = [
    "0", "512", "100b", "64k", "64KB", "64KiB", " 8 k", "1m", "1MiB", "1g", "1GiB", "2GiB",
    "k", "MiB", "1.5k", "-1", "+1", "18446744073709551615", "18446744073709551616k", "17179869184g",
    "10", "1.5", "10s", "500ms", "2m", "1h30m", "1h 30m", "365days", "0.000000001", "1e3", "inf", "NaN",
    "localhost:8890", "[::1]:8890", ":8890", "[::1]", "host:", "user@host:1", "[::1", "[::1]x", "h:99999",
    "a:b:80",
    "5", "0000000000000005", "ff;ext=1", "A;name=value ; x", "10000000000000000", " 12 ", "12a", "\t7\t",
    "listening on http://127.0.0.1:8890",
    "listening on https://[::1]:8443/ cert=/tmp/c.pem key=/tmp/k.pem",
    "listening on http://127.0.0.1:0 x=",
    "listening on ftp://127.0.0.1:1",
    '{"model":"fork","connections":3,"requests":42,"body_bytes":7}',
    '{"model":"selector","connections":0,"requests":0,"body_bytes":18446744073709551615}',
    '{"model":"sync","connections":1}',
]
for w in WIRE:
    write("wire", w.encode())
write("wire", struct.pack("<Q", 64 << 20))
write("wire", struct.pack("<Q", 2**64 - 1))

CLI = [
    "512", "64k", "64KiB", "1GiB", "2GiB", "10", "1.5", "10s", "500ms", "0", "2m", "1h 30m", "366days",
    "1", "8", " 16 ", "+1", "-1", "18446744073709551616",
    "http://127.0.0.1:8080/delay/10?x=1", "HTTP://h:1/a/b?c=d#frag", "http://h:2?q", "http://[::1]:9/x",
    "https://h/a://b", "http://", "http://user@h/", "http://h:65536/", "localhost:8080",
    "0", "0,2", "1-3,6", "3-1", "1023", "1024", "0-1023",
    "succeeded", "errors", "error_rate", "non2xx", "rps", "mean", "max", "p50", "p99.9", "p99.99", "p100", "P99",
    "p99>50ms", "p99.9>200ms", "max>1s", "mean>10ms", "errors>0", "error_rate>1%", "rps<1000",
    "non2xx>0", "succeeded<1", "p99>=5us", "p50<=5µs", "error_rate>0.01", "p99>>5ms", "p99=>5ms",
    ">5ms", "p99>", "p99>5", "error_rate>101%", "rps<-1", "p75 > 1.5s",
]
for c in CLI:
    write("cli", c.encode())
