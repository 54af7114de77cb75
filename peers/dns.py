"""Local DNS peer: a loopback DNS server answering from test-controlled records, with injectable faults.

One job: serve DNS (UDP and TCP on the same ephemeral port of 127.0.0.1) from an in-memory record set
so the bot's resolver (``SESBOT_DNS_SERVERS=peer.server_spec``) sees real DNS answers: records, NODATA,
NXDOMAIN, CNAME chains, truncation + TCP retry, SERVFAIL/REFUSED, dropped queries and slow answers.

Semantics (what a recursive resolver would report if the peer's records were the whole DNS):

- an existing name asked for a type it lacks -> NOERROR, empty answer (NODATA) + the zone's SOA in the
  authority section (dnspython: ``NoAnswer``); an empty non-terminal (a name with no records but with
  records below it, e.g. ``_domainkey.example.com``) is an existing name too;
- a name with no records and nothing below it -> NXDOMAIN (+ SOA if an enclosing zone has one);
- a CNAME answers for every type but CNAME itself, and is followed through the peer's records: the
  answer holds the chain and the target's records; a chain ending at a missing name is NXDOMAIN, one
  ending at a name without the type is NODATA. A CNAME wins over other data at the same name;
- names are case-insensitive; ``ANY`` returns every record at the name; no wildcard records;
- UDP answers larger than 512 bytes (or the query's EDNS size) come back truncated (TC) and the
  client retries over TCP, as with a real server.

dnslib's own ``ZoneResolver`` is not used: it answers NXDOMAIN where NODATA is right.
dnslib's socketservers handle each request in its own thread, so delays do not serialise queries.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import re
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dnslib import EDNS0, QTYPE, RCODE, RR, SOA, TXT, DNSBuffer, DNSError, DNSHeader, DNSLabel, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer
from dnslib.server import TCPServer as _DnslibTCPServer
from dnslib.server import UDPServer as _DnslibUDPServer

from peers.base import LOOPBACK, LoopbackPeer

__all__ = ["DEFAULT_LISTING_TXT", "FAULT_KINDS", "DnsPeer", "FaultKind"]

FaultKind = Literal["servfail", "refused", "timeout"]
FAULT_KINDS: tuple[str, ...] = ("servfail", "refused", "timeout")
DEFAULT_LISTING_TXT = "Listed: see https://dnsbl.example.invalid/lookup"

_MAX_UDP = 512
_MAX_CNAME_CHAIN = 16


def _norm(name: str) -> str:
    """Lower-case, no trailing dot ("" is the root)."""
    name = str(name).strip().lower()
    return "" if name == "." else name.rstrip(".")


def _is_at_or_below(name: str, zone: str) -> bool:
    return zone == "" or name == zone or name.endswith("." + zone)


def _parents(name: str) -> Iterable[str]:
    """`name` and each enclosing name up to the root: a.b.c, b.c, c, ''."""
    while name:
        yield name
        _, _, name = name.partition(".")
    yield ""


# --- TXT values -----------------------------------------------------------------------------------------


def _parse_character_strings(text: str) -> list[bytes]:
    """Zone-file <character-string>s: quoted ("a b" "c"), with \\" \\\\ \\DDD escapes, or bare words."""
    out: list[bytes] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        buf = bytearray()
        quoted = text[i] == '"'
        if quoted:
            i += 1
        while i < n:
            ch = text[i]
            if quoted and ch == '"':
                i += 1
                break
            if not quoted and ch.isspace():
                break
            if ch == "\\" and i + 1 < n:
                if text[i + 1 : i + 4].isdigit() and len(text[i + 1 : i + 4]) == 3:
                    buf.append(int(text[i + 1 : i + 4]) & 0xFF)
                    i += 4
                    continue
                buf.extend(text[i + 1].encode())
                i += 2
                continue
            buf.extend(ch.encode())
            i += 1
        else:
            if quoted:
                raise ValueError(f"unterminated quoted string in TXT value {text!r}")
        out.append(bytes(buf))
    return out


def _txt_rdata(value: str | bytes | Iterable[str | bytes]) -> TXT:
    """A TXT value: an unquoted string is one logical string; quoted strings are taken as written.
    Every string longer than 255 bytes is split into 255-byte pieces (as DNS publishing tools do)."""
    if isinstance(value, bytes):
        parts = [value]
    elif isinstance(value, str):
        stripped = value.strip()
        parts = _parse_character_strings(stripped) if stripped.startswith('"') else [value.encode()]
    else:
        parts = [p if isinstance(p, bytes) else p.encode() for p in value]
    chunks: list[bytes] = []
    for part in parts or [b""]:
        if not part:
            chunks.append(b"")
        chunks.extend(part[i : i + 255] for i in range(0, len(part), 255))
    return TXT(chunks)


