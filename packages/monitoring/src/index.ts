export * from './profile/schema.js';
export * from './profile/columns.js';
export { binOf, binBounds } from './profile/bins.js';
export * from './profile/build-profile.js';
export * from './profile/parse.js';
export * from './window/accumulator.js';
