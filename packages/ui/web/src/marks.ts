/**
 * Named performance marks (`trestle:first-rows`, `trestle:chart:<key>`) that the browser
 * tests and `bench/ui` read to time what a user sees, from navigation start.
 */
export function mark(name: string): void {
  performance.mark(`trestle:${name}`);
}
