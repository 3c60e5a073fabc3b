import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainGbdt } from '../gbdt/train.js';
import { trainLinear, trainLogistic } from '../linear/linear-model.js';
import { syntheticTable } from '../testing/synthetic.js';

/**
 * The exported files pass the ONNX project's own checker (`onnx.checker.check_model` with
 * full shape inference), run by Debian's /usr/bin/python3 with python3-onnx (installed by
 * .ci/run). Outside CI the test is skipped, saying why, when that module is missing.
 */
const PYTHON = '/usr/bin/python3';
const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(path.rsplit('/', 1)[-1], [o.name for o in model.graph.output], [i.name for i in model.graph.input])
`;

function hasOnnx(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasOnnx();
if (!available && process.env['CI'] !== 'true')
  console.warn(`skipping the onnx.checker test: ${PYTHON} has no onnx module (apt-get install python3-onnx)`);

describe.skipIf(!available && process.env['CI'] !== 'true')('exported ONNX passes onnx.checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-onnx-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('for every trainer and task', () => {
    const { batch, binary, multiclass, regression } = syntheticTable(1500, 31);
    const models = {
      'gbdt-binary': trainGbdt(batch, binary, { task: 'binary', rounds: 5 }),
      'gbdt-multiclass': trainGbdt(batch, multiclass, { task: 'multiclass', rounds: 5 }),
      'gbdt-regression': trainGbdt(batch, regression, { task: 'regression', rounds: 5 }),
      logistic: trainLogistic(batch, binary),
      linear: trainLinear(batch, regression),
    };
    const paths = Object.entries(models).map(([name, model]) => {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, model.toOnnx());
      return path;
    });
    const out = execFileSync(PYTHON, ['-c', CHECK, ...paths], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe("gbdt-binary.onnx ['label', 'probability'] ['x1', 'x2', 'c']");
    expect(lines[1]).toMatch(
      /^gbdt-multiclass\.onnx \['label', 'probability_\w+'(, 'probability_\w+')+\] \['x1', 'x2', 'c'\]$/,
    );
    expect(lines[2]).toBe("gbdt-regression.onnx ['value'] ['x1', 'x2', 'c']");
    expect(lines[3]).toBe("logistic.onnx ['label', 'probability'] ['x1', 'x2', 'c']");
    expect(lines[4]).toBe("linear.onnx ['value'] ['x1', 'x2', 'c']");
  });
});
