/* SPDX-License-Identifier: MIT */
// page_test.mjs - the page of `ttlog serve` (and of `ttlog report`) in a
// real browser, headless: Debian's chromium driven by playwright-core, or
// Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi. Both
// run the same checks: for Firefox, a few lines below give puppeteer's page
// the subset of playwright's page API that the checks use.
//
// Usage: node page_test.mjs MODULES_DIR CONFIG.json [chromium|firefox]
//   MODULES_DIR  where `npm ci` put playwright-core and puppeteer-core
//                (the build tree)
//   CONFIG.json  {url, spans, fields, crash, metrics, store, live,
//                live_input, shots, report}: the server's URL, the source
//                ids of the test snapshots and of a running process
//                (tests/progs/shm_echo, which logs each line written to
//                live_input), the directory for screenshots, and a report
//                file (or "")
//   chromium     (the default) /usr/bin/chromium, or $TTLOG_CHROMIUM
//   firefox      /usr/bin/firefox-esr, or $TTLOG_FIREFOX
//
// Prints "ok NAME" or "FAIL NAME: why" per check and "N passed, N failed";
// exits 1 on any failure, also when the browser cannot start.
import { createRequire } from 'node:module';
import { readFileSync, appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [modulesDir, configPath, which = 'chromium'] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(configPath, 'utf8'));
const require = createRequire(resolve(modulesDir) + '/');

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log('ok   ' + name); }
  else { failed++; console.log('FAIL ' + name + (detail !== undefined ? ': ' + detail : '')); }
}
function giveUp(message) {
  console.log('FAIL ' + message);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// puppeteer's page with the names and argument orders of playwright's.
function asPlaywright(p) {
  return {
    on: (name, fn) => p.on(name, fn),
    setDefaultTimeout: (ms) => p.setDefaultTimeout(ms),
    goto: (url) => p.goto(url),
    waitForSelector: (sel, opt) => p.waitForSelector(sel, opt),
    waitForFunction: (fn, arg, opt) => p.waitForFunction(fn, { timeout: opt && opt.timeout }, arg),
    $eval: (sel, fn, arg) => p.$eval(sel, fn, arg),
    $$eval: (sel, fn, arg) => p.$$eval(sel, fn, arg),
    evaluate: (fn, arg) => p.evaluate(fn, arg),
    screenshot: (opt) => p.screenshot(opt),
    selectOption: (sel, value) => p.select(sel, value),
    click: (sel) => p.click(sel),
    focus: (sel) => p.focus(sel),
    keyboard: p.keyboard,
    // Typed, as a user does: select what the input holds, then type over it.
    fill: async (sel, text) => {
      await p.$eval(sel, (e) => { e.focus(); e.select(); });
      if (text) await p.keyboard.type(text);
      else await p.keyboard.press('Backspace');
    },
    press: async (sel, key) => { await p.focus(sel); await p.keyboard.press(key); },
    textContent: (sel) => p.$eval(sel, (e) => e.textContent),
    inputValue: (sel) => p.$eval(sel, (e) => e.value),
    close: () => p.close(),
  };
}

let browser;
if (which === 'firefox') {
  let puppeteer;
  try {
    puppeteer = require('puppeteer-core');
  } catch (err) {
    giveUp(`puppeteer-core: cannot load it from ${modulesDir}: ${err.message}`);
  }
  const executablePath = process.env.TTLOG_FIREFOX || '/usr/bin/firefox-esr';
  let ff;
  try {
    ff = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true,
      protocolTimeout: 60000 });
  } catch (err) {
    giveUp(`the browser did not start (${executablePath}): ${err.message.split('\n')[0]}\n` +
      'Install it with scripts/install-deps.sh (Debian package firefox-esr).');
  }
  browser = {
    newPage: async (opt) => {
      const p = await ff.newPage();
      await p.setViewport((opt && opt.viewport) || { width: 1280, height: 900 });
      return asPlaywright(p);
    },
    close: () => ff.close(),
  };
} else if (which === 'chromium') {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (err) {
    giveUp(`playwright-core: cannot load it from ${modulesDir}: ${err.message}`);
  }
  const executablePath = process.env.TTLOG_CHROMIUM || '/usr/bin/chromium';
  try {
    browser = await chromium.launch({ executablePath, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  } catch (err) {
    giveUp(`the browser did not start (${executablePath}): ${err.message.split('\n')[0]}\n` +
      'Install it with scripts/install-deps.sh (Debian package chromium).');
  }
} else {
  giveUp(`unknown browser '${which}': chromium or firefox`);
}
console.log('browser: ' + which);

const problems = [];
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
page.setDefaultTimeout(15000);

async function waitRows(n) {
  await page.waitForFunction((k) => document.getElementById('table').dataset.rows === String(k), n)
    .catch(() => {});
  return page.$$eval('#table-spacer .row .msg', (rs) => rs.map((r) => r.textContent));
}

// The timeline's ticks once it drew them with the table's filters (or
// without any): the number of events they stand for.
async function ticks(filtered) {
  await page.waitForSelector(`#timeline[data-drawn="1"][data-ticks-filtered="${filtered ? 1 : 0}"]`);
  return page.$eval('#timeline', (t) => t.dataset.ticks);
}

async function step(name, fn) {
  try { await fn(); } catch (err) { check(name, false, err.message.split('\n')[0]); }
}

async function timelineChecks(where, src) {
  await page.waitForSelector('#timeline[data-drawn="1"]');
  const lanes = await page.$$eval('#lanes .lane-label', (ls) => ls.map((l) => l.textContent));
  check(where + ': two lanes, main and worker', lanes.length === 2 &&
    lanes.some((l) => / main \[/.test(l)) && lanes.some((l) => / worker \[/.test(l)), JSON.stringify(lanes));
  const spans = await page.$eval('#timeline', (t) => t.dataset.spans);
  check(where + ': four spans drawn', spans === '4', spans);
  // The canvas really has paint where a span bar is: count its non-white pixels.
  const painted = await page.$eval('#tl-canvas', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 && d[i + 3] > 0) n++;
    return n;
  });
  check(where + ': the canvas is drawn', painted > 500, painted);
  void src;
}

// ---- The server's page ------------------------------------------------------
await step('serve: timeline', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.spans}`);
  await timelineChecks('serve', cfg.spans);
  await page.screenshot({ path: cfg.shots + '/timeline.png' });
});

await step('serve: filters', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.fields}`);
  let rows = await waitRows(7);
  check('all 7 events of the fields file', rows.length === 7, rows.length);
  let n = await ticks(false);
  check('the timeline ticks stand for the 7 events', n === '7', n);
  await page.selectOption('#f-level', 'warn');
  rows = await waitRows(1);
  check('level warn: the one WARN row', rows.length === 1 && rows[0].startsWith('a=1 a=2'), JSON.stringify(rows));
  check('the hash names the filter', (await page.evaluate(() => location.hash)).includes('level=warn'));
  n = await ticks(true);
  check('level warn: the timeline ticks follow (1 event)', n === '1', n);
  await page.click('#f-clear');
  await waitRows(7);
  await page.fill('#f-field', 'ip=10.0.0.1');
  await page.press('#f-field', 'Enter');
  rows = await waitRows(3);
  // Each browser's fonts: a timestamp ends before the level column starts.
  const crowded = await page.$$eval('#table-spacer .row span:first-child', (ss) => ss.filter((x) => {
    const r = document.createRange();
    r.selectNodeContents(x);
    return r.getBoundingClientRect().right + 2 > x.nextElementSibling.getBoundingClientRect().left;
  }).map((x) => x.textContent));
  check('the time column is wide enough for its timestamps', crowded.length === 0, JSON.stringify(crowded));
  check('field ip=10.0.0.1: three rows', rows.length === 3 && rows.every((r) => r.startsWith('auth.login ok')), JSON.stringify(rows));
  n = await ticks(true);
  check('field ip=10.0.0.1: the timeline ticks follow (3 events)', n === '3', n);
  await page.click('#table-spacer .row[data-i="1"]');
  const detail = await page.textContent('#detail');
  check('the detail panel shows the fields and call site', /user42/.test(detail.replace(/\s/g, '')) && /cli_snapshot\.c:\d+/.test(detail), detail.slice(0, 200));
  await page.screenshot({ path: cfg.shots + '/filters.png' });
  // A link with the filters in its hash shows the same rows.
  const p2 = await browser.newPage();
  await p2.goto(`${cfg.url}/#src=${cfg.fields}&field=user%3D43`);
  await p2.waitForFunction(() => document.getElementById('table').dataset.rows === '1');
  check('a shared link restores the filter', (await p2.inputValue('#f-field')) === 'user=43');
  await p2.close();
});

