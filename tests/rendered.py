"""Checks of the rendered book, as a reader meets it in a browser (headless Chromium).

Used by ``tests/test_book_build.py`` on the strict build; also a script, to look at any built book::

    python tests/rendered.py _build/html [book/data ...] [--no-shots]   # a report of what fails

At 1,400 px (a laptop), for every output of every page (``div.cell_output``):

* no output table wider than the text column;
* every cell of an output table padded (computed padding left and right > 0);
* no number in an output table with more than three decimals;
* no count printed as a float ("624.0", "241.000": a column or row of two or more numbers that all end
  in ".0", one of them above 1);
* every output image inside a ``<figure>`` with a non-empty ``<figcaption>``, and with alt text that
  says something (not empty, not a file name);
* no ``<... at 0x...>`` repr, no "Warning" and no "Traceback" in any output.

At 420 px (a phone held upright, Chrome's mobile emulation, the page loaded at that width):

* no image wider than the screen;
* no page that scrolls sideways (``document.documentElement.scrollWidth`` at most the width).

Each check lists every offending page and element, not only the first.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

DESKTOP, PHONE = 1400, 420
SCREENSHOT_MAX_HEIGHT = 30000    # Chromium cannot capture much more in one image

CHECKS_1400 = ("wide tables", "unpadded tables", "more than three decimals", "counts as floats",
               "figures without caption or alt text", "reprs, warnings, tracebacks")
CHECKS_420 = ("images wider than the phone", "pages that scroll sideways")

_JS_DESKTOP = r"""
const out = {"wide tables": [], "unpadded tables": [], "more than three decimals": [],
             "counts as floats": [], "figures without caption or alt text": [],
             "reprs, warnings, tracebacks": []};
