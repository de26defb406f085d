"""The man pages are lint-clean and document every config key the loader accepts and every flag."""
import re
import shutil

import pytest

from ebbtest import SOURCE_DIR, run

MAN = SOURCE_DIR / "man"
PAGES = ["ebb-lb.8", "ebb-scaler.8", "ebb.toml.5"]


def loader_keys():
    """Every key name the config loader accepts, read from the key lists in config/load.cc."""
    src = (SOURCE_DIR / "config" / "load.cc").read_text()
    keys = set()
    for m in re.finditer(r"Table\s+\w+\([^;{]*\{([^}]*)\}", src, re.S):
        keys.update(re.findall(r'"([a-z_0-9]+)"', m.group(1)))
    for m in re.finditer(r'\{"([a-z_0-9]+)",\s*\{DriverType', src):
        keys.add(m.group(1))
    keys.update(re.findall(r'std::vector<std::string> keys\{"([a-z_]+)"\}', src))
    return keys


def test_key_list_is_read():
    keys = loader_keys()
    # The parse above must keep finding the lists: a few keys from every section.
    for k in ["workers", "token_file", "listen", "min_version", "path_prefix", "balance",
              "healthy_threshold", "scale_in_step", "metric", "cron", "command", "capacity_rps", "type"]:
        assert k in keys, k
    assert len(keys) > 80


def test_every_config_key_is_documented():
    page = (MAN / "ebb.toml.5").read_text()
    documented = set(re.findall(r"^\.B ([a-z_0-9]+)\s*$", page, re.M))
    # tables are documented as sections: .SS [runtime], .SS [[listeners.routes]]
    for header in re.findall(r"^\.SS \[\[?([a-z_.]+)\]", page, re.M):
        documented.add(header.split(".")[-1])
    missing = sorted(loader_keys() - documented)
    assert not missing, f"config keys missing from man/ebb.toml.5: {missing}"


@pytest.mark.parametrize("page,flags", [
    ("ebb-lb.8", ["--config", "--check", "--version", "--help"]),
    ("ebb-scaler.8", ["--config", "--check", "--dry-run", "--simulate", "--version", "--help"]),
])
def test_every_flag_is_documented(page, flags):
    text = (MAN / page).read_text().replace("\\-", "-")
    for f in flags:
        assert f in text, f"{f} missing from {page}"


@pytest.mark.parametrize("page", PAGES)
def test_mandoc_lint_clean(page):
    if shutil.which("mandoc") is None:
        pytest.fail("mandoc is not installed (scripts/setup.sh installs it)")
    r = run(["mandoc", "-T", "lint", MAN / page])
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr
