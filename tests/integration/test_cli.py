"""ebb-lb / ebb-scaler command line: --check on good and bad configs, --version, --help,
unknown flags (SPEC §1). Each bad file must give one clear line on stderr and exit 1."""
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from ebbtest import SOURCE_DIR, binary, run

EXAMPLES = SOURCE_DIR / "packaging" / "examples"
BINARIES = ["ebb-lb", "ebb-scaler"]

MINIMAL_LB = """\
[[listeners]]
name = "web"
listen = "127.0.0.1:8080"
pool = "app"
[[pools]]
name = "app"
backends = ["127.0.0.1:9001"]
"""


def check(name, path, timeout=30):
    return run([binary(name), "--check", "-c", path], timeout=timeout)


def error_lines(res):
    """stderr lines that are not warnings."""
    return [l for l in res.stderr.splitlines() if l and not l.startswith("warning: ")]


def one_error(res, path):
    assert res.returncode == 1, res
    assert res.stdout == ""
    lines = error_lines(res)
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(str(path) + ":"), lines[0]
    return lines[0]


@pytest.mark.parametrize("name,config", [("ebb-lb", "lb.toml"), ("ebb-scaler", "scaler.toml")])
def test_check_accepts_the_examples(name, config):
    res = check(name, EXAMPLES / config)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "ok\n"
    assert res.stderr == ""  # not even a warning


@pytest.mark.parametrize("name", BINARIES)
def test_version_help_and_unknown_flag(name):
    v = run([binary(name), "--version"])
    assert v.returncode == 0
    assert re.fullmatch(re.escape(name) + r" \d+\.\d+\.\d+\n", v.stdout), v.stdout
    h = run([binary(name), "--help"])
    assert h.returncode == 0
    for flag in ("--config", "--check", "--version", "--help"):
        assert flag in h.stdout
    bad = run([binary(name), "--frobnicate"])
    assert bad.returncode == 2
    assert "unknown option '--frobnicate'" in bad.stderr
    missing_value = run([binary(name), "-c"])
    assert missing_value.returncode == 2


def test_check_does_not_bind(tmp_path):
    # --check with a listener on a port that is already taken still says ok: nothing is bound.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = tmp_path / "lb.toml"
        cfg.write_text(MINIMAL_LB.replace("8080", str(port)))
        res = check("ebb-lb", cfg)
        assert res.returncode == 0, res.stderr
        assert res.stdout == "ok\n"


@pytest.mark.parametrize("name", BINARIES)
def test_missing_file(name, tmp_path):
    path = tmp_path / "nope.toml"
    line = one_error(check(name, path), path)
    assert line == f"{path}: cannot open config file: No such file or directory"


@pytest.mark.parametrize("name", BINARIES)
def test_directory(name, tmp_path):
    line = one_error(check(name, tmp_path), tmp_path)
    assert line == f"{tmp_path}: is a directory, not a config file"


def test_unreadable_file_as_an_unprivileged_user():
    # Root reads mode-000 files, so the binary runs as nobody here (setpriv), when possible.
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and not setpriv:
        pytest.skip("running as root without setpriv: root can read a mode-000 file")
    d = Path(tempfile.mkdtemp(prefix="ebb-cli-"))
    try:
        d.chmod(0o755)
        path = d / "lb.toml"
        path.write_text(MINIMAL_LB)
        path.chmod(0)
        argv = [binary("ebb-lb"), "--check", "-c", path]
        if os.geteuid() == 0:
            probe = run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", binary("ebb-lb"), "--version"])
            if probe.returncode != 0:
                pytest.skip("user nobody cannot run the binary from this build directory: " + probe.stderr)
            argv = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        line = one_error(run(argv), path)
        assert line == f"{path}: cannot open config file: Permission denied"
    finally:
        shutil.rmtree(d)


def test_read_error():
    # A regular file whose read fails even for root: /proc/self/mem (offset 0 is never mapped).
    line = one_error(check("ebb-lb", "/proc/self/mem"), "/proc/self/mem")
    assert line == "/proc/self/mem: cannot read config file: Input/output error"


def test_device_is_refused_not_read_forever():
    line = one_error(check("ebb-lb", "/dev/zero", timeout=10), "/dev/zero")
    assert line == "/dev/zero: not a regular file"


