/**
 * register: registers the model package of the train stage's run as the next version of
 * `flights-delay` and, when the evaluation gate passed, points the alias `champion` at it
 * (the move is recorded in the model's history with the gate as its reason). Writes
 * registered.json.
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
  const version = await trestle.registerModel(MODEL, source, { runId, description: 'flights: arrival delay > 15 min' });
  const reason = gate.checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.check}`).join(', ');
  if (gate.passed)
    await trestle.setAlias(MODEL, ALIAS, version.version, { reason: `evaluation gate passed: ${reason}` });
  const registered = { name: MODEL, version: version.version, source, aliases: gate.passed ? [ALIAS] : [] };
  writeFileSync('registered.json', `${JSON.stringify(registered, null, 2)}\n`);
  console.log(
    gate.passed
      ? `registered ${MODEL} version ${version.version}; models:/${MODEL}@${ALIAS} now points at it`
      : `registered ${MODEL} version ${version.version}; the gate failed (${reason}), so @${ALIAS} did not move`,
  );
} finally {
  await trestle.close();
}
