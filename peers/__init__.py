"""Local stand-ins for the services sesbot talks to, used by the tests and by `sesbot demo`.

Each peer is a real server on a loopback address (an ephemeral port, run in background threads and
stopped by whoever started it; the shared scaffolding is `peers.base.LoopbackPeer`), so the code under
test only ever sees an endpoint, exactly as in production:

- `peers.aws`: the AWS APIs (moto, plus our layer for the SES account, suppression list, templates...).
- `peers.dns`: a DNS server answering from test-controlled records, with injectable faults.
- `peers.smtp`: an SMTP endpoint behaving like SES's SMTP interface, or failing like it
  (`peers.certs` makes its throwaway TLS certificates).
- `peers.slack`: Slack's Web API and ``response_url``s, and requests signed as Slack signs them;
  `peers.socket_mode`: Slack's Socket Mode server.
- `peers.scenario`: the demo world, a seeded SES account with a realistic mix of problems.

Imports: a peer may import anything (the ``demo`` extra's moto, dnslib, aiosmtpd and websockets, and
sesbot's own modules). The other way round is closed: nothing in ``bot/`` or ``handlers/`` imports
``peers``, except the demo entry point (``sesbot demo``), which imports the peers when it runs.
"""