const squash = (s) => (s || "").replace(/\s+/g, " ").trim();
const short = (s, n) => { s = squash(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; };
const where = (el) => { const s = el.closest("section[id]"); return s ? "#" + s.id : ""; };
const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
const acs = getComputedStyle(article);
const column = article.clientWidth - parseFloat(acs.paddingLeft) - parseFloat(acs.paddingRight);
const tables = Array.from(document.querySelectorAll("div.cell_output table"));
tables.forEach((t, i) => {
  const name = `output table ${i + 1} ${where(t)} ("${short((t.querySelector("tr") || t).textContent, 50)}")`;
  const width = Math.max(t.getBoundingClientRect().width, t.scrollWidth);
  if (width > column + 1) out["wide tables"].push(`${name}: ${Math.round(width)} px, column ${Math.round(column)} px`);
  const cells = Array.from(t.querySelectorAll("th, td"));
  const bare = cells.filter(c => { const s = getComputedStyle(c);
    return !(parseFloat(s.paddingLeft) > 0 && parseFloat(s.paddingRight) > 0); });
  if (bare.length) out["unpadded tables"].push(`${name}: ${bare.length} of ${cells.length} cells without padding`);
  const long = cells.map(c => squash(c.textContent)).filter(x => /(^|[^\d.])\d+\.\d{4,}(?!\d)/.test(x));
  if (long.length) out["more than three decimals"].push(`${name}: ${long.slice(0, 6).join(" | ")}` +
                                                       (long.length > 6 ? ` (${long.length} cells)` : ""));
  // a count printed as a float: a column (or a row) whose numbers all read like "624.0" or "241.000"
  const isNumber = (x) => /^-?[\d,]*\.?\d+(e[-+]?\d+)?%?$/i.test(x);
  const isFloatCount = (x) => /^-?[\d,]+\.0+$/.test(x);
  const rows = Array.from(t.querySelectorAll("tbody tr")).map(r => Array.from(r.children).map(c => squash(c.textContent)));
  const flagged = new Set();
  const lines = [];
  const ncol = Math.max(0, ...rows.map(r => r.length));
  for (let j = 0; j < ncol; j++) lines.push(rows.map(r => r[j]).filter(x => x !== undefined));
  rows.forEach(r => lines.push(r.slice(1)));
  // one number alone, or only zeros and ones (a probability or a parameter at its bound, "1.000"),
  // says nothing about whether the line holds counts: at least two numbers, one of them above 1
  const above1 = (x) => Math.abs(parseFloat(x.replace(/,/g, ""))) > 1;
  lines.forEach(line => { const nums = line.filter(isNumber);
    if (nums.length >= 2 && nums.every(isFloatCount) && nums.some(above1)) nums.forEach(x => flagged.add(x)); });
  if (flagged.size) out["counts as floats"].push(`${name}: ${Array.from(flagged).slice(0, 6).join(" | ")}`);
});
const images = Array.from(document.querySelectorAll("div.cell_output img"));
images.forEach((img, i) => {
  const fig = img.closest("figure");
  const cap = fig ? fig.querySelector("figcaption") : null;
  const alt = squash(img.getAttribute("alt"));
  const problems = [];
  if (!fig) problems.push("not in a <figure>");
  else if (!cap || !squash(cap.textContent)) problems.push("no caption");
  if (!alt) problems.push("no alt text");
  else if (/\.(png|jpe?g|svg|gif)$/i.test(alt) || /^(image|figure|output)$/i.test(alt)) problems.push(`alt text "${alt}"`);
  if (problems.length) out["figures without caption or alt text"].push(`output image ${i + 1} ${where(img)}: ${problems.join(", ")}`);
});
Array.from(document.querySelectorAll("div.cell_output")).forEach((o, i) => {
  const text = o.textContent || "";
  const found = [];
  const repr = text.match(/<[^<>\n]{1,120}? at 0x[0-9a-fA-F]+>/g);
  if (repr) found.push(...repr.map(r => short(r, 70)));
  const bad = text.match(/[^\n]{0,40}(Warning|Traceback)[^\n]{0,40}/g);
  if (bad) found.push(...bad.map(r => short(r, 90)));
  if (found.length) out["reprs, warnings, tracebacks"].push(`output ${i + 1} ${where(o)}: ${found.slice(0, 4).join(" | ")}`);
});
return JSON.stringify(out);
"""

_JS_PHONE = r"""
const width = arguments[0];
const out = {"images wider than the phone": [], "pages that scroll sideways": []};
const where = (el) => { const s = el.closest("section[id]"); return s ? "#" + s.id : ""; };
Array.from(document.querySelectorAll("div.cell_output img, figure img, main img")).forEach((img, i) => {
  const w = img.getBoundingClientRect().width;
  if (w > width + 1) out["images wider than the phone"].push(`image ${i + 1} ${where(img)}: ${Math.round(w)} px`);
});
const sw = document.documentElement.scrollWidth;
if (sw > width + 1) {
  // the elements that stick out, outermost first, not those inside a box that scrolls or clips
  const clipped = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const s = getComputedStyle(p).overflowX; if (s === "auto" || s === "scroll" || s === "hidden") return true; }
    return false; };
  const culprits = Array.from(document.querySelectorAll("main *")).filter(el =>
    el.getBoundingClientRect().right > width + 1 && !clipped(el) &&
    !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1));
  const label = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ?
    "." + el.className.trim().split(/\s+/).slice(0, 2).join(".") : "") + " " + where(el);
  out["pages that scroll sideways"].push(`page ${sw} px wide at ${width} px: ` +
    culprits.slice(0, 5).map(label).join(" | "));
}
return JSON.stringify(out);
"""


def chromium(window: str = "1400,1000"):
    """Headless Chromium through Selenium (Debian's chromium and chromium-driver), or None."""
    import shutil

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (binary and driver):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 f"--window-size={window}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


def set_width(browser, width: int, height: int = 1000) -> None:
    """Emulate a screen ``width`` CSS px wide: a phone (mobile viewport, touch) below 600 px."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
                             "screenWidth": width, "screenHeight": height})


def load(browser, page: Path, width: int) -> None:
    """Open ``page`` at ``width``: the width is set *before* the page loads, so that the theme lays
    it out for that screen from the start (a page loaded at 1,400 px and then narrowed can keep its
    desktop layout)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    set_width(browser, width)
    browser.get("about:blank")
    browser.get(page.resolve().as_uri())
    try:   # a long page (the API reference) can still be laying out when get() returns
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "main h1"))
        WebDriverWait(browser, 10).until(lambda b: b.execute_script(
            "return Array.from(document.images).every(i => i.complete)"))
    except TimeoutException:
        pass