@pytest.mark.parametrize("name,expected", [
    ("ebb-lb", "the file is empty (expected at least one [[listeners]] and one [[pools]])"),
    ("ebb-scaler", "the file is empty (expected a [scaler] table with [[scaler.targets]] and a [driver] table)"),
])
@pytest.mark.parametrize("content", ["", "\n  \n# just a comment\n"])
def test_empty_file(name, expected, content, tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text(content)
    assert one_error(check(name, path), path) == f"{path}: {expected}"


@pytest.mark.parametrize("name", BINARIES)
def test_invalid_utf8(name, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'# config\n[runtime]\nlog_level = "d\xe9bug"\n')
    line = one_error(check(name, path), path)
    assert line == f"{path}:3:15: invalid UTF-8 (byte 0xE9); a config file must be UTF-8 text"


@pytest.mark.parametrize("name", BINARIES)
def test_huge_file_is_refused_before_parsing(name, tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB without using the disk
    line = one_error(check(name, path, timeout=10), path)
    assert line == f"{path}: file is too large (100.0 MiB; the limit is 4.0 MiB)"


def test_binary_garbage(tmp_path):
    path = tmp_path / "garbage.toml"
    path.write_bytes(bytes(range(256)) * 64)
    line = one_error(check("ebb-lb", path), path)
    # bytes 0..9, then '\n' (10): line 2 starts at byte 11, 0x80 is its column 118
    assert line == f"{path}:2:118: invalid UTF-8 (byte 0x80); a config file must be UTF-8 text"
    ascii_garbage = tmp_path / "ascii.toml"
    ascii_garbage.write_bytes(bytes(range(1, 128)) * 64)
    line = one_error(check("ebb-lb", ascii_garbage), ascii_garbage)
    assert re.match(re.escape(str(ascii_garbage)) + r":\d+:\d+: invalid TOML: ", line), line


def test_deep_nesting_does_not_crash(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 1_000_000 + "\n")
    line = one_error(check("ebb-lb", path), path)
    assert line == f"{path}:1:69: nesting deeper than 64 levels (arrays, inline tables, dotted keys)"


def test_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "lb.toml"
    path.write_text(MINIMAL_LB + "retries = 1 2\n")
    line = one_error(check("ebb-lb", path), path)
    assert line == f"{path}:8:13: invalid TOML: invalid line format (expected newline, but got '2'.)"


def test_spec_example_error(tmp_path):
    path = tmp_path / "lb.toml"
    path.write_text("[runtime]\nworkers = 2\n\n" + MINIMAL_LB.replace('name = "app"', 'name = "app"\n') +
                    'balance = "fastest"\n')
    line = one_error(check("ebb-lb", path), path)
    assert line == (f"{path}:12:11: pools[0].balance: unknown value \"fastest\" (expected one of round_robin, "
                    "weighted_round_robin, least_conn, hash, response_time, random)")


def test_every_error_at_once_in_file_order(tmp_path):
    path = tmp_path / "lb.toml"
    path.write_text("""\
[runtime]
workers = "two"
[[listeners]]
name = "web"
listen = "127.0.0.1"
pool = "nope"
[[pools]]
name = "app"
backends = [{ address = "127.0.0.1:1", wieght = 1 }]
""")
    res = check("ebb-lb", path)
    assert res.returncode == 1
    assert error_lines(res) == [
        f"{path}:2:11: runtime.workers: expected an integer, got a string",
        f"{path}:5:10: listeners[0].listen: invalid address \"127.0.0.1\": missing port (expected host:port or [v6]:port)",
        f"{path}:6:8: listeners[0].pool: unknown pool \"nope\" (defined pools: app)",
        f"{path}:9:40: pools[0].backends[0].wieght: unknown key \"wieght\" (did you mean \"weight\"?)",
    ]


def test_scaler_errors(tmp_path):
    path = tmp_path / "scaler.toml"
    path.write_text("""\
[scaler]
pool = "app"
min = 3
max = 2
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[[scaler.schedule]]
cron = "0 8 * *"
duration = "1h"
min = 1
[driver]
type = "systemd"
unit = "web@{port}.service"
command = ["x"]
""")
    res = check("ebb-scaler", path)
    assert res.returncode == 1
    assert error_lines(res) == [
        f"{path}:3:7: scaler.min: min (3) is larger than max (2)",
        f"{path}:9:8: scaler.schedule[0].cron: invalid cron expression \"0 8 * *\": expected 5 fields "
        "(minute hour day-of-month month day-of-week), got 4",
        f"{path}:12:1: driver.ports: required with type = \"systemd\"",
        f"{path}:15:1: driver.command: not used by the systemd driver (it belongs to type = \"process\")",
    ]


def test_warnings_go_to_stderr_and_check_still_passes(tmp_path):
    path = tmp_path / "lb.toml"
    path.write_text(MINIMAL_LB + 'hash_key = "uri"\n')
    res = check("ebb-lb", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "ok\n"
    assert res.stderr == (f"warning: {path}:8:12: pools[0].hash_key: ignored: balance is \"round_robin\", "
                          "not \"hash\"\n")


def test_check_loads_tls_material_key_not_matching_cert(tmp_path):
    from tls_support import make_pki
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    cert, _ = pki["site"]
    _, other_key = pki["wild"]
    path = tmp_path / "lb.toml"
    path.write_text(MINIMAL_LB.replace('pool = "app"\n', f'pool = "app"\n[listeners.tls]\ncert = "{cert}"\nkey = "{other_key}"\n', 1))
    line = one_error(check("ebb-lb", path), path)
    assert line.startswith(f"{path}: listeners[0].tls: "), line
    assert "match" in line and str(other_key) in line, line
    # and the matching key passes
    path.write_text(MINIMAL_LB.replace('pool = "app"\n', f'pool = "app"\n[listeners.tls]\ncert = "{cert}"\nkey = "{pki["site"][1]}"\n', 1))
    res = check("ebb-lb", path)
    assert res.returncode == 0 and res.stdout == "ok\n", res
