import { TrestleError } from './errors.js';
import { describe, expect, it } from 'vitest';
import { byArtifactPath, isTempArtifactName, normalizeArtifactPath, tempArtifactName } from './artifact-path.js';

function refusal(path: string, options?: { allowRoot?: boolean }): TrestleError {
  try {
    normalizeArtifactPath(path, options);
  } catch (err) {
    if (err instanceof TrestleError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(path)} was accepted`);
}

describe('normalizeArtifactPath', () => {
  it.each([
    ['model.onnx', 'model.onnx'],
    ['a/b/c.txt', 'a/b/c.txt'],
    ['a//b', 'a/b'],
    ['a/./b/.', 'a/b'],
    ['./a', 'a'],
    ['a/b/', 'a/b'],
    ['..a/b..', '..a/b..'],
    ['a/...', 'a/...'],
    ['100%25 done.txt', '100%25 done.txt'],
    ['100% done.txt', '100% done.txt'],
    ['ünïcødé/名前.txt', 'ünïcødé/名前.txt'],
    ['run:1/metrics.json', 'run:1/metrics.json'],
    ['.hidden', '.hidden'],
    ['sub/.trestle-meta', 'sub/.trestle-meta'],
  ])('accepts %j as %j', (path, normal) => {
    expect(normalizeArtifactPath(path)).toBe(normal);
  });

  it.each([
    ['../x', "'..'"],
    ['a/../../x', "'..'"],
    ['a/..', "'..'"],
    ['..', "'..'"],
    ['/etc/passwd', 'absolute'],
    ['//server/share', 'absolute'],
    ['C:\\x', 'backslash'],
    ['C:/x', 'drive-letter'],
    ['c:x', 'drive-letter'],
    ['a:b', 'drive-letter'],
    ['a\\..\\x', 'backslash'],
    ['a\\b', 'backslash'],
    ['%2e%2e/x', "'..'"],
    ['%2E%2E/x', "'..'"],
    ['.%2e/x', "'..'"],
    ['..%2fx', "percent-encoded '/'"],
    ['a%2Fb', "percent-encoded '/'"],
    ['%2fetc/passwd', 'absolute'],
    ['a%5c..%5cx', 'backslash'],
    ['%252e%252e/x', "'..'"],
    ['%25252e%25252e/x', "'..'"],
    ['a/%2e/b', "percent-encoded '.'"],
    ['a/\u0000', 'control'],
    ['a%00b', 'control'],
    ['a\nb', 'control'],
    ['.trestle-meta/sha256/x', 'reserved'],
    ['.Trestle-Meta', 'reserved'],
    ['%2etrestle-meta/x', 'reserved'],
    ['a/.x.tmp-0123456789abcdef', 'in-progress'],
  ])('refuses %j (%s)', (path, why) => {
    const error = refusal(path);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(JSON.stringify(path));
    expect(error.message).toContain(why);
    expect(error.details).toEqual({ path });
  });

  it("refuses the root unless allowed, and then returns ''", () => {
    for (const root of ['', '.', '/'.slice(1), './', './/.']) {
      expect(refusal(root).message).toContain('store root');
      expect(normalizeArtifactPath(root, { allowRoot: true })).toBe('');
    }
    expect(refusal('/', { allowRoot: true }).message).toContain('absolute');
  });

  it('refuses what is not a string', () => {
    expect(refusal(42 as unknown as string).code).toBe('INVALID_ARGUMENT');
    expect(refusal(undefined as unknown as string).code).toBe('INVALID_ARGUMENT');
  });
});

describe('temporary names', () => {
  it('recognises the names in-progress writes use, and nothing else', () => {
    const name = tempArtifactName('model.onnx', '0123456789abcdef');
    expect(name).toBe('.model.onnx.tmp-0123456789abcdef');
    expect(isTempArtifactName(name)).toBe(true);
    expect(isTempArtifactName('model.onnx.tmp-0123456789abcdef')).toBe(false);
    expect(isTempArtifactName('.model.onnx.tmp-notrandom')).toBe(false);
  });
});

describe('byArtifactPath', () => {
  it('sorts by path, a directory before a file of the same name', () => {
    const entries = [
      { path: 'b', isDir: false },
      { path: 'a', isDir: false },
      { path: 'a', isDir: true },
      { path: 'B', isDir: true },
    ];
    expect(entries.sort(byArtifactPath)).toEqual([
      { path: 'B', isDir: true },
      { path: 'a', isDir: true },
      { path: 'a', isDir: false },
      { path: 'b', isDir: false },
    ]);
  });
});
