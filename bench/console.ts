/**
 * npm run bench:console -- [--state .local/supercluster.json] [--pce 0] [--runs 5] [--refreshes 10]
 * The web console's first page load and Health refresh times on a running local supercluster (`npm start`),
 * in Debian's Chromium (playwright-core, /usr/bin/chromium):
 * - first load: a new browser context (empty cache) opens the console, signs in with the state file's console
 *   credentials, and waits until the Health table shows every PCE: the time from navigation to that, and to the
 *   sign-in form; the bytes the page transferred;
 * - Health refresh: the Refresh button pressed, until the page shows the new refresh time (GET /health,
 *   /console/pces and each PCE's GSLB switch, rendered).
 * Progress on stderr; one JSON object as the last stdout line.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { LocalSuperclusterState } from '../infra/local/supercluster.ts';
import { percentile } from '../shared/runtime/stats.ts';

const { values } = parseArgs({
  options: {
    state: { type: 'string', default: '.local/supercluster.json' },
    pce: { type: 'string', default: '0' },
    runs: { type: 'string', default: '5' },
    refreshes: { type: 'string', default: '10' },
  },
});
const state = JSON.parse(readFileSync(values.state, 'utf8')) as LocalSuperclusterState;
const login = state.console;
if (!login) throw new Error(`${values.state} has no console credentials (start the supercluster with npm start)`);
const pce = state.pces[Number(values.pce)];
if (!pce) throw new Error(`no PCE ${values.pce} in ${values.state}`);
const url = `${pce.url}/`;
const rows = state.pces.length;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const firstLoad: number[] = [];
const signInForm: number[] = [];
const refresh: number[] = [];
let transferred = 0;
try {
  for (let run = 0; run < Number(values.runs); run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    let bytes = 0;
    page.on('response', (res) => {
      void res.body().then(
        (b) => (bytes += b.length),
        () => undefined,
      );
    });
    const started = performance.now();
    await page.goto(url);
    await page.getByLabel('Username').waitFor();
    signInForm.push(performance.now() - started);
    await page.getByLabel('Username').fill(login.username);
    await page.getByLabel('Password').fill(login.password);
    const signInAt = performance.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid=health-table] tbody tr').nth(rows - 1).waitFor();
    // the sign-in form is filled by a person: the page load is navigation to the form plus sign-in to the rendered Health table
    firstLoad.push(signInForm.at(-1) as number + (performance.now() - signInAt));
    transferred = Math.max(transferred, bytes);
    if (run === 0) {
      for (let i = 0; i < Number(values.refreshes); i++) {
        const before = await page.locator('[data-testid=refreshed-at]').textContent();
        const t = performance.now();
        await page.getByRole('button', { name: 'Refresh' }).click();
        // the page shows the new refresh time once it has rendered the new answers
        await page.locator('[data-testid=refreshed-at]').filter({ hasNotText: before ?? '' }).waitFor();
        refresh.push(performance.now() - t);
        await page.waitForTimeout(1100); // the refresh time shown has a 1 s resolution
      }
    }
    process.stderr.write(`run ${run + 1}: first load ${Math.round(firstLoad.at(-1) ?? 0)} ms\n`);
    await context.close();
  }
} finally {
  await browser.close();
}
const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { n: xs.length, p50_ms: Math.round(percentile(sorted, 0.5)), p95_ms: Math.round(percentile(sorted, 0.95)), max_ms: Math.round(sorted.at(-1) ?? NaN) };
};
console.log(JSON.stringify({ pce: pce.fqdn, url, pces: rows, first_load: summary(firstLoad), sign_in_form: summary(signInForm), health_refresh: summary(refresh), first_load_bytes: transferred }));
