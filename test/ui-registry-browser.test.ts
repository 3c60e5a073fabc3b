/**
 * The registry pages of the web UI and the runs table's column picker, in real Chromium against
 * a real `trestle server` (a child process of the CLI) with real runs and real registered model
 * versions logged over REST: the models list filters on the server, the model page shows
 * versions, stages, tags, the lineage of a version (run → datasets) and the audit history, and
 * an alias moved or rolled back from the page shows up in the registry and its audit trail.
 * With `--auth`, a reader's token cannot move an alias and the page says which role can.
 * Screenshots go to `.tmp/ui-screenshots/`.
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
const MODEL = 'fraud-detector';
const missing = browserUnavailable();
if (missing !== undefined && process.env['CI'] === 'true')
  throw new Error(`browser tests need Chromium in CI: ${missing}`);
if (missing !== undefined) console.warn(`skipping the registry UI browser tests: ${missing}`);

interface Event {
  type: string;
  alias?: string;
  oldVersion?: number;
  newVersion?: number;
  reason?: string;
  actor: string;
}

/** Registers three versions of {@link MODEL} from the seeded runs, with tags, a stage and an alias moved once. */
async function registerModels(call: ReturnType<typeof restCaller>, seed: UiSeed): Promise<void> {
  const [withData, second, third] = seed.runs;
  await call('POST', '/registered-models', {
    name: MODEL,
    description: 'Flags card payments for review',
    tags: [{ key: 'team', value: 'risk' }],
  });
  for (const run of [second!, withData!, third!]) {
    await call('POST', `/registered-models/${MODEL}/versions`, {
      source: `runs:/${run.runId}/model`,
      runId: run.runId,
      description: `from ${run.runName}`,
    });
  }
  await call('PUT', `/registered-models/${MODEL}/versions/2/tags/validation`, { value: 'passed' });
  await call('PATCH', `/registered-models/${MODEL}/versions/1`, { stage: 'Archived' });
  await call('PUT', `/registered-models/${MODEL}/aliases/champion`, { version: 1, reason: 'first model' });
  await call('PUT', `/registered-models/${MODEL}/aliases/champion`, { version: 2, reason: 'v2 beats v1 on AUC' });
  await call('POST', '/registered-models', { name: 'churn-scorer' });
}

