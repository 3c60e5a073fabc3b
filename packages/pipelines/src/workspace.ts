// The workspace rule is the store's (the CLI finds the embedded store with it); one definition.
export { findWorkspace, type Workspace } from '@trestle/store/workspace';
