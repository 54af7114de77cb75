"""`sesbot demo`, the README's first command, run as a person runs it: a real process, no credentials."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.test_cli import ROOT


def test_the_demo_runs_the_whole_story_against_local_peers_and_exits_0(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESBOT_", "SLACK_", "AWS_"))}
    env["PYTHONPATH"] = ROOT
    out = subprocess.run(
        [sys.executable, "-m", "sesbot", "demo", "--dir", str(tmp_path / "demo")],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (out.returncode, out.stderr) == (0, "")
    diagnosed = [line.split("Diagnosis: ")[1] for line in out.stdout.splitlines() if "Diagnosis: " in line]
    assert diagnosed[:6] == [
        "new.customer@example.org",
        "jane@example.net",
        "gone@example.org",
        "ops@blocked.example",
        "info@nomail.example",
        "ok@example.com",
    ]
    assert "Traceback" not in out.stdout
    assert (tmp_path / "demo" / "sesbot.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # nothing else left behind
