/**
 * @trestle/deploy: writes what takes a registered model to a container, Kubernetes and a cloud.
 * Each generator lives in its own folder (build/, k8s/, ci/, terraform/) and is exported here.
 */
export {
  writeOutputFolder,
  writeFolderAtomically,
  isNonEmptyFolder,
  type GeneratedFile,
  type WriteOutputOptions,
} from './out-dir.js';
export { registryResolver, modelPackageDigest, type ModelResolver, type ResolvedModel } from './k8s/resolve-model.js';
export { validateObjects, VALIDATED_KINDS, type KubeObject } from './k8s/validate.js';
export {
  kubernetesManifests,
  canaryReplicas,
  dnsLabel,
  DEFAULT_IMAGE,
  DEFAULT_TRACKING_URI,
  type KubernetesDeployOptions,
} from './k8s/manifests.js';
export {
  writeKubernetesFolder,
  syncKubernetesFolder,
  readKubernetesFolderState,
  renderKubernetesFolder,
  STATE_FILE,
  type KubernetesFolderOptions,
  type KubernetesFolderState,
  type KubernetesFolderResult,
  type WriteKubernetesOptions,
  type SyncResult,
  type ModelMove,
} from './k8s/k8s-folder.js';

// Containers (build/): `trestle build`.
export {
  buildModelContext,
  HEALTH_PATH,
  SERVING_PORT,
  type ModelContextOptions,
  type BuildReport,
} from './build/model-context.js';
export {
  readBuildInfo,
  BUILD_INFO_FILE,
  type BuildInfo,
  type BuiltModel,
  type ServeBuildInfo,
} from './build/build-info.js';
export {
  buildControlPlaneContext,
  SERVER_PORT,
  type ControlPlaneContextOptions,
  type ControlPlaneReport,
} from './build/control-plane-context.js';
export {
  buildCompose,
  composeFile,
  COMPOSE_FILE,
  type ComposeFile,
  type ComposeService,
  type ComposeOptions,
  type ComposeReport,
} from './build/compose.js';
export { bundle, runtimeEntry, type BundleOptions, type BundleResult } from './build/bundle.js';
export { dockerfile, NODE_IMAGE, type DockerfileSpec } from './build/dockerfile.js';
export { installManifest } from './build/lockfile.js';
export { folderSize, type FolderSize } from './build/output-folder.js';
export {
  ciWorkflow,
  writeCiWorkflow,
  ciWorkflowPath,
  parseCiProvider,
  CI_PROVIDERS,
  DEFAULT_GATE,
  type CiProvider,
  type CiWorkflowOptions,
  type WriteCiWorkflowOptions,
} from './ci/workflows.js';
export {
  terraformModule,
  writeTerraformModule,
  parseCloud,
  CLOUD_NAMES,
  type WriteTerraformOptions,
} from './terraform/module.js';
export type { Cloud, CloudModule } from './terraform/clouds.js';
export { helmChart, writeHelmChart } from './k8s/helm-chart.js';
export {
  applyFolder,
  deploymentStatus,
  loadKubeConfig,
  readManifestFolder,
  FIELD_MANAGER,
  type ApplyOptions,
  type ClusterOptions,
  type RolloutState,
} from './k8s/apply.js';
