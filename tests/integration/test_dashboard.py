"""The dashboard (GET / on the admin address, SPEC §5) in a real headless Chromium, driven by
Selenium and Debian's chromedriver, against a real ebb-lb with two real test backends: the page
loads without console errors, lists both backends, the request-rate chart moves with traffic, a
backend failing its health checks turns red, token-protected actions (401 without the token,
weight/drain/undrain with it), recovery after an ebb-lb restart, and a phone-width layout without
horizontal overflow. Screenshots go to $EBB_BUILD_DIR/artifacts/ (EBB_UPDATE_DOCS_SCREENSHOT=1
also refreshes docs/dashboard.png for the README)."""
import json
import os
import re
import shutil
import threading
import time

import pytest

import ebbtest
from proxy_support import backends, connect, lb_config, request, send_request, start_backend, start_lb

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:  # reported by the fixture below, with what to install
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "dash-token-7f3a"
HEALTH = {"check": "http", "path": "/healthz", "interval": "100ms", "timeout": "500ms",
          "healthy_threshold": 2, "unhealthy_threshold": 2}
ARTIFACTS = ebbtest.BUILD_DIR / "artifacts"


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if webdriver is None:
        missing.append("python3-selenium")
    assert not missing, f"missing {missing}: run scripts/setup.sh (Debian chromium, chromium-driver, python3-selenium)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--window-size=1280,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_path=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def severe(logs, allow=()):
    return [e for e in logs if e["level"] == "SEVERE" and not any(re.search(a, e["message"]) for a in allow)]


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def row(driver, address):
    return driver.find_element(By.CSS_SELECTOR, f'section[data-pool="app"] tr[data-backend="{address}"]')


def row_attr(driver, address, attr):
    return js(driver, "const r = document.querySelector(arguments[0]); return r ? r.getAttribute(arguments[1]) : null;",
              f'section[data-pool="app"] tr[data-backend="{address}"]', attr)


def chart(driver, kind):
    return js(driver, "const f = document.querySelector(arguments[0]);"
                      "return f && {points: +f.dataset.points, last: f.dataset.last,"
                      " line: (f.querySelector('polyline') || {getAttribute: () => ''}).getAttribute('points')};",
              f'section[data-pool="app"] figure[data-chart="{kind}"]')


def api_pool(aport):
    r = request(aport, "GET", "/api/v1/pools/app")
    assert r.status == 200, r.body
    return {b["address"]: b for b in json.loads(r.body)["backends"]}


def start_traffic(lport, stop, max_requests=3000):
    """Requests through the listener from a thread until `stop` is set (bounded in count)."""
    sent = {"ok": 0}

    def run():
        for _ in range(max_requests):
            if stop.is_set():
                return
            try:
                if request(lport, "GET", "/", timeout=5).status == 200:
                    sent["ok"] += 1
            except OSError:
                pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, sent


def set_input(element, text):
    """Types into a field like a user (focused, select-all, type), so the page's poll, which
    refreshes only fields that are neither focused nor edited, cannot interleave."""
    element.click()
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(text)
    assert element.get_attribute("value") == text


def save_screenshot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), "screenshot failed"
    assert path.stat().st_size > 1000
    return path


