/**
 * The web console in a real browser (playwright-core driving Debian's Chromium) against a running local
 * supercluster: sign-in with the credentials `npm start` writes to the state file, every page at 1280x800 and
 * 390x844 with screenshots (test-results/console/*.png) and an axe-core check (no serious or critical
 * violations), a member's read-only console naming the leader's, a provision started from the console reaching
 * the simulated VENs (each with the time its policy took to arrive), and a member taken down (`pce-ctl local region-down`) turning Critical on the Health page
 * without a reload. The Health page refreshes every 3 s here (`/?refresh=3`; 60 s by default).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCtl, startCluster, type RunningCluster } from '../helpers/local-cluster.ts';
import { ROOT, TSX } from '../helpers/simulator.ts';

const SHOTS = join(ROOT, 'test-results', 'console');
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const PAGES = ['health', 'supercluster', 'vens', 'policy'] as const;
const REFRESH = 3;
const VENS_PER_REGION = 1;

describe('web console in Chromium', () => {
  let cluster: RunningCluster;
  let browser: Browser;
  let simulator: ChildProcess | null = null;
  const login = () => {
    const c = cluster.state.console;
    if (!c) throw new Error('no console credentials in the state file');
    return c;
  };
  const pceUrl = (i: number) => cluster.state.pces[i]?.url ?? '';

  async function signedIn(i: number, viewport: { width: number; height: number } = VIEWPORTS.desktop): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${pceUrl(i)}/?refresh=${REFRESH}#/health`);
    await page.getByLabel('Username').fill(login().username);
    await page.getByLabel('Password').fill(login().password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    return page;
  }

  async function noSeriousViolations(page: Page, what: string): Promise<void> {
    const result = await new AxeBuilder({ page }).analyze();
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${what}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // the PCEs read the built console when they start
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-console.mjs')], { cwd: ROOT, stdio: 'pipe' });
    // other addresses and data dir when another run uses these: CONSOLE_E2E_FIRST_ADDRESS, CONSOLE_E2E_PORT, CONSOLE_E2E_DATA_DIR (emptied first)
    const dataDir = process.env.CONSOLE_E2E_DATA_DIR;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    cluster = await startCluster({ firstAddress: process.env.CONSOLE_E2E_FIRST_ADDRESS ?? '127.0.72.11', port: Number(process.env.CONSOLE_E2E_PORT ?? 19764), timeoutMs: 300_000, ...(dataDir ? { dataDir } : {}) });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    // a loaded machine takes minutes to start DynamoDB Local and three PCEs
  }, 360_000);

  afterAll(async () => {
    if (simulator && simulator.exitCode === null) simulator.kill('SIGTERM');
    await browser?.close();
    await cluster?.stop();
  });

  it('npm start writes the console URL (the leader) and the bootstrap owner credentials, the file private', () => {
    expect(login()).toMatchObject({ url: `${pceUrl(0)}/`, username: 'admin', password: expect.stringMatching(/^.{12,}$/) });
    expect(cluster.output()).toContain(`${pceUrl(1)}/`);
  });

  it('a wrong password is refused; the right one signs in: the Health page shows three Normal PCEs', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    await page.goto(`${pceUrl(0)}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong username or password');
    await context.close();

    const signed = await signedIn(0);
    // a fresh supercluster settles within a few probe intervals: the page refreshes itself until then
    await expect.poll(async () => signed.locator('[data-testid=health-table] tbody tr[data-status=normal]').count(), { timeout: 90_000, interval: 1000 }).toBe(3);
    expect(await signed.locator('[data-testid=health-badge]').count()).toBe(0);
    await expect.poll(() => signed.locator('[data-testid=pce-fqdn]').textContent()).toBe(cluster.state.pces[0]?.fqdn);
    // the lag chart comes from the samples the PCE kept, not from this (new) browser: several at the first load
    await expect.poll(async () => Number(/(\d+) samples/.exec((await signed.locator('[data-testid=lag-history-source]').textContent()) ?? '')?.[1] ?? 0), { timeout: 30_000 }).toBeGreaterThan(1);
    await signed.context().close();
  });

  it('every page at 1280x800 and 390x844: screenshots, no serious accessibility violations', async () => {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const page = await signedIn(0, viewport);
      for (const id of PAGES) {
        await page.goto(`${pceUrl(0)}/?refresh=${REFRESH}#/${id}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        if (id === 'health') await page.locator('[data-testid=health-table] tbody tr').first().waitFor();
        await page.screenshot({ path: join(SHOTS, `${id}-${name}.png`), fullPage: true });
        await noSeriousViolations(page, `${id} at ${name}`);
        // nothing wider than the viewport but the tables' own scrolling boxes
        const overflow = await page.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
        expect(overflow, `${id} at ${name} scrolls sideways`).toBeLessThanOrEqual(1);
      }
      await page.context().close();
    }
  }, 300_000);

  it("a member's console is read-only and names the leader's console URL", async () => {
    const page = await signedIn(1);
    const note = page.locator('[data-testid=read-only-note]');
    await note.waitFor();
    expect(await note.textContent()).toContain(`${pceUrl(0)}/`);
    await page.goto(`${pceUrl(1)}/#/policy`);
    await page.getByRole('heading', { name: 'Pending changes' }).waitFor();
    expect(await page.getByRole('button', { name: 'Provision' }).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'policy-member.png'), fullPage: true });
    await noSeriousViolations(page, 'member policy page');
    // the lease as the lease authority holds it, read on a member
    await page.goto(`${pceUrl(1)}/#/supercluster`);
    await expect.poll(() => page.locator('[data-testid=leader-lease]').getAttribute('data-held-by-leader'), { timeout: 30_000 }).toBe('true');
    expect(await page.locator('[data-testid=leader-lease]').textContent()).toContain(`held by the leader ${cluster.state.pces[0]?.fqdn ?? ''}`);
    await page.context().close();
  });

  it('a provision started from the console reaches the simulated VENs (convergence 100 %)', async () => {
    // simulated VENs (one per PCE) pair, take the simulator's rule set, and stay connected
    simulator = spawn(TSX, ['bench/vens.ts', '--state', cluster.stateFile, '--json', '--per-region', String(VENS_PER_REGION), '--hold', '900', '--flows-every', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let simulatorLog = '';
    simulator.stderr?.on('data', (c: Buffer) => (simulatorLog += c.toString()));
    const total = VENS_PER_REGION * 3;
    // a VEN's policy sync shows on its managing PCE only: each PCE's own VENs, on that PCE
    const appliedSince = async (since: number) => {
      const counts = await Promise.all(
        cluster.state.pces.map(async (p, i) => {
          const vens = (await cluster.api(i, 'GET', '/api/v2/orgs/1/vens')).json as { heartbeat_pce_fqdn: string; security_policy_applied_at: string | null }[];
          return vens.filter((v) => v.heartbeat_pce_fqdn === p.fqdn && v.security_policy_applied_at !== null && Date.parse(v.security_policy_applied_at) >= since).length;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    await eventually(async () => (await appliedSince(0)) === total, 300_000, `${total} VENs paired with policy applied`).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; the simulator said:\n${simulatorLog}`);
    });
    // a pending change for every VEN: a rule set over all workloads (every managed workload to every other on All Services)
    const services = (await cluster.api(0, 'GET', '/api/v2/orgs/1/sec_policy/draft/services?name=All%20Services')).json as { href: string }[];
    const created = await cluster.api(0, 'POST', '/api/v2/orgs/1/sec_policy/draft/rule_sets', {
      name: 'console-e2e',
      enabled: true,
      scopes: [[]],
      rules: [{ enabled: true, providers: [{ actors: 'ams' }], consumers: [{ actors: 'ams' }], ingress_services: [{ href: services[0]?.href ?? '' }], resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] } }],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    const page = await signedIn(0);
    await page.goto(`${pceUrl(0)}/#/policy`);
    await expect.poll(() => page.locator('[data-testid=pending-count]').textContent(), { timeout: 30_000 }).toContain('1 pending change');
    await page.getByLabel('Description').fill('from the web console e2e test');
    const provisionedAt = Date.now() - 1_000;
    await page.getByRole('button', { name: 'Provision' }).click();
    const convergence = page.locator('[data-testid=convergence] [role=status]');
    await expect.poll(() => convergence.textContent(), { timeout: 30_000 }).toMatch(/[1-9]\d* workload\(s\) affected/);
    // the leader's console follows its own VENs, and names the PCEs managing the others
    await expect.poll(() => convergence.textContent(), { timeout: 120_000, interval: 1000 }).toContain(`${VENS_PER_REGION} of ${VENS_PER_REGION} VENs managed by this PCE applied it`);
    expect(await page.locator('[data-testid=convergence]').textContent()).toContain(cluster.state.pces[1]?.fqdn);
    // and every simulated VEN took the provision, as its managing PCE reports
    await eventually(async () => (await appliedSince(provisionedAt)) === total, 120_000, `${total} VENs applying the provision`);
    await page.screenshot({ path: join(SHOTS, 'policy-provisioned.png'), fullPage: true });
    // how long it took to arrive, as each VEN's managing PCE reports it (docs/vens-api.md), and in the VENs list
    const arrivals = async () =>
      (
        await Promise.all(
          cluster.state.pces.map(async (p, i) => {
            const vens = (await cluster.api(i, 'GET', '/api/v2/orgs/1/vens')).json as { heartbeat_pce_fqdn: string; security_policy_arrival_seconds: number | null }[];
            return vens.filter((v) => v.heartbeat_pce_fqdn === p.fqdn).map((v) => v.security_policy_arrival_seconds);
          }),
        )
      ).flat();
    await eventually(async () => (await arrivals()).filter((s) => typeof s === 'number' && s >= 0).length === total, 60_000, `${total} VENs with their policy arrival`);
    await page.goto(`${pceUrl(0)}/#/vens`);
    const arrivalCells = page.locator('[data-testid=ven-table] tbody tr td:last-child');
    await expect.poll(async () => (await arrivalCells.allTextContents()).filter((t) => /^\d+ ms$|^\d+\.\d s$|^\d+ (min|h) \d+/.test(t)).length, { timeout: 30_000 }).toBe(VENS_PER_REGION);
    await page.context().close();
  }, 480_000);

  it('a member taken down turns Critical on the Health page without a reload, and the badge counts it', async () => {
    const page = await signedIn(0);
    const member = cluster.state.pces[2];
    if (!member) throw new Error('no third PCE');
    const row = page.locator(`[data-testid=health-table] tr[data-pce="${member.fqdn}"]`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('normal');
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const down = await runCtl(['local', 'region-down', member.region], cluster.stateFile);
    expect(down.code, down.stderr).toBe(0);
    // /health: silent for 2 probe intervals (10 s) and its endpoint not answering, then the next refresh
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000, interval: 500 }).toBe('critical');
    expect(await row.textContent()).toContain('has failed or is down');
    await expect.poll(() => page.locator('[data-testid=health-badge]').textContent()).toBe('1');
    expect(navigations).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'health-region-down.png'), fullPage: true });
    await page.context().close();
  });
});
