"""The Slack surface: slash commands, mentions, buttons, App Home, Block Kit rendering, the HTTP server.

Thin, one module a concern, each with `register(app, deps)`: a listener acknowledges, asks the engine
(`bot`) and renders its answer as Block Kit with pure functions (`handlers.blocks`, `handlers.alert_blocks`).
`handlers.main.run` starts the Slack process; `handlers.poster.SlackPoster` is the engine's `Poster` for Slack.

May import: `bot` and slack_bolt/slack_sdk/waitress. Never `sesbot` or `peers`. It talks to AWS and
SQLite only through the engine.
"""
