"""The engine: everything sesbot knows about SES, with no chat system in it.

Settings, AWS/DNS/SMTP access, the checks and their runner, the command grammar, the SQLite store and the
event ingest, the alert sweep and incidents, and the terminal rendering. A front end (the Slack app in
`handlers`, the terminal in `bot.cli`) asks it questions and renders the answers; the engine hands alert
messages to a `bot.notify.Poster` that the composition root (`sesbot`) chooses.

May import: the standard library and the declared dependencies (boto3, dnspython, sqlite-utils,
APScheduler, ...). Never `handlers`, `sesbot`, `peers`, or a chat SDK (slack_sdk, slack_bolt).
"""