describe.skipIf(missing !== undefined)('registry pages and column picker in Chromium', { timeout: 90_000 }, () => {
  let home: string;
  let server: ServerProcess;
  let browser: Browser;
  let seed: UiSeed;
  let call: ReturnType<typeof restCaller>;

  beforeAll(async () => {
    if (!uiBuildIsCurrent()) await buildUi();
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(join(tmpdir(), 'trestle-ui-registry-'));
    server = await spawnServer({ entry: 'cli', env: { TRESTLE_HOME: home } });
    call = restCaller(server.url);
    [seed, browser] = await Promise.all([seedUi(server.url, { runCount: 3, lossSteps: 100 }), launchChromium()]);
    await registerModels(call, seed);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    const exit = await server?.stop();
    rmSync(home, { recursive: true, force: true });
    expect(exit?.loggedErrors ?? []).toEqual([]);
  });

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = collectErrors(page);
    await page.addInitScript(`localStorage.setItem('trestle.theme', 'light')`);
    await page.goto(`${server.url}${path}`);
    return { page, errors };
  }

  const aliasVersion = (page: Page, alias: string) =>
    page.locator(`tr[data-alias="${alias}"] [data-testid="alias-version"]`).innerText();
  const runNames = (page: Page): Promise<string[]> =>
    page.locator('.grid-row:not(.header) .cell:nth-child(2)').allInnerTexts();
  const history = (): Promise<{ items: Event[] }> => call('GET', `/registered-models/${MODEL}/history`);

  it('the models list shows aliases and latest versions, filters on the server and opens a model', async () => {
    const { page, errors } = await open('/');
    await page.getByRole('navigation').getByRole('link', { name: 'Models' }).click();
    await page.waitForURL('**/models');
    const models = page.getByTestId('models');
    await models.getByRole('link', { name: MODEL }).waitFor();
    expect(await models.getByRole('link').allInnerTexts()).toEqual(expect.arrayContaining([MODEL, 'churn-scorer']));
    const row = models.locator('tr', { has: page.getByRole('link', { name: MODEL }) });
    expect(await row.innerText()).toContain('@champion → v2');
    expect(await row.innerText()).toContain('v3');
    await page.screenshot({ path: join(SHOTS, 'models.png') });

    const filter = page.getByLabel('filter');
    await filter.fill("name LIKE 'fraud%'");
    await filter.press('Enter');
    await page.getByTestId('model-count').getByText('1 model', { exact: true }).waitFor();
    expect(await models.getByRole('link').allInnerTexts()).toEqual([MODEL]);
    expect(new URL(page.url()).searchParams.get('filter')).toBe("name LIKE 'fraud%'");

    await models.getByRole('link', { name: MODEL }).click();
    await page.waitForURL(`**/models/${MODEL}`);
    await page.getByTestId('versions').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the model page shows versions, stages, tags, the lineage of a version and the audit history', async () => {
    const { page, errors } = await open(`/models/${MODEL}`);
    const versions = page.getByTestId('versions');
    await versions.waitFor();
    expect(await versions.locator('tbody tr').count()).toBe(3);
    expect(await versions.locator('tr[data-version="1"]').innerText()).toContain('Archived');
    expect(await versions.locator('tr[data-version="2"]').innerText()).toContain('validation: passed');
    expect(await versions.locator('tr[data-version="2"]').innerText()).toContain('@champion');
    expect(await aliasVersion(page, 'champion')).toBe('v2');

    // The newest version is selected first; choosing v2 shows its run and the datasets it read.
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v3' }).waitFor();
    await versions.locator('tr[data-version="2"]').getByRole('button', { name: 'v2' }).click();
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v2' }).waitFor();
    expect(new URL(page.url()).searchParams.get('version')).toBe('2');
    const datasets = page.getByTestId('lineage-datasets');
    await datasets.getByText('e3b0c44298fc1c14').waitFor();
    expect(await datasets.innerText()).toContain('flights-2001-h1');
    expect(await datasets.innerText()).toContain('training');
    expect(await page.getByTestId('lineage-run').innerText()).toBe(seed.runs[0]!.runName);

    // The keyboard moves the selection: ↓ from v2 is v1, ↑ twice is v3 (newest first).
    await versions.focus();
    await page.keyboard.press('ArrowDown');
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v1' }).waitFor();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v3' }).waitFor();
    expect(new URL(page.url()).searchParams.get('version')).toBe('3');
    await versions.locator('tr[data-version="2"]').getByRole('button', { name: 'v2' }).click();
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v2' }).waitFor();

    const trail = page.getByTestId('history');
    expect(await trail.innerText()).toContain('@champion moved v1 → v2');
    expect(await trail.innerText()).toContain('v2 beats v1 on AUC');
    expect(await trail.innerText()).toContain('v1 stage None → Archived');
    await page.screenshot({ path: join(SHOTS, 'model.png'), fullPage: true });

    // The lineage links to the run page.
    await page.getByTestId('lineage-run').click();
    await page.waitForURL(`**/runs/${seed.runs[0]!.runId}`);
    await page.locator('h1').getByText(seed.runs[0]!.runName).waitFor();
    // And the run page links forward to the versions registered from it.
    const registered = page.getByTestId('registered-as');
    await registered.getByRole('link', { name: /fraud-detector v2/ }).waitFor();
    await registered.getByRole('link', { name: /fraud-detector v2/ }).click();
    await page.waitForURL(`**/models/${MODEL}?version=2`);
    await page.getByTestId('lineage').getByRole('heading', { name: 'Lineage of v2' }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an alias moved and rolled back from the page shows up in the registry and the audit trail', async () => {
    const { page, errors } = await open(`/models/${MODEL}`);
    await page.getByTestId('aliases').waitFor();
    const before = (await history()).items.length;

    await page.getByLabel('reason').fill('v3 wins the shadow test');
    await page.getByLabel('move @champion to').selectOption('3');
    await page.locator('tr[data-alias="champion"]').getByRole('button', { name: 'Move' }).click();
    await expect.poll(() => aliasVersion(page, 'champion')).toBe('v3');
    expect(await call<{ version: number }>('GET', `/registered-models/${MODEL}/aliases/champion`)).toMatchObject({
      version: 3,
    });
    const moved = (await history()).items[0]!;
    expect(moved).toMatchObject({
      type: 'alias.set',
      alias: 'champion',
      oldVersion: 2,
      newVersion: 3,
      reason: 'v3 wins the shadow test',
    });
    await page.getByTestId('history').getByText('v3 wins the shadow test').waitFor();
    expect(await page.getByTestId('history').locator('tbody tr').first().innerText()).toContain(
      '@champion moved v2 → v3',
    );

    await page.getByLabel('reason').fill('v3 raised false positives');
    await page.locator('tr[data-alias="champion"]').getByRole('button', { name: 'Roll back' }).click();
    await expect.poll(() => aliasVersion(page, 'champion')).toBe('v2');
    expect(await call<{ version: number }>('GET', `/registered-models/${MODEL}/aliases/champion`)).toMatchObject({
      version: 2,
    });
    const trail = (await history()).items;
    expect(trail.length).toBe(before + 2);
    expect(trail[0]).toMatchObject({
      type: 'alias.set',
      alias: 'champion',
      oldVersion: 3,
      newVersion: 2,
      reason: 'v3 raised false positives',
    });
    await page.getByTestId('history').getByText('v3 raised false positives').waitFor();

    // A new alias from the page.
    await page.getByLabel('new alias', { exact: true }).fill('challenger');
    await page.getByLabel('new alias version').selectOption('3');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await expect.poll(() => aliasVersion(page, 'challenger')).toBe('v3');
    expect(await call<{ version: number }>('GET', `/registered-models/${MODEL}/aliases/challenger`)).toMatchObject({
      version: 3,
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an alias that cannot move says why on the page and changes nothing', async () => {
    // A version still being registered cannot take an alias (412 FAILED_PRECONDITION).
    await call('POST', `/registered-models/${MODEL}/versions`, {
      source: `runs:/${seed.runs[1]!.runId}/model`,
      status: 'PENDING_REGISTRATION',
    });
    const { page } = await open(`/models/${MODEL}`);
    await page.getByTestId('aliases').waitFor();
    const option = page.getByLabel('move @champion to').locator('option[value="4"]');
    expect(await option.isDisabled()).toBe(true);
    // Through the new-alias form the pending version is not offered at all.
    expect(await page.getByLabel('new alias version').locator('option[value="4"]').count()).toBe(0);
    // Rolling back an alias that never moved is refused by the server with its reason.
    await page.getByLabel('new alias', { exact: true }).fill('fresh');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await page.locator('tr[data-alias="fresh"]').waitFor();
    await page.locator('tr[data-alias="fresh"]').getByRole('button', { name: 'Roll back' }).click();
    const alert = page.getByTestId('alias-error');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/fresh/);
    expect(await aliasVersion(page, 'fresh')).toBe('v3');
    await page.close();
  });

  it('the column picker lists every key of the experiment from the server, also those of runs not on screen', async () => {
    // A param only on a gbdt run; the filter below shows the linear run alone.
    const gbdt = seed.runs.find((r) => r.model === 'gbdt')!;
    await call('POST', `/runs/${gbdt.runId}/batch`, { params: [{ key: 'only_on_one_run', value: 'x' }] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = collectErrors(page);
    const keys = page.waitForResponse((r) => r.url().endsWith(`/experiments/${seed.experimentId}/run-keys`));
    await page.goto(
      `${server.url}/experiments/${seed.experimentId}?filter=${encodeURIComponent("params.model = 'linear'")}`,
    );
    await page.getByTestId('run-count').getByText('1 run').waitFor();
    expect((await keys).status()).toBe(200);
    expect(await runNames(page)).toEqual([seed.runs.find((r) => r.model === 'linear')!.runName]);
    await page.getByRole('button', { name: /^Columns/ }).click();
    await page.getByRole('button', { name: 'Hide all' }).click();
    await page.getByLabel('find column').fill('only_on');
    const picked = page.locator('.picker-list label', { hasText: 'only_on_one_run' });
    await picked.waitFor();
    await picked.locator('input').check();
    await page.getByRole('button', { name: 'close' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll('col')).toEqual(['params.only_on_one_run']);
    expect(await page.getByRole('columnheader').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining('only_on_one_run')]),
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  describe('with --auth', () => {
    let authed: RunningServer;
    let authHome: string;
    let reader: string;
    let admin: ReturnType<typeof restCaller>;
    beforeAll(async () => {
      authHome = mkdtempSync(join(tmpdir(), 'trestle-ui-registry-auth-'));
      authed = await startServer({
        config: loadConfig({ home: authHome }, {}),
        port: 0,
        auth: true,
        logger: false,
        handleSignals: false,
      });
      admin = restCaller(authed.url, authed.bootstrapToken);
      reader = (await admin<{ token: string }>('POST', '/tokens', { name: 'viewer', role: 'reader' })).token;
      const { experimentId } = await admin<{ experimentId: string }>('POST', '/experiments', { name: 'guarded' });
      const { info } = await admin<{ info: { runId: string } }>('POST', '/runs', { experimentId });
      for (let i = 0; i < 2; i++)
        await admin('POST', `/registered-models/guarded-model/versions`, {
          source: `runs:/${info.runId}/model`,
          runId: info.runId,
          createModel: true,
        });
      await admin('PUT', '/registered-models/guarded-model/aliases/champion', { version: 1 });
    });
    afterAll(async () => {
      await authed?.close();
      rmSync(authHome, { recursive: true, force: true });
    });

    it("a reader's token sees the model but cannot move an alias; an editor's can, under its own name", async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.addInitScript(`sessionStorage.setItem('trestle.token', '${reader}')`);
      await page.goto(`${authed.url}/models/guarded-model`);
      await page.getByTestId('aliases').waitFor();
      await page.getByLabel('move @champion to').selectOption('2');
      await page.locator('tr[data-alias="champion"]').getByRole('button', { name: 'Move' }).click();
      const alert = page.getByTestId('alias-error');
      await alert.waitFor();
      expect(await alert.innerText()).toContain('editor role');
      expect(
        await admin<{ version: number }>('GET', '/registered-models/guarded-model/aliases/champion'),
      ).toMatchObject({ version: 1 });
      await page.close();

      const editor = (await admin<{ token: string }>('POST', '/tokens', { name: 'release-bot', role: 'editor' })).token;
      const page2 = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page2.addInitScript(`sessionStorage.setItem('trestle.token', '${editor}')`);
      await page2.goto(`${authed.url}/models/guarded-model`);
      await page2.getByTestId('aliases').waitFor();
      await page2.getByLabel('move @champion to').selectOption('2');
      await page2.locator('tr[data-alias="champion"]').getByRole('button', { name: 'Move' }).click();
      await expect.poll(() => aliasVersion(page2, 'champion')).toBe('v2');
      const trail = await admin<{ items: Event[] }>('GET', '/registered-models/guarded-model/history');
      expect(trail.items[0]).toMatchObject({ type: 'alias.set', oldVersion: 1, newVersion: 2, actor: 'release-bot' });
      await page2.getByTestId('history').getByText('release-bot').waitFor();
      await page2.close();
    });
  });
});
