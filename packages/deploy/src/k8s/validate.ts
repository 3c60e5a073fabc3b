/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schemas
 * (`kubernetes-models`), before anything is written or applied.
 */
import { TrestleError } from '@trestle/core';

/** A Kubernetes object as generated here: plain JSON with `apiVersion`, `kind` and `metadata.name`. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

type Model = new (o: unknown) => { validate(): void };

/** The kinds Trestle writes, by `apiVersion/kind`, each loaded on use. */
const MODELS: Record<string, () => Promise<Model>> = {
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1')).ConfigMap as Model,
  'v1/Service': async () => (await import('kubernetes-models/v1')).Service as Model,
  'v1/Secret': async () => (await import('kubernetes-models/v1')).Secret as Model,
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1')).ServiceAccount as Model,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1')).Deployment as Model,
  'autoscaling/v2/HorizontalPodAutoscaler': async () =>
    (await import('kubernetes-models/autoscaling/v2')).HorizontalPodAutoscaler as Model,
  'policy/v1/PodDisruptionBudget': async () =>
    (await import('kubernetes-models/policy/v1')).PodDisruptionBudget as Model,
};

/** The `apiVersion/kind` pairs {@link validateObjects} knows. */
export const VALIDATED_KINDS: readonly string[] = Object.keys(MODELS);

/**
 * Validates each object against its kind's schema.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the object and the first schema error.
 * @example await validateObjects([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: {} }]);
 */
export async function validateObjects(objects: readonly KubeObject[]): Promise<void> {
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}`;
    const load = MODELS[key];
    if (load === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `${key} ${o.metadata?.name ?? ''} is not a kind Trestle validates`);
    }
    const Kind = await load();
    try {
      new Kind(o).validate();
    } catch (err) {
      const first = String((err as Error).message).split('\n')[0];
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${o.kind} ${o.metadata.name} is not valid: ${first}`,
        {},
        { cause: err },
      );
    }
  }
}
