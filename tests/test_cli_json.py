"""Machine-readable output: ``--json`` on fs ls/tree/df, sync and latency; the original's latency flags."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from belay_core.cli import cli


def _belay(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_fs_ls_tree_and_df_as_json(tmp_path: Path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    spec = f"emu:unix?fs={tmp_path}"
    listed = _belay("fs", "ls", "-d", spec, "--json", "/")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [{"path": "/app", "name": "app", "type": "dir", "size": 0}]
    tree = json.loads(_belay("fs", "tree", "-d", spec, "--json", "/").stdout)
    assert tree == [
        {"path": "/app", "name": "app", "type": "dir", "size": 0},
        {"path": "/app/main.py", "name": "main.py", "type": "file", "size": 9},
    ]
    usage = json.loads(_belay("fs", "df", "-d", spec, "--json").stdout)
    assert set(usage) == {"total", "used", "free"} and usage["total"] == usage["used"] + usage["free"]


def test_sync_prints_its_plan_as_json_and_nothing_else_on_stdout(tmp_path: Path):
    (tmp_path / "main.py").write_text("print(1)\n")
    result = _belay("sync", "-d", "emu:", "--dst", "/app", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["upload"] == ["/app/main.py"] and plan["mkdir"] == ["/app"] and plan["dry_run"] is False
    assert plan["upload_bytes"] == 9 and plan["hasher"]
    assert {"unchanged", "delete", "rmdir", "followed_links", "skipped_links"} <= set(plan)


def test_latency_as_json():
    result = _belay("latency", "-d", "emu:", "-n", "5", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["count"] == 5 and len(stats["times_ms"]) == 5
    assert stats["min_ms"] <= stats["median_ms"] <= stats["max_ms"]


def test_latency_takes_the_original_s_flags(tmp_path: Path):
    # belay 0.30.1: latency -c/--count N -v -o FILE.csv --without-timing
    output = tmp_path / "times.csv"
    result = _belay("latency", "-d", "emu:", "-c", "4", "-v", "-o", str(output), "--without-timing")
    assert result.exit_code == 0, result.output
    assert result.stdout.count(" ms\n") == 5  # each of the 4 calls, then the statistics
    assert "4 calls:" in result.stdout
    rows = list(csv.reader(output.open()))
    assert rows[0] == ["latency_ms"] and len(rows) == 5
    assert all(float(row[0]) > 0 for row in rows[1:])


def test_password_is_accepted_as_the_original_s(webrepl_server):
    result = _belay("exec", "-d", webrepl_server.url, "--password", webrepl_server.password, "6 * 7")
    assert result.exit_code == 0, result.output
    assert result.stdout == "42\n"
