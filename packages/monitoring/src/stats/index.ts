export { ksTwoSample, ksStatistic, ksFromStatistic, kolmogorovSf, KS_EXACT_MAX, type KsResult } from './ks.js';
export {
  jensenShannon,
  psi,
  klDivergence,
  hellinger,
  wassersteinSorted,
  wassersteinBinned,
  type BinnedLine,
} from './distances.js';
export { chiSquareGof, chiSquareDrift, chi2Contingency, zTestProportions, type TestResult } from './tests.js';
export { chi2Sf, normalSf, normalQuantile, gammaQ, logGamma } from './special.js';
export { sortFloat64, sortedPresent } from './sort.js';