def full_page_screenshot(browser, path: Path, width: int) -> None:
    """The whole page at ``width`` (already loaded by :func:`load`), not only the first screen."""
    height = browser.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    height = int(min(max(height, 1000), SCREENSHOT_MAX_HEIGHT))
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def inspect_pages(browser, html: Path, pages: list[str], screenshots: Path | None = None) -> dict:
    """Run every check on every page; ``{check: [offence, ...]}``, each offence naming its page.

    With ``screenshots``, also saves ``<page>-1400.png`` and ``<page>-420.png`` there.
    """
    report = {name: [] for name in CHECKS_1400 + CHECKS_420}
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    for rel in pages:
        page = html / (rel + ".html")
        for width, script in ((DESKTOP, _JS_DESKTOP), (PHONE, _JS_PHONE)):
            load(browser, page, width)
            found = json.loads(browser.execute_script(script, width))
            for name, offences in found.items():
                report[name] += [f"{rel}: {o}" for o in offences]
            if screenshots is not None:
                full_page_screenshot(browser, screenshots / f"{Path(rel).name}-{width}.png", width)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return report


INTERACTIVE_PAGES = ("book/fairgp_parity", "book/smooth_sensitivity", "book/adversarial")

_JS_FIGURE_STATE = r"""
const gd = document.querySelectorAll("div.fairnotes-interactive .fairnotes-plot")[arguments[0]];
return JSON.stringify([gd.data.map(t => [t.x, t.y]), gd.layout.title && gd.layout.title.text]);
"""


def offline(browser) -> None:
    """Switch the browser's network off (Chrome DevTools: every request that is not a file fails)."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def move_sliders(browser, page: Path) -> tuple[int, list[str]]:
    """Open ``page`` (network off beforehand: :func:`offline`), wait for its interactive figures
    (``fairnotes/interactive.py``) to be drawn, click another step of every slider of every figure
    and check that the plotted data changed. Returns the number of figures and the problems found.
    """
    import time

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    load(browser, page, DESKTOP)
    problems = []
    remote = browser.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => /^(https?:)?\\/\\//.test(u))")
    problems += [f"{page.name}: loads {u} from the network" for u in remote if "plot" in u or u.endswith(".js")]
    boxes = browser.find_elements(By.CSS_SELECTOR, "div.fairnotes-interactive")
    for _ in range(40):
        drawn = browser.execute_script(
            "return Array.from(document.querySelectorAll('div.fairnotes-interactive'))"
            ".filter(b => b.getAttribute('data-drawn') === 'yes').length")
        if drawn == len(boxes):
            break
        time.sleep(0.25)
    if not boxes:
        return 0, [f"{page.name}: no interactive figure"]
    if drawn != len(boxes):
        return len(boxes), [f"{page.name}: {drawn} of {len(boxes)} interactive figures drawn (plotly.js not served?)"]
    for i, box in enumerate(boxes):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        for k, group in enumerate(box.find_elements(By.CSS_SELECTOR, "g.slider-group")):
            rail = group.find_element(By.CSS_SELECTOR, "rect.slider-rail-touch-rect")
            labels = group.find_elements(By.CSS_SELECTOR, "g.slider-label-group")
            if len(labels) < 2:
                problems.append(f"{page.name}: figure {i + 1}, slider {k + 1} has {len(labels)} step(s)")
                continue
            before = browser.execute_script(_JS_FIGURE_STATE, i)
            active = browser.execute_script(
                "return document.querySelectorAll('div.fairnotes-interactive .fairnotes-plot')[arguments[0]]"
                "._fullLayout.sliders[arguments[1]].active", i, k)
            target = labels[0] if active else labels[-1]
            dx = browser.execute_script(
                "const a = arguments[0].getBoundingClientRect(), l = arguments[1].getBoundingClientRect();"
                "return l.x + l.width / 2 - (a.x + a.width / 2)", rail, target)
            ActionChains(browser).move_to_element_with_offset(rail, int(dx), 0).click().perform()
            time.sleep(0.4)
            if browser.execute_script(_JS_FIGURE_STATE, i) == before:
                problems.append(f"{page.name}: figure {i + 1}, slider {k + 1}: the data did not change")
    return len(boxes), problems


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    html = Path(args[0] if args else "_build/html")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    from toc import toc_files

    pages = [e.removesuffix(".md") for e in toc_files()] if len(args) < 2 else args[1:]
    pages = [p for p in pages if (html / (p + ".html")).exists()]
    browser = chromium()
    if browser is None:
        print("headless Chromium is not installed (apt-get install chromium chromium-driver)")
        return 2
    try:
        shots = Path(html).parent / "screenshots" if "--no-shots" not in flags else None
        report = inspect_pages(browser, html, pages, shots)
    finally:
        browser.quit()
    for name, offences in report.items():
        print(f"## {name}: {len(offences)}")
        for o in offences:
            print("  " + o)
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
