"""The composition root: the one place that wires the Slack side (`handlers`) to the engine (`bot`).

    sesbot/main.py   the `sesbot` console script: `run`, `demo`, and every engine command via `bot.cli`
    sesbot/demo.py   `sesbot demo`: the whole bot against the local peers (`peers`)

May import anything: `bot`, `handlers`, `peers`. Nothing imports it but the console script.
"""