await step('serve: trace', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.spans}`);
  await waitRows(6);
  // Keyboard: the table takes arrows; the event inside a trace shows it.
  await page.focus('#table');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  // The spans come with the timeline, which may arrive after the events.
  await page.waitForFunction(() => /http\.request/.test(document.getElementById('detail').textContent),
    null, { timeout: 5000 }).catch(() => {});
  const detail = await page.textContent('#detail');
  check('keyboard selection shows a span chain', /Span chain/.test(detail) && /http\.request/.test(detail), detail.slice(0, 300));
  await page.click('#detail a.trace');
  await page.waitForSelector('#waterfall .wf-row');
  const names = await page.$$eval('#waterfall .wf-row .wf-name', (r) => r.map((x) => x.textContent.trim().split(/\s+/)[0]));
  check('the waterfall has the trace\'s three spans', JSON.stringify(names) === JSON.stringify(['http.request', 'db.query', 'worker.job']), JSON.stringify(names));
  const durs = await page.$$eval('#waterfall .wf-dur', (r) => r.map((x) => x.textContent));
  check('with their durations', durs.join(',') === '11.000us,3.000us,2.000us', durs.join(','));
  await page.screenshot({ path: cfg.shots + '/trace.png' });
});

await step('serve: sql', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.store}&tab=sql`);
  await page.fill('#sql-text', "SELECT level, count(*) AS n FROM events WHERE level IN ('warn','error') GROUP BY level ORDER BY level");
  await page.click('#sql-form button');
  await page.waitForSelector('#sql-grid tbody tr');
  const cells = await page.$$eval('#sql-grid tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent).join('=')));
  check('SQL result grid', cells.join(',') === 'error=1,warn=3', cells.join(','));
  await page.screenshot({ path: cfg.shots + '/sql.png' });
});

