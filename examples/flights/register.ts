/**
 * register: registers the model package of the train stage's run as the next version of
 * `flights-delay` (or finds the version it already is) and, when the evaluation gate passed,
 * points the alias `champion` at it (the move is recorded in the model's history with the gate
 * as its reason). Writes registered.json, an output trestle.yaml marks `cache: false`, so this
 * stage runs again whenever its inputs differ from its last run's instead of being restored
 * from the run cache (registering has effects beyond that file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Trestle } from '@trestle/client';

const MODEL = 'flights-delay';
const ALIAS = 'champion';
const gate = JSON.parse(readFileSync('gate.json', 'utf8')) as {
  passed: boolean;
  checks: { check: string; passed: boolean }[];
};
const manifest = JSON.parse(readFileSync('model/trestle-model.json', 'utf8')) as {
  run?: { runId: string; artifactPath: string };
};
if (manifest.run === undefined)
  throw new Error('model/trestle-model.json names no run: train the model in a tracked run');
const { runId, artifactPath } = manifest.run;

const trestle = await Trestle.connect();
try {
  const source = `runs:/${runId}/${artifactPath}`;
  // The same package registered before (a parameter changed and changed back, so train was
  // restored from the cache): point the alias at that version again instead of a copy.
  const { items } = await trestle.registry.searchModelVersions({ filter: `name = '${MODEL}' AND run_id = '${runId}'` });
  const existing = items.find((v) => v.source === source);
  const version =
    existing ?? (await trestle.registerModel(MODEL, source, { runId, description: 'flights: arrival delay > 15 min' }));
  const what = `${existing === undefined ? 'registered' : 'found'} ${MODEL} version ${version.version}`;
  const reason = gate.checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.check}`).join(', ');
  if (gate.passed)
    await trestle.setAlias(MODEL, ALIAS, version.version, { reason: `evaluation gate passed: ${reason}` });
  const registered = { name: MODEL, version: version.version, source, aliases: gate.passed ? [ALIAS] : [] };
  writeFileSync('registered.json', `${JSON.stringify(registered, null, 2)}\n`);
  console.log(
    gate.passed
      ? `${what}; models:/${MODEL}@${ALIAS} now points at it`
      : `${what}; the gate failed (${reason}), so @${ALIAS} did not move`,
  );
} finally {
  await trestle.close();
}
