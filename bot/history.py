"""Reading the event history: what happened to a recipient or a domain, and the figures alerts need.

Problem events (bounce, complaint, delay, reject, rendering failure) are rows of `events`; high-volume
events (send, delivery, open, click, subscription) are only counted per hour in `counters`, except that each
recipient's latest delivery time is kept in `last_delivery`, and Send events' unsubscribe headers are
summed per day, configuration set and From in `header_sample`. Writers live in `bot.ingest`; every function
here only reads.

Time windows are half-open, `[since, until)`, and both tables are read on the same hour grid: `since` is
floored to its hour, because counters have no finer grain (a rate must divide counts of the same window).

Indexes that keep these fast on millions of rows (`bot.store` migrations):
`events (recipient, timestamp)` and `(domain, timestamp)` for the lookups, `events_type_ts_rate (type,
timestamp, bounce_type, bounce_subtype, complaint_subtype, config_set)` so the rate queries never touch the
table, partial indexes for blocklist events and sending IPs, and `counters`' own primary key
`(hour, type, domain, config_set)`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.store import Store, iso

# Bounces SES never attempted (the address was suppressed): they do not count toward the bounce rate.
NOT_COUNTED_SUBTYPES = ("OnAccountSuppressionList", "Suppressed")
BLOCKLIST_CATEGORIES = ("ip_blocklist", "domain_blocklist")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# What counts toward the SES rates, as SQL over `events` (one definition for the rate and its series): a hard
# bounce SES attempted (not suppressed) and not from a blocklisted IP or domain; a complaint not on a
# suppressed address.
COUNTED_HARD_BOUNCE = (
    "(type = 'Bounce' AND bounce_type = 'Permanent'"
    f" AND coalesce(bounce_subtype, '') NOT IN ({_sql_list(NOT_COUNTED_SUBTYPES)})"
    f" AND coalesce(category, '') NOT IN ({_sql_list(BLOCKLIST_CATEGORIES)}))"
)
COUNTED_COMPLAINT = "(type = 'Complaint' AND coalesce(complaint_subtype, '') <> 'OnAccountSuppressionList')"


def recipient_events(
    store: Store,
    recipient: str,
    *,
    since: datetime | None = None,
    types: tuple[str, ...] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Events for one address, newest first (addresses are stored lower-cased, so any case finds them)."""
    return _select(store, ["recipient = ?"], [recipient.strip().lower()], since, types, limit)


def last_delivery(store: Store, recipient: str) -> str | None:
    """When mail to this address was last delivered (the store's timestamp format), or None if never seen.

    Only the latest time is kept, per lower-cased address, for as long as the retention keeps events.
    """
    row = store.conn.execute("SELECT at FROM last_delivery WHERE recipient = ?", [recipient.strip().lower()]).fetchone()
    return row[0] if row else None


