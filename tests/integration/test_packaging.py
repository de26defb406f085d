"""The .deb: built by CPack from this build tree, checked (fields, layout, modes, lintian), then
installed on this machine with dpkg, used, removed and purged.

The package is made from EBB_BUILD_DIR's binaries with the same CPack configuration that
scripts/package.sh uses after its own Release build: a second full build here would cost minutes
of CI; cpack on the built tree costs seconds. CPack always packs with prefix /usr.

dpkg -i changes the host, so this needs root (CI runs as root) and refuses to run when a package
named ebb is already installed: it never removes someone else's install.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ebbtest import BUILD_DIR, SOURCE_DIR, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="installs a .deb with dpkg -i: needs root (CI runs as root)")

BINARIES = ["/usr/bin/ebb-lb", "/usr/bin/ebb-scaler"]
CONFFILES = ["/etc/ebb/lb.toml", "/etc/ebb/scaler.toml"]
UNITS = ["/lib/systemd/system/ebb-lb.service", "/lib/systemd/system/ebb-scaler@.service"]
MAN_PAGES = ["/usr/share/man/man8/ebb-lb.8.gz", "/usr/share/man/man8/ebb-scaler.8.gz",
             "/usr/share/man/man5/ebb.toml.5.gz"]
DOCS = ["/usr/share/doc/ebb/README.md", "/usr/share/doc/ebb/copyright",
        "/usr/share/doc/ebb/changelog.Debian.gz", "/usr/share/doc/ebb/examples/lb.toml",
        "/usr/share/doc/ebb/examples/scaler.toml", "/usr/share/lintian/overrides/ebb"]
ALL_FILES = BINARIES + CONFFILES + UNITS + MAN_PAGES + DOCS
ENABLE_LINK = Path("/etc/systemd/system/multi-user.target.wants/ebb-lb.service")
MASK_LINK = Path("/etc/systemd/system/ebb-lb.service")  # postrm remove masks, purge unmasks


def must(argv, timeout=120, **kw):
    r = run(argv, timeout=timeout, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, argv))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r


def ebb_package_status():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "ebb"])
    return r.stdout.strip() if r.returncode == 0 else ""


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """Prerequisites installed (idempotent, no network when present), then the .deb built."""
    env = dict(os.environ, EBB_SETUP_EXTRA="dpkg-dev lintian man-db")
    must([SOURCE_DIR / "scripts" / "setup.sh"], timeout=600, env=env)
    config = BUILD_DIR / "CPackConfig.cmake"
    assert config.exists(), f"{config} missing: configure the tree with the root CMakeLists.txt"
    out = tmp_path_factory.mktemp("pkg")
    must(["cpack", "-G", "DEB", "--config", config, "-B", out], timeout=300, cwd=BUILD_DIR)
    debs = list(out.glob("ebb_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def test_control_fields(deb):
    info = must(["dpkg-deb", "-f", deb]).stdout
    fields = dict(re.findall(r"^(\S+): (.*)$", info, re.M))
    assert fields["Package"] == "ebb"
    assert re.fullmatch(r"\d+\.\d+\.\d+-1", fields["Version"]), fields["Version"]
    assert fields["Section"] == "net"
    assert fields["Priority"] == "optional"
    assert fields["Maintainer"]
    # dpkg-shlibdeps found the runtime libraries; adduser is there for postinst.
    depends = fields["Depends"]
    for lib in ["libc6", "libuv1", "libssl3", "adduser"]:
        assert re.search(rf"\b{lib}\b", depends), f"{lib} missing from Depends: {depends}"
    # Summary line plus an extended description.
    assert len(info.split("Description:", 1)[1].strip().splitlines()) > 3


def test_control_files(deb, tmp_path):
    must(["dpkg-deb", "-e", deb, tmp_path / "DEBIAN"])
    ctl = tmp_path / "DEBIAN"
    assert (ctl / "conffiles").read_text().split() == CONFFILES
    for script in ["postinst", "prerm", "postrm"]:
        assert (ctl / script).stat().st_mode & 0o777 == 0o755, script
    assert "md5sums" in os.listdir(ctl)


def test_contents_layout_and_modes(deb):
    listing = must(["dpkg-deb", "-c", deb]).stdout.splitlines()
    entries = {}
    for line in listing:
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path.removeprefix(".").rstrip("/") or "/"] = (mode, owner)
    for path in ALL_FILES:
        assert path in entries, f"{path} not in the package"
    assert not any("testbackend" in p for p in entries), "the test backend must not be packaged"
    for path, (mode, owner) in entries.items():
        assert owner == "root/root", f"{path} owned by {owner}"
        if mode.startswith("d"):
            assert mode == "drwxr-xr-x", f"{path}: {mode}"
        elif path in BINARIES:
            assert mode == "-rwxr-xr-x", f"{path}: {mode}"
        else:
            assert mode == "-rw-r--r--", f"{path}: {mode}"


def test_binaries_are_stripped(deb, tmp_path):
    must(["dpkg-deb", "-x", deb, tmp_path])
    for b in BINARIES:
        sections = must(["readelf", "-S", "--wide", tmp_path / b.lstrip("/")]).stdout
        assert ".symtab" not in sections and ".debug_info" not in sections, f"{b} not stripped"
    # Man pages are gzip -9n (no name, no timestamp: reproducible).
    for page in MAN_PAGES:
        head = (tmp_path / page.lstrip("/")).read_bytes()[:10]
        assert head[:2] == b"\x1f\x8b" and head[3] == 0 and head[4:8] == b"\0\0\0\0", page


def test_lintian_has_no_errors(deb):
    r = run(["lintian", "--fail-on", "error", deb], timeout=300)
    print(r.stdout)
    assert r.returncode == 0 and not re.search(r"^E: ", r.stdout, re.M), r.stdout + r.stderr


def installed_ebb_lb_running():
    """PIDs running the installed /usr/bin/ebb-lb (other tests run the build tree's ebb-lb)."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if os.readlink(p / "exe") == "/usr/bin/ebb-lb":
                    pids.append(p.name)
            except OSError:
                pass
    return pids


def test_install_use_remove_purge(deb):
    status = ebb_package_status()
    assert status in ("", "un", "pn"), (
        f"a package named ebb is already on this machine (dpkg status {status!r}): this test "
        "installs and purges one, so it refuses to touch yours. Remove it (dpkg --purge ebb) first.")
    leftovers = [p for p in ALL_FILES if os.path.exists(p)]
    assert not leftovers, f"files of a previous ebb install are in the way: {leftovers}"
    try:
        must(["dpkg", "-i", deb])
        assert ebb_package_status() == "ii"
        for path in ALL_FILES:
            assert os.path.isfile(path), path

        r = must(["/usr/bin/ebb-lb", "--check", "-c", "/etc/ebb/lb.toml"])
        assert r.stdout.strip() == "ok", r.stdout
        r = must(["man", "-w", "ebb-lb"])
        assert r.stdout.strip() == "/usr/share/man/man8/ebb-lb.8.gz"
        r = must(["man", "-w", "5", "ebb.toml"])
        assert r.stdout.strip() == "/usr/share/man/man5/ebb.toml.5.gz"

        # The installed units, with the installed binaries and man pages: verify has nothing to say.
        if shutil.which("systemd-analyze"):
            r = run(["systemd-analyze", "verify", UNITS[0], UNITS[1].replace("@.", "@app.")])
            assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr

        # postinst: the system user and group, no login, no home.
        passwd = must(["getent", "passwd", "ebb"]).stdout.strip().split(":")
        assert int(passwd[2]) < 1000, passwd
        assert passwd[5] == "/nonexistent" and not os.path.exists("/nonexistent")
        assert passwd[6].endswith("nologin") or passwd[6] == "/bin/false", passwd
        must(["getent", "group", "ebb"])
        # Enabled but never started.
        assert ENABLE_LINK.is_symlink(), "postinst did not enable ebb-lb.service"
        assert installed_ebb_lb_running() == [], "postinst must not start ebb-lb"

        # Reinstalling the same package runs postinst again: idempotent.
        must(["dpkg", "-i", deb])
        assert ebb_package_status() == "ii"

        # remove keeps the conffiles (an admin's edits survive), drops the rest.
        must(["dpkg", "-r", "ebb"])
        assert ebb_package_status() == "rc"
        for path in CONFFILES:
            assert os.path.isfile(path), f"dpkg -r must keep conffile {path}"
        for path in BINARIES + UNITS + MAN_PAGES + DOCS:
            assert not os.path.exists(path), f"{path} left after dpkg -r"

        must(["dpkg", "--purge", "ebb"])
        assert ebb_package_status() in ("", "un", "pn")
        for path in ALL_FILES:
            assert not os.path.exists(path), f"{path} left after purge"
        assert not os.path.exists("/etc/ebb"), f"/etc/ebb left after purge: {os.listdir('/etc/ebb')}"
        assert not os.path.lexists(ENABLE_LINK), "purge must remove the enablement symlink"
        assert not os.path.lexists(MASK_LINK), "purge must unmask ebb-lb.service"
    finally:
        # Only reached with an ebb the test itself installed (checked above).
        if ebb_package_status() not in ("", "un", "pn"):
            subprocess.run(["dpkg", "--purge", "ebb"], capture_output=True, timeout=120)
