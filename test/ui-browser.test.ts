/**
 * The web UI in real Chromium against a real `trestle server` (a child process of the CLI)
 * seeded with real runs over REST: every page loads without console errors, filters and
 * sorting change the rows, charts draw their points (and zooming fetches finer ones), a live
 * run's chart grows without a reload, compare shows the differences, `--auth` asks for a token.
 * Each page is saved as a screenshot under `.tmp/ui-screenshots/`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { buildUi, uiBuildIsCurrent } from '@trestle/ui';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, collectErrors, launchChromium } from './support/browser.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';
import { restCaller, seedUi, type UiSeed } from './support/ui-seed.js';

const SHOTS = join(import.meta.dirname, '..', '.tmp', 'ui-screenshots');
const missing = browserUnavailable();
if (missing !== undefined && process.env['CI'] === 'true')
  throw new Error(`browser tests need Chromium in CI: ${missing}`);
if (missing !== undefined) console.warn(`skipping the UI browser tests: ${missing}`);

describe.skipIf(missing !== undefined)('web UI in Chromium', { timeout: 90_000 }, () => {
  let home: string;
  let server: ServerProcess;
  let browser: Browser;
  let seed: UiSeed;

  beforeAll(async () => {
    if (!uiBuildIsCurrent()) await buildUi();
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(join(tmpdir(), 'trestle-ui-test-'));
    server = await spawnServer({ entry: 'cli', env: { TRESTLE_HOME: home } });
    [seed, browser] = await Promise.all([seedUi(server.url, { runCount: 24 }), launchChromium()]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    const exit = await server?.stop();
    rmSync(home, { recursive: true, force: true });
    expect(exit?.loggedErrors ?? []).toEqual([]);
  });

  async function open(
    path: string,
    options: { theme?: 'light' | 'dark' } = {},
  ): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = collectErrors(page);
    const theme = options.theme ?? 'light';
    // Strings, not functions: they run in the page, and this file is typed without the DOM.
    await page.addInitScript(`localStorage.setItem('trestle.theme', '${theme}')`);
    await page.goto(`${server.url}${path}`);
    return { page, errors };
  }

  const runNames = (page: Page): Promise<string[]> =>
    page.locator('.grid-row:not(.header) .cell:nth-child(2)').allInnerTexts();
  const runCount = async (page: Page): Promise<number> =>
    Number(/^(\d+)/.exec(await page.getByTestId('run-count').innerText())?.[1] ?? NaN);

  it('the experiments page lists the experiment and opens its runs', async () => {
    const { page, errors } = await open('/');
    await page.getByRole('link', { name: seed.experimentName }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'experiments.png') });
    await page.getByRole('link', { name: seed.experimentName }).click();
    await page.waitForURL(`**/experiments/${seed.experimentId}`);
    await page.locator('.grid-row:not(.header)').first().waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the runs table filters and sorts on the server, and the URL keeps the view', async () => {
    const { page, errors } = await open(`/experiments/${seed.experimentId}`);
    await page.getByTestId('run-count').getByText('25 runs').waitFor();
    await page.screenshot({ path: join(SHOTS, 'runs-table.png') });

    // Filter: only the linear models (every third run).
    const filter = page.getByLabel('filter');
    await filter.fill("params.model = 'linear'");
    await filter.press('Enter');
    const linear = seed.runs.filter((r) => r.model === 'linear');
    await page.getByTestId('run-count').getByText(`${linear.length} runs`).waitFor();
    const names = await runNames(page);
    expect(names.length).toBe(linear.length);
    expect(names.every((n) => n.startsWith('linear-'))).toBe(true);
    expect(new URL(page.url()).searchParams.get('filter')).toBe("params.model = 'linear'");

    // Sort by auc: first click is descending, the second ascending.
    await page.locator('[data-col="metrics.auc"]').click();
    await expect
      .poll(async () => (await runNames(page))[0])
      .toBe([...linear].sort((a, b) => b.auc - a.auc)[0]?.runName);
    await page.locator('[data-col="metrics.auc"]').click();
    await expect
      .poll(async () => (await runNames(page))[0])
      .toBe([...linear].sort((a, b) => a.auc - b.auc)[0]?.runName);
    expect(new URL(page.url()).searchParams.get('order')).toBe('metrics.auc ASC');

    // The link reproduces the view in a fresh page.
    const shared = page.url();
    const again = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await again.goto(shared);
    await expect
      .poll(async () => (await runNames(again))[0])
      .toBe([...linear].sort((a, b) => a.auc - b.auc)[0]?.runName);
    expect(await runCount(again)).toBe(linear.length);
    await again.close();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a bad filter shows the parser message with a caret at its position', async () => {
    const { page } = await open(`/experiments/${seed.experimentId}`);
    const filter = page.getByLabel('filter');
    await filter.fill('metrics.auc > 0.8 AND BETWEEN');
    await filter.press('Enter');
    const alert = page.locator('.filter-error');
    await alert.waitFor();
    const text = await alert.innerText();
    expect(text).toContain('position 22');
    // The caret line puts ^ under the token the parser named.
    const caret = (await page.locator('.filter-caret').innerText()).split('\n');
    expect(caret[1]?.indexOf('^')).toBe(22);
    expect(await page.locator('.grid-row:not(.header)').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'filter-error.png') });
    await page.close();
  });

  it('the column picker, the keyboard and the selection drive the table and the URL', async () => {
    const { page, errors } = await open(`/experiments/${seed.experimentId}`);
    await page.getByTestId('run-count').getByText('25 runs').waitFor();
    await page.getByRole('button', { name: /^Columns/ }).click();
    await page.getByRole('button', { name: 'Hide all' }).click();
    await page.getByLabel('find column').fill('auc');
    await page.getByRole('button', { name: 'Show matches' }).click();
    await page.getByRole('button', { name: 'close' }).click();
    const heads = await page.getByRole('columnheader').allInnerTexts();
    expect(heads.filter((h) => /auc/.test(h)).length).toBe(2);
    expect(heads.some((h) => h.includes('learning_rate'))).toBe(false);
    expect(new URL(page.url()).searchParams.getAll('col')).toEqual(['metrics.auc', 'metrics.val_auc']);

    // Keyboard: focus the grid, move down twice, select with Space.
    await page.getByRole('grid').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    await expect.poll(() => new URL(page.url()).searchParams.getAll('sel').length).toBe(2);
    const names = await runNames(page);
    const selected = await page.locator('.grid-row.selected .cell:nth-child(2)').allInnerTexts();
    expect(selected).toEqual([names[2], names[3]]);
    // Enter opens the focused run.
    await page.keyboard.press('Enter');
    await page.waitForURL('**/runs/**');
    await page
      .locator('h1')
      .getByText(names[3] ?? '?')
      .waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the run page draws metric charts from the downsampled history and zooms into finer points', async () => {
    const run = seed.runs[0]!;
    const { page, errors } = await open(`/runs/${run.runId}`);
    const loss = page.locator('.chart-box[data-metric="loss"]');
    await loss.and(page.locator('[data-drawn]')).waitFor();
    const drawn = Number(await loss.getAttribute('data-drawn'));
    // 2,000 points downsampled to about 1,000 (first, min, max, last per bucket).
    expect(drawn).toBeGreaterThan(500);
    expect(drawn).toBeLessThan(seed.lossSteps);
    expect(await loss.locator('canvas').count()).toBe(1);
    await page.getByTestId('params').getByText('learning_rate').waitFor();
    await page.getByTestId('datasets').getByText('e3b0c44298fc1c14').waitFor();
    expect(await page.getByTestId('datasets').innerText()).toContain('training');
    await page.screenshot({ path: join(SHOTS, 'run-page.png') });

    // Zoom: drag across a tenth of the chart; the chart asks for that step range.
    const finer = page.waitForRequest(
      (r) => r.url().includes('/metrics/loss/downsampled') && r.url().includes('startStep='),
    );
    const box = (await loss.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const request = await finer;
    const q = new URL(request.url()).searchParams;
    expect(Number(q.get('endStep')) - Number(q.get('startStep'))).toBeLessThan(400);
    await page.getByRole('button', { name: 'Reset zoom' }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the artifact browser previews JSON, CSV as a table, text and images', async () => {
    const run = seed.runs[0]!;
    const { page, errors } = await open(`/runs/${run.runId}`);
    const preview = page.getByTestId('artifact-preview');
    await page.getByRole('button', { name: /metrics\.json/ }).click();
    await preview.locator('pre.json').getByText('"threshold": 0.5').waitFor();
    await page.getByRole('button', { name: /predictions\.csv/ }).click();
    await preview.locator('table.csv').waitFor();
    expect(await preview.locator('table.csv thead th').allInnerTexts()).toEqual(['id', 'label', 'score']);
    expect(await preview.locator('table.csv tbody tr').count()).toBe(40);
    await page.getByRole('button', { name: /model/ }).first().click();
    await page.getByRole('button', { name: /MLmodel/ }).click();
    await preview.locator('pre.text').getByText('python_function').waitFor();
    await page.getByRole('button', { name: 'artifacts' }).click();
    await page.getByRole('button', { name: /plots/ }).click();
    await page.getByRole('button', { name: /roc\.png/ }).click();
    const img = preview.locator('img.preview-image');
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(160);
    await preview.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'artifacts.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a running run's chart grows without a reload", async () => {
    const { page, errors } = await open(`/runs/${seed.liveRunId}`);
    const loss = page.locator('.chart-box[data-metric="loss"]');
    await loss.and(page.locator('[data-drawn]')).waitFor();
    await page.getByTestId('run-status').getByText('live').waitFor();
    const pointsText = page.locator('.chart', { has: loss }).locator('.chart-head .muted');
    await expect.poll(() => pointsText.innerText()).toContain('50 pts');
    const call = restCaller(server.url);
    await call('POST', `/runs/${seed.liveRunId}/batch`, {
      metrics: Array.from({ length: 30 }, (_, k) => ({
        key: 'loss',
        value: 0.01,
        timestamp: Date.now(),
        step: 50 + k,
      })),
    });
    await expect.poll(() => pointsText.innerText(), { timeout: 10_000 }).toContain('80 pts');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('compare shows two or more runs with differing params highlighted, overlaid charts and parallel coordinates', async () => {
    const ids = seed.runs.slice(0, 3).map((r) => r.runId);
    const { page, errors } = await open(`/compare?${ids.map((id) => `runs=${id}`).join('&')}`);
    const params = page.getByTestId('compare-params');
    await params.waitFor();
    const differs = await params.locator('tr[data-differs="true"] th').allInnerTexts();
    expect(differs).toEqual(expect.arrayContaining(['learning_rate', 'max_depth', 'model']));
    expect(differs).not.toContain('seed');
    expect(await params.locator('tr[data-differs="false"] th').allInnerTexts()).toEqual(['seed']);
    const chart = page.locator('.chart-box[data-metric="loss"]');
    await chart.and(page.locator('[data-drawn]')).waitFor();
    expect(await page.locator('.u-legend .u-series').count()).toBe(4); // step + 3 runs
    expect(await page.locator('svg.parallel .pc-line').count()).toBe(3);
    await page.getByLabel('only differences').check();
    await expect.poll(() => params.locator('tbody tr').count()).toBe(differs.length);
    await page.screenshot({ path: join(SHOTS, 'compare.png') });
    await page.locator('svg.parallel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'compare-charts.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the dark theme is kept across pages', async () => {
    const { page, errors } = await open(`/experiments/${seed.experimentId}`, { theme: 'dark' });
    await page.getByTestId('run-count').getByText('25 runs').waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(15, 18, 22)');
    await page.screenshot({ path: join(SHOTS, 'runs-table-dark.png') });
    await page.getByRole('button', { name: 'toggle theme' }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    expect(errors).toEqual([]);
    await page.close();
  });

  describe('with --auth', () => {
    let authed: RunningServer;
    let authHome: string;
    beforeAll(async () => {
      authHome = mkdtempSync(join(tmpdir(), 'trestle-ui-auth-'));
      authed = await startServer({
        config: loadConfig({ home: authHome }, {}),
        port: 0,
        auth: true,
        logger: false,
        handleSignals: false,
      });
    });
    afterAll(async () => {
      await authed?.close();
      rmSync(authHome, { recursive: true, force: true });
    });

    it('asks for a token, refuses a wrong one, and keeps a good one for the tab', async () => {
      await restCaller(authed.url, authed.bootstrapToken)('POST', '/experiments', { name: 'guarded' });
      const page = await browser.newPage();
      const errors = collectErrors(page);
      await page.goto(`${authed.url}/`);
      const dialog = page.getByRole('dialog', { name: 'API token' });
      await dialog.waitFor();
      await page.screenshot({ path: join(SHOTS, 'token.png') });
      await dialog.getByLabel('token').fill('trestle_wrong');
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await dialog.getByRole('alert').getByText('not valid').waitFor();
      await dialog.getByLabel('token').fill(authed.bootstrapToken!);
      await dialog.getByRole('button', { name: 'Use token' }).click();
      await page.getByRole('link', { name: 'guarded' }).waitFor();
      expect(await page.evaluate("sessionStorage.getItem('trestle.token')")).toBe(authed.bootstrapToken);
      // Only the expected 401s of the first load and the wrong token, nothing else.
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
      await page.close();
    });
  });
});