# --- records --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    rtype: int
    rdata: Any
    ttl: int

    def key(self) -> tuple[int, bytes]:
        buffer = DNSBuffer()
        self.rdata.pack(buffer)
        return (self.rtype, bytes(buffer.data))


def _qtype_number(rtype: str | int) -> int:
    if isinstance(rtype, int):
        return rtype
    try:
        return int(getattr(QTYPE, rtype.strip().upper()))
    except Exception:  # dnslib raises its own Bimap error
        raise ValueError(f"unknown DNS record type {rtype!r}") from None


def _make_rdata(rtype: int, value: Any, origin: str = "") -> Any:
    if rtype == QTYPE.TXT:
        return _txt_rdata(value)
    if not isinstance(value, str):
        return value  # already a dnslib RD
    name = "example.invalid."
    try:
        rrs = RR.fromZone(f"{name} 300 IN {QTYPE[rtype]} {value}", origin=origin)
    except Exception as exc:
        raise ValueError(f"bad {QTYPE[rtype]} value {value!r}: {exc}") from exc
    if len(rrs) != 1:
        raise ValueError(f"bad {QTYPE[rtype]} value {value!r}")
    return rrs[0].rdata


# --- server plumbing ------------------------------------------------------------------------------------


class _QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-error,-data", prefix=False)


class _Handler(DNSHandler):
    """Like dnslib's handler, but a resolver answer of None means "drop" and UDP answers are truncated
    to the client's size (512, or its EDNS payload size) with the TC bit, keeping the question."""

    def handle(self) -> None:
        peer: DnsPeer = self.server.peer
        tcp = self.server.socket_type == socket.SOCK_STREAM
        try:
            if tcp:
                data = self._read_tcp()
                if data is None:
                    return
            else:
                data, sock = self.request
            try:
                request = DNSRecord.parse(data)
            except DNSError:
                return
            reply = peer._resolve(request)
            if reply is None:  # dropped: on TCP hold the connection open without answering
                if tcp:
                    peer._stopping.wait(30)
                return
            wire = reply.pack()
            if tcp:
                self.request.sendall(struct.pack("!H", len(wire)) + wire)
            else:
                limit = _MAX_UDP
                for ar in request.ar:
                    if ar.rtype == QTYPE.OPT:
                        limit = max(_MAX_UDP, min(int(ar.rclass), 4096))
                if len(wire) > limit:
                    wire = _truncated(reply).pack()
                sock.sendto(wire, self.client_address)
        except OSError:
            return  # client went away or the peer stopped

    def _read_tcp(self) -> bytes | None:
        data = b""
        while len(data) < 2:
            chunk = self.request.recv(8192)
            if not chunk:
                return None
            data += chunk
        (length,) = struct.unpack("!H", data[:2])
        while len(data) - 2 < length:
            chunk = self.request.recv(8192)
            if not chunk:
                return None
            data += chunk
        return data[2 : 2 + length]


def _truncated(reply: DNSRecord) -> DNSRecord:
    header = DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap, qr=1)
    header.tc = 1
    header.rcode = reply.header.rcode
    return DNSRecord(header, q=reply.q)


