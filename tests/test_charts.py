"""Charts of the bounce and complaint rate in incident threads, drawn from what the test put in CloudWatch or
the history, uploaded through Slack's external-upload flow on the Slack peer."""

from __future__ import annotations

import json
import logging
import struct
import zlib

from bot.alerts import sweep
from tests.conftest import CHANNEL, bounce_doc, put_rate, slack_poster


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt/zTXt/iTXt chunks of a PNG."""
    out, pos = {}, 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode()] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode()] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")
            _, _, text = rest.partition(b"\0")
            out[key.decode()] = (zlib.decompress(text) if flag else text).decode()
        pos += 12 + length
    return out


def test_an_incident_from_cloudwatch_gets_cloudwatchs_picture_with_the_levels_in_its_thread(
    aws_peer, slack_peer, alert_deps, clock
):
    put_rate(aws_peer, 0.06, clock.tick())
    sweep(alert_deps, slack_poster(slack_peer))
    parent = slack_peer.calls_to("chat.postMessage")[0]
    upload = slack_peer.wait_for_upload()
    assert upload.channel_id == CHANNEL and upload.thread_ts == parent.params.get("ts", upload.thread_ts)
    width, height = png_size(upload.data or b"")
    assert width >= 600 and height >= 300
    widget = aws_peer.widgets[-1]
    annotations = json.dumps(widget.get("annotations"))
    assert "0.05" in annotations and "0.1" in annotations  # review 5 %, pause 10 % of the bounce rate
    assert "Reputation.BounceRate" in json.dumps(widget.get("metrics"))
    assert "6" in (upload.alt_txt or "") and "bounce" in (upload.alt_txt or "").lower()


def test_the_charts_now_is_the_figure_the_sweep_read_and_its_line_keeps_the_worst_of_the_hour(
    aws_peer, slack_peer, alert_deps, clock
):
    from datetime import timedelta

    now = clock.tick(30)  # half past: two figures in the same hour, the higher one first
    put_rate(aws_peer, 0.09, now - timedelta(minutes=25))
    put_rate(aws_peer, 0.06, now - timedelta(minutes=5))
    sweep(alert_deps, slack_poster(slack_peer))
    assert "6%" in slack_peer.calls_to("chat.postMessage")[0].params["text"]  # what the sweep read
    upload = slack_peer.wait_for_upload()
    assert "Bounce rate now 6% (review); highest 9% in the hour from" in (upload.alt_txt or "")
    [now_line] = [a for a in aws_peer.widgets[-1]["annotations"]["horizontal"] if " now " in a["label"]]
    assert (now_line["label"], now_line["value"]) == ("Bounce rate now 6% (review)", 0.06)


def test_an_incident_estimated_from_the_history_gets_a_picture_of_the_histories_figures(
    aws_peer, slack_peer, alert_deps, clock
):
    from bot.ingest import ingest_documents

    now = clock.tick()
    docs = [bounce_doc(i, f"u{i}@example.net", "550 5.1.1 user unknown", now) for i in range(12)]
    ingest_documents(alert_deps.store, docs, "test", now=now)
    sends = [
        json.dumps(
            {
                "eventType": "Send",
                "mail": {
                    "messageId": f"s{i}",
                    "timestamp": now.isoformat(),
                    "destination": [f"x{i}@example.net"],
                    "source": "a@mail.example.com",
                },
            }
        )
        for i in range(150)
    ]
    ingest_documents(alert_deps.store, sends, "test", now=now)
    sweep(alert_deps, slack_poster(slack_peer))
    upload = slack_peer.wait_for_upload()
    width, height = png_size(upload.data or b"")
    assert width >= 600 and height >= 300
    text = png_text(upload.data or b"")
    assert "estimate" in (text.get("Description", "") + (upload.alt_txt or "")).lower()
    assert "sesbot:figures" in text


def test_a_chart_slack_refuses_never_holds_up_the_alert(aws_peer, slack_peer, alert_deps, clock, caplog):
    slack_peer.fail("files.getUploadURLExternal", "missing_scope", status=200, retry_after=None, count=None)
    put_rate(aws_peer, 0.06, clock.tick())
    with caplog.at_level(logging.INFO):
        sweep(alert_deps, slack_poster(slack_peer))
    assert len(slack_peer.calls_to("chat.postMessage")) == 1
    assert slack_peer.uploads == []
    assert any("chart for incident" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)


def test_sesbot_chart_out_writes_the_same_picture_from_cloudwatchs_figures(aws_peer, tmp_path, clock):
    from tests.test_cli import sesbot

    put_rate(aws_peer, 0.06, clock.now)
    out = tmp_path / "rate.png"
    env = {**aws_peer.environ(), "AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "db.sqlite")}
    done = sesbot("chart", "--days", "7", "--out", str(out), "--json", env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["path"] == str(out) and answer["drawn_by"] == "cloudwatch"
    width, height = png_size(out.read_bytes())
    assert width >= 600 and height >= 300
    assert "Reputation.BounceRate" in json.dumps(aws_peer.widgets[-1].get("metrics"))


def test_sesbot_chart_refuses_a_bad_days_value_in_one_line(tmp_path):
    from tests.test_cli import sesbot

    done = sesbot("chart", "--days=90", env={"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "db")})
    assert done.returncode != 0
    assert "`--days` takes a whole number from 1 to 30" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_sesbot_chart_refuses_a_region_that_is_not_configured_naming_the_configured_ones(tmp_path):
    from tests.test_cli import sesbot

    env = {"AWS_REGION": "us-east-1", "SESBOT_DB": str(tmp_path / "db")}
    done = sesbot("chart", "--region", "eu-west-1", "--out", str(tmp_path / "r.png"), env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().splitlines() == [
        "sesbot: eu-west-1 is not one of the configured regions: us-east-1 (see `sesbot help`)"
    ]
    assert not (tmp_path / "r.png").exists()