def test_dashboard_live_in_chromium(procs, tmp_path, browser):
    ports = [start_backend(procs, f"b{i}")[0] for i in range(2)]
    a0, a1 = (f"127.0.0.1:{p}" for p in ports)
    lport = ebbtest.free_port()
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": "app"}],
                     [{"name": "app", "backends": backends(*ports), "health": HEALTH, "drain_timeout": "30s"}])
    aport = int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', text).group(1))
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    text = text.replace("[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n')
    lb = start_lb(procs, tmp_path, text, wait_ports=(lport, aport))

    # The page is small and self-contained (SPEC/issue budget: < 100 KB, no external resources).
    page = request(aport, "GET", "/")
    assert page.status == 200 and page.header("content-type").startswith("text/html")
    assert len(page.body) < 100 * 1024, len(page.body)
    assert not re.search(rb'(src|href)="(https?:)?//', page.body), "the page must not load external resources"

    d = browser
    d.get(f"http://127.0.0.1:{aport}/")
    ebbtest.wait_until(lambda: d.find_element(By.ID, "conn").get_attribute("data-conn") == "live", 15,
                       what="dashboard connected")
    ebbtest.wait_until(lambda: row_attr(d, a0, "data-state") == "healthy" and row_attr(d, a1, "data-state") == "healthy",
                       10, what="both backends listed healthy")

    # The page's own quantile estimate (Prometheus histogram_quantile: linear within a bucket).
    q = js(d, "const D = window.ebbDashboard, h = D.parseMetrics(arguments[0])"
              ".map(m => ({le: m.labels.le === '+Inf' ? Infinity : +m.labels.le, c: m.value}));"
              "return [D.quantile(0.5, h), D.quantile(0.95, h), D.quantile(0.5, [])];",
           'h_bucket{le="1"} 0\nh_bucket{le="2"} 10\nh_bucket{le="4"} 20\nh_bucket{le="+Inf"} 20\n')
    assert q[0] == pytest.approx(2.0) and q[1] == pytest.approx(3.8) and q[2] is None, q

    # Traffic: the rate chart and the per-backend rate move.
    stop = threading.Event()
    thread, sent = start_traffic(lport, stop)
    try:
        ebbtest.wait_until(lambda: (c := chart(d, "rps")) and c["points"] >= 2 and c["last"] and float(c["last"]) > 0,
                           20, interval=0.2, what="requests/s chart above zero")
        ebbtest.wait_until(lambda: all(float(row_attr(d, a, "data-rps") or 0) > 0 for a in (a0, a1)), 10,
                           interval=0.2, what="both backends with a request rate")
        ebbtest.wait_until(lambda: (c := chart(d, "latency")) and c["last"] not in ("", None), 10, interval=0.2,
                           what="latency chart with a p95")
        listener = d.find_element(By.CSS_SELECTOR, '#listeners tr[data-listener="web"]').text
        assert "app" in listener

        # A backend failing its health checks turns red.
        assert request(ports[0], "GET", "/fail-health").body == b"unhealthy"
        ebbtest.wait_until(lambda: row_attr(d, a0, "data-state") == "unhealthy", 10, interval=0.1,
                           what="b0 shown unhealthy")
        colour = js(d, "return getComputedStyle(arguments[0].querySelector('.state')).color;", row(d, a0))
        r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])
        assert r > 150 and g < 100 and b < 100, f"unhealthy badge not red: {colour}"
        assert row_attr(d, a1, "data-state") == "healthy"
        ebbtest.wait_until(lambda: "healthy -> unhealthy" in d.find_element(By.ID, "events").text, 10,
                           what="the health event in the events list")
        assert "healthy -> unhealthy" in row(d, a0).text  # its last change
        ebbtest.wait_until(lambda: chart(d, "rps")["points"] >= 4, 10, interval=0.2, what="a few chart points")
        shot = save_screenshot(d, "dashboard.png")
        if os.environ.get("EBB_UPDATE_DOCS_SCREENSHOT"):
            (ebbtest.SOURCE_DIR / "docs").mkdir(exist_ok=True)
            shutil.copyfile(shot, ebbtest.SOURCE_DIR / "docs" / "dashboard.png")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert sent["ok"] > 0
    errors = severe(d.get_log("browser"))
    assert not errors, f"console errors: {errors}"

    # Actions: without the token the API answers 401 and the page says so.
    d.find_element(By.ID, "notice")  # present (hidden)
    weight = row(d, a1).find_element(By.CSS_SELECTOR, "input[type=number]")
    set_input(weight, "5")
    row(d, a1).find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    ebbtest.wait_until(lambda: "401" in d.find_element(By.ID, "notice").text, 10, what="401 shown")
    assert "error" in d.find_element(By.ID, "notice").get_attribute("class")
    assert api_pool(aport)[a1]["weight"] == 1

    # With the token (kept in sessionStorage): weight, drain, undrain.
    d.find_element(By.ID, "token").send_keys(TOKEN)
    d.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    assert js(d, "return sessionStorage.getItem('ebb-admin-token');") == TOKEN
    weight = row(d, a1).find_element(By.CSS_SELECTOR, "input[type=number]")
    set_input(weight, "5")
    row(d, a1).find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    ebbtest.wait_until(lambda: api_pool(aport)[a1]["weight"] == 5, 10, what="weight 5 applied")
    ebbtest.wait_until(lambda: "OK" in d.find_element(By.ID, "notice").text, 10, what="success notice")
    # A drained backend leaves the pool once idle: hold a request in flight on b1 (b0 is out)
    # so the drain lasts until the undrain.
    held = connect(lport)
    send_request(held, "GET", "/delay?ms=20000")
    ebbtest.wait_until(lambda: api_pool(aport)[a1]["active"] == 1, 10, what="a request in flight on b1")
    row(d, a1).find_element(By.XPATH, ".//button[normalize-space()='Drain']").click()
    ebbtest.wait_until(lambda: api_pool(aport)[a1]["state"] == "draining", 10, what="b1 draining")
    ebbtest.wait_until(lambda: row_attr(d, a1, "data-state") == "draining", 10, what="b1 shown draining")
    row(d, a1).find_element(By.XPATH, ".//button[normalize-space()='Undrain']").click()
    ebbtest.wait_until(lambda: api_pool(aport)[a1]["state"] == "healthy", 10, what="b1 undrained")
    ebbtest.wait_until(lambda: row_attr(d, a1, "data-state") == "healthy", 10, what="b1 shown healthy")
    held.close()
    # The only console errors since: the browser's report of the expected 401.
    errors = severe(d.get_log("browser"), allow=(r"status of 401",))
    assert not errors, f"console errors: {errors}"

    # ebb-lb restarts: the page says so, keeps retrying, and recovers on its own.
    lb.proc.stop()
    ebbtest.wait_until(lambda: d.find_element(By.ID, "conn").get_attribute("data-conn") == "disconnected", 10,
                       what="disconnected shown")
    assert "retrying" in d.find_element(By.ID, "conn").text
    lb = start_lb(procs, tmp_path, text, wait_ports=(lport, aport), name="ebb-lb-again")
    ebbtest.wait_until(lambda: d.find_element(By.ID, "conn").get_attribute("data-conn") == "live", 15,
                       interval=0.2, what="reconnected after the restart")
    ebbtest.wait_until(lambda: row_attr(d, a1, "data-state") == "healthy", 10, what="backends listed again")

    # Phone width: no horizontal scrolling of the page itself.
    d.set_window_size(390, 844)
    ebbtest.wait_until(lambda: js(d, "return document.documentElement.scrollWidth <= window.innerWidth + 1;"), 10,
                       what="no horizontal overflow at phone width")
    save_screenshot(d, "dashboard-phone.png")