class _UDPServer(_DnslibUDPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet, per-test peers
        pass


class _TCPServer(_DnslibTCPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass(frozen=True)
class _Match:
    """Which names a fault/delay applies to: exactly `name`, strictly below it, or both."""

    name: str
    at: bool
    below: bool

    @classmethod
    def parse(cls, name: str, suffix: bool) -> _Match:
        text = name.strip()
        if text.startswith("*."):
            return cls(_norm(text[2:]), at=False, below=True)
        return cls(_norm(text), at=True, below=suffix)

    def matches(self, qname: str) -> bool:
        if qname == self.name:
            return self.at
        return self.below and _is_at_or_below(qname, self.name)

    @property
    def specificity(self) -> tuple[int, int]:
        return (int(self.at and not self.below), len(self.name))


# --- the peer -------------------------------------------------------------------------------------------


class DnsPeer(LoopbackPeer):
    """In-memory DNS server on 127.0.0.1 (UDP + TCP, same ephemeral port), in background threads.

    >>> with DnsPeer() as peer:
    ...     peer.add("example.com", "MX", "10 inbound-smtp.us-east-1.amazonaws.com.")
    ...     resolver.nameservers, resolver.port = ["127.0.0.1"], peer.port
    """

    scheme = "dns"
    join_timeout = 2.0

    def __init__(self, host: str = LOOPBACK, *, tcp: bool = True) -> None:
        super().__init__(host)
        self.tcp = tcp
        self.queries: list[tuple[str, str]] = []
        self._records: dict[str, list[_Record]] = {}
        self._faults: list[tuple[_Match, str]] = []
        self._delays: list[tuple[_Match | None, float]] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._servers: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------------------
    @property
    def server_spec(self) -> str:
        """The peer as a ``SESBOT_DNS_SERVERS`` entry: ``host:port``."""
        return f"{self.host}:{self.port}"

    def _serve(self) -> int:
        self._stopping.clear()
        udp, tcp, port = self._bind()
        self._servers = [s for s in (udp, tcp) if s is not None]
        for srv in self._servers:
            proto = "tcp" if srv.server.socket_type == socket.SOCK_STREAM else "udp"
            self._serve_forever(srv.server, f"dns-peer-{proto}-{port}")
        return port

    def _bind(self) -> tuple[DNSServer, DNSServer | None, int]:
        # UDP first on port 0, then TCP on the same number; another process may hold that TCP port,
        # so retry with a fresh UDP port.
        last: OSError | None = None
        for _ in range(50):
            udp = DNSServer(self, address=self.host, port=0, logger=_QuietLogger(), handler=_Handler, server=_UDPServer)
            udp.server.peer = self
            port = udp.server.server_address[1]
            if not self.tcp:
                return udp, None, port
            try:
                tcp = DNSServer(
                    self,
                    address=self.host,
                    port=port,
                    tcp=True,
                    logger=_QuietLogger(),
                    handler=_Handler,
                    server=_TCPServer,
                )
            except OSError as exc:
                udp.server.server_close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                last = exc
                continue
            tcp.server.peer = self
            return udp, tcp, port
        raise RuntimeError(f"no free UDP+TCP port pair on {self.host}") from last

    def _shutdown(self) -> None:
        self._stopping.set()  # wakes delayed and dropped requests
        # socketserver.shutdown() waits for the next poll of serve_forever: shut both servers down in
        # parallel and poke them so their select() returns at once.
        stoppers = [threading.Thread(target=srv.server.shutdown, daemon=True) for srv in self._servers]
        for thread in stoppers:
            thread.start()
        if self._servers:
            self._poke(self._servers[0].server.server_address[1])
        for thread in stoppers:
            thread.join(timeout=2)
        for srv in self._servers:
            srv.server.server_close()
        self._servers.clear()

    def _poke(self, port: int) -> None:
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"", (self.host, port))
        if self.tcp:
            with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.settimeout(0.2)
                tcp.connect((self.host, port))

    def __repr__(self) -> str:
        return f"DnsPeer({self.host}:{self._port or 0}, {sum(map(len, self._records.values()))} records)"

    # -- records ---------------------------------------------------------------------------------------
    def add(self, name: str, rtype: str | int, value: Any, ttl: int = 300) -> None:
        """Add one record; `value` in zone-file syntax (``"10 mx1.example.com."``, ``"0 ."``, an SOA's seven
        fields...). A TXT value is one string (split into 255-byte pieces) unless it starts with a quote,
        in which case it is read as zone-file quoted strings. Identical records are not duplicated."""
        self._add(name, rtype, value, ttl)

    def _add(self, name: str, rtype: str | int, value: Any, ttl: int, origin: str = "") -> None:
        number = _qtype_number(rtype)
        record = _Record(number, _make_rdata(number, value, origin), int(ttl))
        key = _norm(name)
        with self._lock:
            records = self._records.setdefault(key, [])
            for i, existing in enumerate(records):
                if existing.key() == record.key():
                    records[i] = record
                    return
            records.append(record)

    def remove(self, name: str, rtype: str | int | None = None) -> int:
        """Remove the records of `name` (only those of `rtype` if given); returns how many went."""
        key = _norm(name)
        number = None if rtype is None else _qtype_number(rtype)
        with self._lock:
            records = self._records.get(key, [])
            kept = [r for r in records if number is not None and r.rtype != number]
            removed = len(records) - len(kept)
            if kept:
                self._records[key] = kept
            else:
                self._records.pop(key, None)
            return removed

    def clear(self) -> None:
        """Remove every record (faults, delays and the query log stay)."""
        with self._lock:
            self._records.clear()

    def load(self, records: Iterable[tuple[Any, ...]]) -> None:
        """Add ``(name, rtype, value)`` or ``(name, rtype, value, ttl)`` tuples."""
        for rec in records:
            self.add(*rec)

    def load_zone_text(self, text: str, default_ttl: int = 300) -> int:
        """Add records from zone-file text; returns how many lines were loaded.

        Subset: ``name [ttl] [IN] TYPE rdata`` lines, ``;`` comments (not inside quotes), ``( ... )``
        across lines, ``$TTL``, ``$ORIGIN`` and ``@``; a line starting with blanks reuses the previous
        name. Without ``$ORIGIN`` names are absolute (the trailing dot is optional)."""
        origin = ""
        ttl_default = default_ttl
        last_name: str | None = None
        count = 0
        for raw in _logical_lines(text):
            if not raw.strip():
                continue
            tokens = raw.split()
            if tokens[0].upper() == "$TTL":
                ttl_default = int(tokens[1])
                continue
            if tokens[0].upper() == "$ORIGIN":
                origin = _norm(tokens[1])
                continue
            if raw[0].isspace():
                if last_name is None:
                    raise ValueError(f"zone line without a name: {raw!r}")
                name = last_name
                rest = raw.strip()
            else:
                first, rest = _split_token(raw)
                name = _absolute(first, origin)
            ttl = ttl_default
            while True:
                token, after = _split_token(rest)
                if token.isdigit():
                    ttl, rest = int(token), after
                elif token.upper() in ("IN", "CH", "HS"):
                    rest = after
                else:
                    break
            rtype, value = _split_token(rest)
            self._add(name, rtype, value.strip(), ttl, origin=origin + "." if origin else "")
            last_name = name
            count += 1
        return count

    # -- DNSBL helpers ---------------------------------------------------------------------------------
    def list_ip(
        self,
        zone: str,
        ip: str,
        code: str | Iterable[str] = "127.0.0.2",
        txt: str | None = DEFAULT_LISTING_TXT,
    ) -> str:
        """List `ip` (IPv4: reversed octets, IPv6: reversed nibbles) in DNSBL `zone`: A `code` (one or
        several) and, unless `txt` is None, a TXT reason. Returns the listed name."""
        addr = ipaddress.ip_address(ip)
        rev = addr.reverse_pointer.rsplit(".", 2)[0]  # drop in-addr.arpa / ip6.arpa
        return self._list(f"{rev}.{_norm(zone)}", code, txt)

    def list_domain(
        self,
        zone: str,
        domain: str,
        code: str | Iterable[str] = "127.0.1.2",
        txt: str | None = DEFAULT_LISTING_TXT,
    ) -> str:
        """List `domain` in domain blocklist `zone` (``<domain>.<zone>``); returns the listed name."""
        return self._list(f"{_norm(domain)}.{_norm(zone)}", code, txt)

    def _list(self, name: str, code: str | Iterable[str], txt: str | None) -> str:
        for c in [code] if isinstance(code, str) else code:
            self.add(name, "A", c)
        if txt is not None:
            self.add(name, "TXT", txt)
        return name

    # -- faults ----------------------------------------------------------------------------------------
    def fault(self, name: str, kind: FaultKind, *, suffix: bool = False) -> None:
        """Make queries for `name` fail: ``servfail``, ``refused`` or ``timeout`` (never answered).
        ``"*.zone"`` matches names strictly below zone; ``suffix=True`` matches the name and below.
        The most specific fault wins (exact name, then the longest suffix)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append((_Match.parse(name, suffix), kind))

    def delay(self, seconds: float, name: str | None = None, *, suffix: bool = False) -> None:
        """Answer matching queries (all queries if `name` is None) after `seconds`. Each request is
        handled in its own thread, so delayed queries overlap rather than queue."""
        with self._lock:
            self._delays.append((None if name is None else _Match.parse(name, suffix), float(seconds)))

    def clear_faults(self) -> None:
        """Remove every fault and delay."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    # -- resolution ------------------------------------------------------------------------------------
    def _resolve(self, request: DNSRecord) -> DNSRecord | None:
        q = request.q
        qname = _norm(str(q.qname))
        qtype = int(q.qtype)
        with self._lock:
            self.queries.append((qname, QTYPE[qtype]))
            fault = self._fault_for(qname)
            delay = max((s for m, s in self._delays if m is None or m.matches(qname)), default=0.0)
        if delay > 0 and self._stopping.wait(delay):
            return None
        if fault == "timeout":
            return None
        reply = request.reply(ra=1, aa=1)
        if any(ar.rtype == QTYPE.OPT for ar in request.ar):
            reply.add_ar(EDNS0(udp_len=1232))
        if fault == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if fault == "refused":
            reply.header.rcode = RCODE.REFUSED
            return reply
        if q.qclass != 1 and qtype != QTYPE.ANY:
            reply.header.rcode = RCODE.REFUSED
            return reply
        with self._lock:
            self._answer(reply, qname, qtype)
        return reply

    def _fault_for(self, qname: str) -> str | None:
        hits = [(m.specificity, i, kind) for i, (m, kind) in enumerate(self._faults) if m.matches(qname)]
        return max(hits)[2] if hits else None

    def _answer(self, reply: DNSRecord, qname: str, qtype: int) -> None:
        name = qname
        seen: set[str] = set()
        for _ in range(_MAX_CNAME_CHAIN):
            records = self._records.get(name)
            if records:
                cname = next((r for r in records if r.rtype == QTYPE.CNAME), None)
                if cname is not None and qtype not in (QTYPE.CNAME, QTYPE.ANY):
                    reply.add_answer(RR(DNSLabel(name), QTYPE.CNAME, ttl=cname.ttl, rdata=cname.rdata))
                    seen.add(name)
                    target = _norm(str(cname.rdata.label))
                    if target in seen:  # CNAME loop: what a resolver reports
                        reply.header.rcode = RCODE.SERVFAIL
                        return
                    name = target
                    continue
                matches = [r for r in records if qtype == QTYPE.ANY or r.rtype == qtype]
                for r in matches:
                    reply.add_answer(RR(DNSLabel(name), r.rtype, ttl=r.ttl, rdata=r.rdata))
                if not matches:
                    self._add_soa(reply, name)  # NODATA
                return
            if self._is_empty_non_terminal(name):
                self._add_soa(reply, name)  # NODATA
                return
            reply.header.rcode = RCODE.NXDOMAIN
            self._add_soa(reply, name)
            return
        reply.header.rcode = RCODE.SERVFAIL  # chain too long

    def _is_empty_non_terminal(self, name: str) -> bool:
        suffix = "." + name
        return any(key.endswith(suffix) for key in self._records)

    def _add_soa(self, reply: DNSRecord, name: str) -> None:
        for zone in _parents(name):
            for r in self._records.get(zone, ()):
                if r.rtype == QTYPE.SOA:
                    soa: SOA = r.rdata
                    ttl = min(r.ttl, int(soa.times[-1]))  # negative-caching TTL (RFC 2308)
                    reply.add_auth(RR(DNSLabel(zone or "."), QTYPE.SOA, ttl=ttl, rdata=soa))
                    return


# --- zone text helpers ----------------------------------------------------------------------------------


def _strip_comment(line: str) -> str:
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return line[:i]
    return line


def _logical_lines(text: str) -> Iterable[str]:
    """Zone lines without comments, with ``( ... )`` groups joined into one line."""
    pending: list[str] = []
    depth = 0
    for raw in text.splitlines():
        line = _strip_comment(raw)
        outside = re.sub(r'"(?:\\.|[^"\\])*"', "", line)
        depth += outside.count("(") - outside.count(")")
        if "(" in outside or ")" in outside:
            line = _remove_parens(line)
        pending.append(line if not pending else " " + line.strip())
        if depth <= 0:
            yield "".join(pending).rstrip()
            pending, depth = [], 0
    if pending:
        yield "".join(pending).rstrip()


def _remove_parens(line: str) -> str:
    out, quoted = [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch in "()" and not quoted:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _split_token(text: str) -> tuple[str, str]:
    text = text.lstrip()
    parts = text.split(None, 1)
    if not parts:
        raise ValueError("incomplete zone line")
    return parts[0], (parts[1] if len(parts) > 1 else "")


def _absolute(name: str, origin: str) -> str:
    if name == "@":
        return origin
    if name.endswith(".") or not origin:
        return _norm(name)
    return _norm(f"{name}.{origin}")