await step('serve: crash', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.crash}&tab=crash`);
  await page.waitForSelector('#crash ol.frames li');
  const text = await page.textContent('#crash');
  check('crash panel: signal, backtrace with file:line, registers',
    /SIGSEGV at address 0x0/.test(text) && /write_nowhere at \S*cli_snapshot\.c:\d+/.test(text) && /rip/.test(text), text.slice(0, 300));
  await page.screenshot({ path: cfg.shots + '/crash.png' });
});

await step('serve: metrics', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.metrics}&tab=metrics`);
  await page.waitForSelector('#charts .chart svg');
  const titles = await page.$$eval('#charts .chart h4', (h) => h.map((x) => x.textContent));
  check('metrics charts', titles.length === 5 && titles.some((t) => t.startsWith('http.latency_ms')), JSON.stringify(titles));
  await page.screenshot({ path: cfg.shots + '/metrics.png' });
});

await step('serve: live tail of a running process', async () => {
  await page.goto(`${cfg.url}/#src=${cfg.live}`);
  await waitRows(3);
  const before = await page.$$eval('#table-spacer .row .msg', (rs) => rs.map((r) => r.textContent));
  check('live: the process\'s snapshot in the table', before.join() === 'echo start 1,echo start 2,echo start 3', before.join());
  await page.click('#f-tail');
  await page.waitForSelector('#live[data-ready="1"]');
  appendFileSync(cfg.live_input, 'log first row live\nwarn second row live\n');
  const rows = await waitRows(5);
  check('live: the new events arrive as rows', rows.slice(3).join() === 'first row live,second row live', rows.join());
  const status = await page.textContent('#status');
  check('live: the status says live', /5 events \(live\)/.test(status), status);
  await page.screenshot({ path: cfg.shots + '/live.png' });
  await page.click('#f-tail');
});

check('no script error and no CSP violation on the served page', problems.length === 0, problems.join(' | '));
problems.length = 0;

// ---- The offline report, from a file:// URL ---------------------------------------
if (cfg.report) {
  await step('report', async () => {
    const rp = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    rp.on('pageerror', (e) => problems.push('page error: ' + e.message));
    rp.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    let outside = 0;
    rp.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) outside++; });
    await rp.goto(pathToFileURL(cfg.report).href);
    const save = page;
    await rp.waitForSelector('#timeline[data-drawn="1"]');
    const lanes = await rp.$$eval('#lanes .lane-label', (ls) => ls.length);
    const spans = await rp.$eval('#timeline', (t) => t.dataset.spans);
    check('report: two lanes and four spans', lanes === 2 && spans === '4', lanes + ' ' + spans);
    await rp.waitForFunction(() => document.getElementById('table').dataset.rows === '6');
    await rp.selectOption('#f-level', 'warn');
    await rp.waitForFunction(() => document.getElementById('table').dataset.rows === '1');
    await rp.waitForSelector('#timeline[data-ticks-filtered="1"]');
    const rticks = await rp.$eval('#timeline', (t) => t.dataset.ticks);
    check('report: the timeline ticks follow the level filter offline', rticks === '1', rticks);
    const rows = await rp.$$eval('#table-spacer .row .msg', (r) => r.map((x) => x.textContent));
    check('report: the level filter works offline', rows.join() === 'slow response', rows.join());
    await rp.screenshot({ path: cfg.shots + '/report.png' });
    check('report: no request left the file', outside === 0, outside);
    check('report: no script error', problems.length === 0, problems.join(' | '));
    await rp.close();
    void save;
  });
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
