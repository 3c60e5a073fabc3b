/**
 * A model package around an ONNX file made elsewhere (a converted scikit-learn or PyTorch
 * model): the file, a manifest with the signature given at registration (task `other`: the
 * graph's outputs pass through) and an MLflow `MLmodel`, checked by loading it and predicting
 * one row before anything is registered.
 */
import { readFile } from 'node:fs/promises';
import { TrestleError } from '@trestle/core';
import { openModelFolder } from './load.js';
import type { Signature } from './signature.js';
import { ONNX_FILE, writeModelPackage } from './write-package.js';

/**
 * Writes the package for the ONNX file at `file` into the new folder `dir` and checks that it
 * loads and that the signature feeds the graph (one row of zeros and empty strings).
 *
 * @throws TrestleError `NOT_FOUND` when there is no such file; `INVALID_ARGUMENT` when it is
 *   not an ONNX model onnxruntime loads or the signature does not fit its inputs (the message
 *   names `file`, not the folder).
 * @example await onnxFilePackage('converted.onnx', { inputs: [{ name: 'x', type: 'double' }], outputs: [] }, tmp);
 */
export async function onnxFilePackage(file: string, signature: Signature, dir: string): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new TrestleError('NOT_FOUND', `no ONNX file at '${file}'`, { path: file });
  }
  await writeModelPackage(dir, { task: 'other', signature, onnx: bytes, flavor: 'onnx' });
  const inPackage = `${dir}/${ONNX_FILE}`;
  const named = (err: unknown): never => {
    if (err instanceof TrestleError)
      throw new TrestleError(err.code, err.message.replaceAll(inPackage, file), err.details, { cause: err });
    throw err;
  };
  const model = await openModelFolder(dir, dir).catch(named);
  try {
    const row = Object.fromEntries(signature.inputs.map((s) => [s.name, s.type === 'string' ? '' : 0]));
    await model
      .predictRows([row])
      .catch((err: unknown) =>
        named(
          new TrestleError(
            'INVALID_ARGUMENT',
            `the signature does not fit ${inPackage}: ${(err as Error).message.replaceAll(`${inPackage} failed to run: `, '')}`,
            {},
            { cause: err },
          ),
        ),
      );
  } finally {
    await model.close();
  }
}
