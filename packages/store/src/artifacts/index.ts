/**
 * Artifact stores: a local folder and S3, picked by URI scheme with {@link openArtifactStore}.
 * Only type exports come from the S3 adapter, so importing this module never loads the AWS SDK.
 *
 * @example
 * const store = await openArtifactStore('s3://ml-artifacts/team-a');
 */
export { openArtifactStore, ARTIFACT_STORE_SCHEMES, type OpenArtifactStoreOptions } from './open-artifact-store.js';
export { LocalArtifactStore } from './local-artifact-store.js';
export type { S3ArtifactStore, S3ArtifactStoreOptions } from './s3-artifact-store.js';
export {
  parseS3Uri,
  formatS3Uri,
  type S3Credentials,
  type S3ConnectionOptions,
  type S3Location,
} from './s3-location.js';