def domain_events(
    store: Store,
    domain: str,
    *,
    since: datetime | None = None,
    types: tuple[str, ...] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Events for every address at one domain, newest first."""
    return _select(store, ["domain = ?"], [domain.strip().lower().rstrip(".")], since, types, limit)


def _select(
    store: Store,
    where: list[str],
    params: list[Any],
    since: datetime | None,
    types: tuple[str, ...] | None,
    limit: int,
) -> list[dict[str, Any]]:
    if since is not None:
        where.append("timestamp >= ?")
        params.append(iso(since))
    if types:
        where.append(f"type IN ({', '.join('?' for _ in types)})")
        params.extend(types)
    sql = f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY timestamp DESC LIMIT ?"
    params.append(int(limit))
    return store.query(sql, params)


def _window(since: datetime, until: datetime) -> tuple[str, str]:
    """The hours `[since, until)` covers, as hour keys ('YYYY-MM-DDTHH'): each end rounded up to the hour.

    The counters only know whole hours, so the events are read over the same hours: 'YYYY-MM-DDTHH' sorts
    before every timestamp of its hour, so it bounds the counters' keys and the events' timestamps alike.
    Rounding both ends the same way makes back-to-back windows share no hour (the digest's day and the day
    before), and a window ending now still holds the current hour."""
    return _hour_up(since), _hour_up(until)


def _hour_up(t: datetime) -> str:
    floored = t.replace(minute=0, second=0, microsecond=0)
    return iso(floored if floored == t else floored + timedelta(hours=1))[:13]


def rate_estimate(
    store: Store,
    since: datetime,
    until: datetime,
    config_set: str | None = None,
) -> dict[str, Any]:
    """Bounce and complaint rates recomputed from history over `[since, until)`: an estimate.

    AWS computes the real rates over a "representative volume" (CloudWatch `Reputation.BounceRate` is the
    authoritative figure); this is what the bot saw. Only hard bounces that count toward the SES bounce rate
    are counted (`Permanent`, not `OnAccountSuppressionList`/`Suppressed`, not from a blocklisted IP or
    domain), and complaints on suppressed
    addresses (`complaintSubType` `OnAccountSuppressionList`) are left out. When no Send events are
    published (legacy feedback notifications only), sends are estimated as deliveries + bounces and
    `sends_estimated` is true. Rates are fractions (0.05 = 5 %), None when nothing was sent.

        {"sends": 1000, "deliveries": 960, "hard_bounces_counted": 30, "bounces": 38, "complaints": 1,
         "bounce_rate": 0.03, "complaint_rate": 0.001, "sends_estimated": False, "since": ..., "until": ...}
    """
    lo, hi = _window(since, until)
    cs_sql, cs_params = ("AND config_set = ?", [config_set]) if config_set is not None else ("", [])
    counted = dict(
        store.conn.execute(
            "SELECT type, sum(count) FROM counters "
            f"WHERE hour >= ? AND hour < ? AND type IN ('Send', 'Delivery') {cs_sql} GROUP BY type",
            [lo, hi, *cs_params],
        ).fetchall()
    )
    row = store.conn.execute(
        f"SELECT coalesce(sum({COUNTED_HARD_BOUNCE}), 0), coalesce(sum(type = 'Bounce'), 0), "
        f"  coalesce(sum({COUNTED_COMPLAINT}), 0) "
        "FROM events WHERE type IN ('Bounce', 'Complaint') AND timestamp >= ? AND timestamp < ? "
        f"{cs_sql}",
        [lo, hi, *cs_params],
    ).fetchone()
    hard, bounces, complaints = row
    sends = int(counted.get("Send") or 0)
    deliveries = int(counted.get("Delivery") or 0)
    estimated = False
    if sends == 0 and (deliveries or bounces):
        sends, estimated = deliveries + bounces, True
    return {
        "sends": sends,
        "deliveries": deliveries,
        "hard_bounces_counted": hard,
        "bounces": bounces,
        "complaints": complaints,
        "bounce_rate": hard / sends if sends else None,
        "complaint_rate": complaints / sends if sends else None,
        "sends_estimated": estimated,
        "since": lo + ":00:00.000Z",
        "until": hi + ":00:00.000Z",
    }


def hourly_series(
    store: Store,
    since: datetime,
    until: datetime,
    config_set: str | None = None,
) -> list[dict[str, Any]]:
    """One point per hour of `[since, until)`, oldest first, zeros included (for sparklines).

    Each point: `hour` ('YYYY-MM-DDTHH'), `sends`, `deliveries`, `hard_bounces_counted`, `bounces`,
    `complaints`, `delays`, `rejects`; hard bounces and complaints are counted as `rate_estimate` counts them.
    As there, sends are estimated as deliveries + bounces only when no Send event reached the bot in the whole
    window; otherwise an hour without Send events has 0 sends (no rate), whatever bounced in it.
    """
    lo, hi = _window(since, until)
    cs_sql, cs_params = ("AND config_set = ?", [config_set]) if config_set is not None else ("", [])
    points: dict[str, dict[str, Any]] = {}
    start = datetime.fromisoformat(lo + ":00:00+00:00")
    hour = start
    while iso(hour) < hi:
        key = iso(hour)[:13]
        points[key] = {
            "hour": key,
            "sends": 0,
            "deliveries": 0,
            "hard_bounces_counted": 0,
            "bounces": 0,
            "complaints": 0,
            "delays": 0,
            "rejects": 0,
        }
        hour += timedelta(hours=1)
    for h, etype, n in store.conn.execute(
        "SELECT hour, type, sum(count) FROM counters "
        f"WHERE hour >= ? AND hour < ? AND type IN ('Send', 'Delivery') {cs_sql} GROUP BY hour, type",
        [lo, hi, *cs_params],
    ):
        if h in points:
            points[h]["sends" if etype == "Send" else "deliveries"] += n
    for h, hard, bounces, complaints, delays, rejects in store.conn.execute(
        f"SELECT substr(timestamp, 1, 13) AS h, sum({COUNTED_HARD_BOUNCE}), sum(type = 'Bounce'), "
        f"  sum({COUNTED_COMPLAINT}), sum(type = 'DeliveryDelay'), sum(type = 'Reject') "
        "FROM events WHERE type IN ('Bounce', 'Complaint', 'DeliveryDelay', 'Reject') "
        f"AND timestamp >= ? AND timestamp < ? {cs_sql} GROUP BY h",
        [lo, hi, *cs_params],
    ):
        p = points.get(h)
        if p is not None:
            p.update(
                hard_bounces_counted=hard,
                bounces=bounces,
                complaints=complaints,
                delays=delays,
                rejects=rejects,
            )
    if not any(p["sends"] for p in points.values()):
        # No Send events in the whole window (legacy notifications only): the estimate `rate_estimate` makes.
        # With Send events published, an hour without any (late bounces of earlier mail) has no figure.
        for p in points.values():
            p["sends"] = p["deliveries"] + p["bounces"]
    return list(points.values())


def blocklist_events(
    store: Store,
    since: datetime,
    until: datetime | None = None,
    *,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Bounces and delays whose text names an IP or domain blocklist, newest first."""
    params: list[Any] = [iso(since)]
    upper = ""
    if until is not None:
        upper = "AND timestamp < ?"
        params.append(iso(until))
    params.append(int(limit))
    return store.query(
        "SELECT * FROM events WHERE category IN ('ip_blocklist', 'domain_blocklist') "
        f"AND timestamp >= ? {upper} ORDER BY timestamp DESC LIMIT ?",
        params,
    )


def sending_ips(store: Store, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
    """The sending IPs named in problem events since `since`, most events first.

    Each: `ip`, `events`, `first_seen`, `last_seen`, `blocklists` (names seen with it, sorted),
    `categories` (sorted), `domains` (how many recipient domains refused it).
    """
    params: list[Any] = [iso(since)]
    upper = ""
    if until is not None:
        upper = "AND timestamp < ?"
        params.append(iso(until))
    rows = store.query(
        "SELECT sending_ip AS ip, count(*) AS events, "
        "  min(timestamp) AS first_seen, max(timestamp) AS last_seen, "
        "  group_concat(DISTINCT blocklist) AS blocklists, group_concat(DISTINCT category) AS categories, "
        "  count(DISTINCT domain) AS domains "
        f"FROM events WHERE sending_ip IS NOT NULL AND timestamp >= ? {upper} "
        "GROUP BY sending_ip ORDER BY events DESC, ip",
        params,
    )
    for r in rows:
        r["blocklists"] = sorted(set(filter(None, (r["blocklists"] or "").split(","))))
        r["categories"] = sorted(set(filter(None, (r["categories"] or "").split(","))))
    return rows


def counted(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    domain: str | None = None,
    types: tuple[str, ...] = ("Send", "Delivery", "Open", "Click", "Subscription"),
) -> dict[str, int]:
    """Counted (high-volume) events per type over `[since, until)`, optionally for one recipient domain."""
    lo, hi = _window(since, until)
    where = f"hour >= ? AND hour < ? AND type IN ({', '.join('?' for _ in types)})"
    params: list[Any] = [lo, hi, *types]
    if domain is not None:
        where += " AND domain = ?"
        params.append(domain.strip().lower())
    out = {t: 0 for t in types}
    for etype, n in store.conn.execute(f"SELECT type, sum(count) FROM counters WHERE {where} GROUP BY type", params):
        out[etype] = n
    return out


def message_events(store: Store, message_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """A message's problem events (SES `mail.messageId`), oldest first: its timeline as the bot saw it.

    Uses the `events_message_id` index. The id is matched as given and lower-cased (SES writes lower-case
    hex; a person may paste it in capitals). Sends and deliveries are counted, not stored, so a message
    that was simply delivered has no rows here.
    """
    ids = list(dict.fromkeys([message_id.strip(), message_id.strip().lower()]))
    return store.query(
        f"SELECT * FROM events WHERE message_id IN ({', '.join('?' for _ in ids)}) "
        "ORDER BY timestamp, recipient, type LIMIT ?",
        [*ids, int(limit)],
    )


def domain_breakdown(store: Store, domain: str, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
    """One domain's problem events over `[since, until)` grouped by what they were: `type`, `category`,
    `bounce_type`, `bounce_subtype`, `delay_type`, `blocklist`, `n` (events), `latest` (timestamp); most
    events first. Counts every event of the window (no row limit), on the `(domain, timestamp)` index."""
    params: list[Any] = [domain.strip().lower().rstrip("."), iso(since)]
    upper = ""
    if until is not None:
        upper = "AND timestamp < ?"
        params.append(iso(until))
    return store.query(
        "SELECT type, category, bounce_type, bounce_subtype, delay_type, blocklist, "
        "  count(*) AS n, max(timestamp) AS latest "
        f"FROM events WHERE domain = ? AND timestamp >= ? {upper} "
        "GROUP BY type, category, bounce_type, bounce_subtype, delay_type, blocklist "
        "ORDER BY n DESC, latest DESC",
        params,
    )


# A bounce or delay that names an IP or domain blocklist, or a delay SES puts down to the sending IP
# (IPFailure): what the blocklist checks count.
BLOCKLIST_REFUSAL = (
    "type IN ('Bounce', 'DeliveryDelay') "
    "AND (category IN ('ip_blocklist', 'domain_blocklist') OR (type = 'DeliveryDelay' AND delay_type = 'IPFailure'))"
)


def domain_blocklist_refusals(
    store: Store,
    domain: str,
    since: datetime,
    until: datetime | None = None,
    *,
    recipient: str | None = None,
) -> list[dict[str, Any]]:
    """One domain's `BLOCKLIST_REFUSAL` events over `[since, until)` grouped by what refused them:
    `category` ('other' when not classified), `blocklist`, `sending_ip`, with `n` (events), `bounces`,
    `delays`, `recipients` (distinct addresses), `to_recipient` (of them to `recipient`, 0 without one) and
    `latest` (timestamp); newest group first. Counts every event of the window (no row limit), as
    `domain_breakdown` does."""
    params: list[Any] = [(recipient or "").strip().lower(), domain.strip().lower().rstrip("."), iso(since)]
    upper = ""
    if until is not None:
        upper = "AND timestamp < ?"
        params.append(iso(until))
    return store.query(
        "SELECT coalesce(category, 'other') AS category, blocklist, sending_ip, count(*) AS n, "
        "  sum(type = 'Bounce') AS bounces, sum(type = 'DeliveryDelay') AS delays, "
        "  count(DISTINCT recipient) AS recipients, sum(recipient = ?) AS to_recipient, max(timestamp) AS latest "
        f"FROM events WHERE domain = ? AND timestamp >= ? {upper} AND {BLOCKLIST_REFUSAL} "
        "GROUP BY 1, blocklist, sending_ip ORDER BY latest DESC",
        params,
    )


def domain_blocklist_events(
    store: Store,
    domain: str,
    *,
    since: datetime | None = None,
    recipient: str | None = None,
    limit: int = 1,
) -> list[dict[str, Any]]:
    """A domain's `BLOCKLIST_REFUSAL` events (only those to `recipient` when given), newest first: examples
    of what `domain_blocklist_refusals` counts."""
    # With a recipient, `+domain` leaves its (recipient, timestamp) index the only way in: without ANALYZE
    # statistics SQLite would otherwise walk a big domain's index (a third of the mail at one provider).
    where = ["domain = ?" if recipient is None else "+domain = ?", BLOCKLIST_REFUSAL]
    params: list[Any] = [domain.strip().lower().rstrip(".")]
    if recipient is not None:
        where.append("recipient = ?")
        params.append(recipient.strip().lower())
    return _select(store, where, params, since, None, limit)


def domain_last_delivery_hour(store: Store, domain: str, since: datetime | None = None) -> str | None:
    """The latest hour ('YYYY-MM-DDTHH') with a counted Delivery to this recipient domain, or None."""
    params: list[Any] = [domain.strip().lower().rstrip(".")]
    lower = ""
    if since is not None:
        lower = "AND hour >= ?"
        params.append(iso(since)[:13])
    row = store.conn.execute(
        f"SELECT max(hour) FROM counters WHERE type = 'Delivery' AND domain = ? {lower}", params
    ).fetchone()
    return row[0] if row and row[0] else None


def header_sample(store: Store, since: datetime) -> list[dict[str, Any]]:
    """The rolling header sample over the days from `since`'s day on: one dict per (config set, From address),
    sorted by both.

    Each: `config_set` ('' when none), `from_address` (lower-cased), `sent` (Send events, one per message),
    `headers_seen` (of which the event carried `mail.headers`; 0 means the headers were not published, so
    the other counts say nothing), `list_unsubscribe`, `one_click` (`List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`), `https` (an https URI in List-Unsubscribe), and `example_without`: a
    message id without one-click unsubscribe (the most recent day's example), or None.
    """
    rows = store.conn.execute(
        "SELECT config_set, from_address, sent, headers_seen, list_unsubscribe, one_click, https, example_without "
        "FROM header_sample WHERE day >= ? ORDER BY config_set, from_address, day DESC",
        [iso(since)[:10]],
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for config_set, sender, sent, seen, lu, oc, https, example in rows:
        r = out.get((config_set, sender))
        if r is None:
            out[(config_set, sender)] = {
                "config_set": config_set,
                "from_address": sender,
                "sent": sent,
                "list_unsubscribe": lu,
                "one_click": oc,
                "https": https,
                "example_without": example,
                "headers_seen": seen,
            }
            continue
        r["sent"] += sent
        r["list_unsubscribe"] += lu
        r["one_click"] += oc
        r["https"] += https
        r["headers_seen"] += seen
        if r["example_without"] is None:
            r["example_without"] = example
    return list(out.values())


def daily_sends_to(store: Store, domains: list[str], since: datetime) -> dict[str, int]:
    """Counted Send events per day ('YYYY-MM-DD') to any of these recipient domains, from `since`'s day on
    (days without any are left out)."""
    if not domains:
        return {}
    marks = ", ".join("?" for _ in domains)
    rows = store.conn.execute(
        "SELECT substr(hour, 1, 10) AS day, sum(count) FROM counters "
        f"WHERE type = 'Send' AND hour >= ? AND domain IN ({marks}) GROUP BY day ORDER BY day",
        [iso(since)[:10], *[d.lower() for d in domains]],
    )
    return {day: int(n) for day, n in rows}


def top_bounces(store: Store, since: datetime, until: datetime, *, limit: int = 5) -> dict[str, list[tuple[str, int]]]:
    """The recipient domains and the categories with the most bounces over `[since, until)`, most first:
    `{"domains": [(domain, n), ...], "categories": [(category, n), ...]}` (a bounce the classifier could
    not place is counted under its SES subtype, else `unclassified`)."""
    lo, hi = _window(since, until)
    where = "type = 'Bounce' AND timestamp >= ? AND timestamp < ?"
    domains = store.conn.execute(
        f"SELECT coalesce(domain, '?') AS name, count(*) AS n FROM events WHERE {where} "
        "GROUP BY 1 ORDER BY n DESC, name LIMIT ?",
        [lo, hi, int(limit)],
    ).fetchall()
    categories = store.conn.execute(
        f"SELECT coalesce(category, bounce_subtype, 'unclassified') AS name, count(*) AS n FROM events WHERE {where} "
        "GROUP BY 1 ORDER BY n DESC, name LIMIT ?",
        [lo, hi, int(limit)],
    ).fetchall()
    return {"domains": [(d, int(n)) for d, n in domains], "categories": [(c, int(n)) for c, n in categories]}
