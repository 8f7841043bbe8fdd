"""What each page of a built book costs a reader: bytes and time to a readable page.

Used by benchmarks/run.py (``--pages-only`` runs just this part on an existing build).

Per page, each run opens the page in a fresh browser context (empty cache) from a
local server that gzips text, as web servers do:

* bytes on the wire: the Resource Timing ``transferSize`` of the page and of every
  resource it loaded (body as sent plus headers);
* decoded bytes: ``decodedBodySize`` of the same, in total and apart from figures
  (images under ``_images/`` or loaded by an ``<img>``);
* time to a readable page, in ms from navigation start, at 1x and 4x CPU
  throttling (CDP ``Emulation.setCPUThrottlingRate``): the load event; the moment
  the math is typeset (MathJax's startup promise where a page still typesets in the
  browser, DOMContentLoaded where the HTML already holds typeset math); the moment
  the web fonts are ready after both (layout forced, then ``document.fonts.ready``).
  "Readable" is the latest of the three.

Each number is the median over the runs.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

# Installed before any page script runs: records the three moments as they happen.
_PROBE = r"""
window.__bench = {};
addEventListener('DOMContentLoaded', () => { window.__bench.dcl = performance.now(); });
addEventListener('load', () => {
  const b = window.__bench;
  b.load = performance.now();
  const mj = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
  Promise.resolve(mj).then(() => {
    b.math = mj ? performance.now() : b.dcl;
    void document.body.offsetHeight;   // lay out the typeset math: its fonts start loading
    return document.fonts.ready;
  }).then(() => { b.fonts = performance.now(); b.done = true; });
});
"""

_SIZES = r"""
() => {
  const entries = [performance.getEntriesByType('navigation')[0],
                   ...performance.getEntriesByType('resource')];
  return entries.map((e) => ({
    url: e.name, type: e.initiatorType, wire: e.transferSize, decoded: e.decodedBodySize,
  }));
}
"""


@dataclass
class PageTiming:
    page: str
    wire: int = 0
    decoded: int = 0
    decoded_without_figures: int = 0
    requests: int = 0
    # throttling rate -> {"load": ms, "math": ms, "fonts": ms, "readable": ms}
    times: dict[int, dict[str, float]] = field(default_factory=dict)
    resources: list[dict] = field(default_factory=list)


def is_figure(entry: dict) -> bool:
    return entry["type"] == "img" or "/_images/" in entry["url"]


def measure_once(b, url: str, rate: int) -> tuple[dict[str, float], list[dict]]:
    context = b.new_context(service_workers="block", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(_PROBE)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(url, wait_until="load", timeout=120_000)
    page.wait_for_function("() => window.__bench && window.__bench.done", timeout=120_000)
    page.wait_for_timeout(200)  # resources requested after the fonts (none expected)
    t = page.evaluate("() => window.__bench")
    times = {k: t[k] for k in ("load", "math", "fonts")}
    times["readable"] = max(times.values())
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    sizes = page.evaluate(_SIZES)
    context.close()
    return times, sizes


def measure_page(b, base_url: str, page_path: str, runs: int = 3, rates=(1, 4)) -> PageTiming:
    result = PageTiming(page_path)
    size_runs = []
    for rate in rates:
        samples = []
        for _ in range(runs):
            times, sizes = measure_once(b, base_url + page_path, rate)
            samples.append(times)
            size_runs.append(sizes)
        result.times[rate] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    # Sizes do not depend on throttling; take the median over every run.
    result.wire = int(statistics.median(sum(e["wire"] for e in s) for s in size_runs))
    result.decoded = int(statistics.median(sum(e["decoded"] for e in s) for s in size_runs))
    result.decoded_without_figures = int(statistics.median(
        sum(e["decoded"] for e in s if not is_figure(e)) for s in size_runs))
    result.requests = len(size_runs[0])
    result.resources = sorted(size_runs[0], key=lambda e: -e["decoded"])
    return result


# Targets of the page budget (benchmark only, not a timed test).
CHAPTER_READABLE_MS_4X = 2000
CHAPTER_WIRE = 600_000
DECODED_WITHOUT_FIGURES = 1_000_000


def is_chapter(page: str) -> bool:
    return page.startswith("notebooks/")


def table(results: list[PageTiming], rates=(1, 4)) -> list[str]:
    head = ["페이지 (page)", "전송량 (wire, kB)", "원래 크기 (decoded, kB)", "그림 제외 (decoded w/o figures, kB)",
            "요청 (requests)"]
    for rate in rates:
        head += [f"{rate}x load (ms)", f"{rate}x math (ms)", f"{rate}x fonts (ms)", f"{rate}x 읽을 수 있음 (readable, ms)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [f"`{r.page}`", f"{r.wire / 1e3:.0f}", f"{r.decoded / 1e3:.0f}",
                 f"{r.decoded_without_figures / 1e3:.0f}", str(r.requests)]
        for rate in rates:
            t = r.times[rate]
            cells += [f"{t['load']:.0f}", f"{t['math']:.0f}", f"{t['fonts']:.0f}", f"**{t['readable']:.0f}**"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def short_name(page: str) -> str:
    """The page's file stem: a whole path in code type is wider than a phone's column."""
    return page.rsplit("/", 1)[-1].removesuffix(".html")


def verdict(results: list[PageTiming]) -> list[str]:
    chapters = [r for r in results if is_chapter(r.page)]
    out = []
    if chapters and 4 in chapters[0].times:
        slow = max(chapters, key=lambda r: r.times[4]["readable"])
        t = slow.times[4]["readable"]
        out.append(f"- 4x 스로틀링에서 가장 느린 장: `{short_name(slow.page)}` {t:.0f} ms "
                   f"(목표 {CHAPTER_READABLE_MS_4X} ms 미만: {'달성' if t < CHAPTER_READABLE_MS_4X else '미달'})")
    if chapters:
        heavy = max(chapters, key=lambda r: r.wire)
        out.append(f"- 전송량이 가장 큰 장: `{short_name(heavy.page)}` {heavy.wire / 1e3:.0f} kB "
                   f"(목표 {CHAPTER_WIRE / 1e3:.0f} kB 미만: {'달성' if heavy.wire < CHAPTER_WIRE else '미달'})")
    big = max(results, key=lambda r: r.decoded_without_figures)
    out.append(f"- 그림을 빼고 가장 큰 페이지: `{short_name(big.page)}` {big.decoded_without_figures / 1e3:.0f} kB decoded "
               f"(목표 {DECODED_WITHOUT_FIGURES / 1e3:.0f} kB 이하: "
               f"{'달성' if big.decoded_without_figures <= DECODED_WITHOUT_FIGURES else '미달'})")
    return out
