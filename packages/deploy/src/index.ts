/**
 * @trestle/deploy: writes what takes a registered model to a container, Kubernetes and a cloud.
 * Each generator lives in its own folder (build/, k8s/, ci/, terraform/) and is exported here.
 */
export {};
