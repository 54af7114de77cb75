"""`sesbot demo`, the README's first command, run as a person runs it: a real process, no credentials."""

from __future__ import annotations

from tests.test_cli import sesbot


def test_the_demo_runs_the_whole_story_against_local_peers_and_exits_0(tmp_path):
    out = sesbot("demo", "--dir", str(tmp_path / "demo"), cwd=str(tmp_path), timeout=120)

    assert (out.returncode, out.stderr) == (0, "")
    diagnosed = [line.split("Diagnosis: ")[1] for line in out.stdout.splitlines() if "Diagnosis: " in line]
    assert diagnosed[:7] == [
        "new.customer@example.org",
        "jane@example.net",
        "gone@example.org",
        "ops@blocked.example",
        "info@nomail.example",
        "ok@example.com",
        "orders@example.com",
    ]
    # The tenant SES disabled is that recipient's cause; the message id is diagnosed with SES's own timeline.
    assert "shop-eu" in out.stdout
    assert "Gmail" in out.stdout
    assert "Traceback" not in out.stdout
    # The incident is worked as incident tools work one (issue 13): an owner, a note from the terminal, a
    # snooze, the forecast in the rate alert, the summary posted on resolution, the review document.
    assert "<@U0BOB> owns incident #1" in out.stdout
    assert "$ sesbot incident 1 note paused the newsletter send" in out.stdout
    assert ":zzz: Incident #1 snoozed for 1 hour" in out.stdout
    assert "Posted although the incident is snoozed" in out.stdout
    assert "At this trend (up " in out.stdout and "the review level (5%) in about 5 h." in out.stdout
    assert "Incident #1 summary: bounce rate in us-east-1" in out.stdout
    assert "  ## Timeline" in out.stdout
    assert "Daily digest: " in out.stdout
    assert (tmp_path / "demo" / "sesbot.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # nothing else left behind
