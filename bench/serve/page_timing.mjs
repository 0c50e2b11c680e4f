/* SPDX-License-Identifier: MIT */
// page_timing.mjs - how long the page of `ttlog serve` takes, in Debian's
// headless chromium through playwright-core: from navigation to a drawn
// timeline (mark_ms: the page's performance mark ttlog-timeline-drawn,
// from navigation start; timeline_ms: as the driver saw it), and to the
// first page of the event table. Prints JSON lines.
//
// Usage: node page_timing.mjs MODULES_DIR URL SRC [RUNS]
//   MODULES_DIR  node_modules with playwright-core (the browser test
//                installs it into BUILD/browser-test/node_modules)
//   URL          the server (http://127.0.0.1:PORT), SRC a source id
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [modulesDir, url, src, runs = '5'] = process.argv.slice(2);
const { chromium } = createRequire(resolve(modulesDir) + '/')('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.TTLOG_CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox', '--disable-gpu'] });
for (let i = 0; i < Number(runs); i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(60000);
  const t0 = Date.now();
  await page.goto(`${url}/#src=${src}`);
  await page.waitForSelector('#timeline[data-drawn="1"]');
  const timeline = Date.now() - t0;
  /* The page's own view: its clock starts at navigation. */
  const inPage = await page.evaluate(() => ({
    /* The page's mark at its first drawing with data (app.js). */
    mark_ms: Math.round((performance.getEntriesByName('ttlog-timeline-drawn')[0] || { startTime: -1 }).startTime),
    drawn_ms: Math.round(performance.now()),
    requests: performance.getEntriesByType('resource').map((r) => [r.name.replace(/^.*\//, '').slice(0, 24), Math.round(r.startTime), Math.round(r.duration)]),
  }));
  await page.waitForFunction(() => Number(document.getElementById('table').dataset.rows) > 0);
  const table = Date.now() - t0;
  console.log(JSON.stringify({ run: i + 1, timeline_ms: timeline, first_rows_ms: table, ...inPage }));
  await page.close();
}
await browser.close();
