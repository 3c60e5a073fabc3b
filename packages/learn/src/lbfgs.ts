import { TrestleError } from '@trestle/core';

/**
 * A differentiable objective for {@link minimizeLbfgs}: returns f(x) and writes ∇f(x) into
 * `grad` (same length as `x`, overwritten, not accumulated). It must not keep `x` or `grad`:
 * the minimiser reuses both buffers.
 *
 * @example
 * // f(x) = Σ xᵢ², ∇f = 2x
 * const sphere: Objective = (x, grad) => {
 *   let f = 0;
 *   for (let i = 0; i < x.length; i++) { f += x[i]! * x[i]!; grad[i] = 2 * x[i]!; }
 *   return f;
 * };
 */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** What {@link LbfgsOptions.onIteration} receives after each accepted step. */
export interface LbfgsIteration {
  /** 1-based iteration number. */
  readonly iteration: number;
  /** Objective value at the new point. */
  readonly loss: number;
  /** Euclidean norm of the gradient at the new point. */
  readonly gradNorm: number;
}

/** Options of {@link minimizeLbfgs}; every field has a default. */
export interface LbfgsOptions {
  /** Stop after this many iterations (accepted steps). Default 100. */
  readonly maxIterations?: number;
  /** Number of correction pairs kept (the "m" of L-BFGS). Default 10. */
  readonly memory?: number;
  /** Converged when the gradient's Euclidean norm is at most this. Default 1e-6. */
  readonly gradientTolerance?: number;
  /**
   * Converged when the relative decrease `(f_prev − f) / max(|f_prev|, |f|, 1)` of one
   * iteration is at most this (SciPy's `ftol`). Default 1e-10. With 0 the run still stops
   * when the loss no longer decreases at all (floating-point precision reached).
   */
  readonly lossTolerance?: number;
  /** Objective evaluations allowed per line search before giving up. Default 25. */
  readonly maxLineSearchEvaluations?: number;
  /** Called after each accepted step, e.g. to log the loss as a metric. */
  readonly onIteration?: (info: LbfgsIteration) => void;
}

/** Why {@link minimizeLbfgs} stopped. */
export type LbfgsStopReason = 'gradient' | 'loss' | 'max-iterations' | 'line-search';

/** Result of {@link minimizeLbfgs}. */
export interface LbfgsResult {
  /** The best point found (a new array; `x0` is not modified). */
  readonly x: Float64Array;
  /** f(x). */
  readonly loss: number;
  /** ‖∇f(x)‖₂. */
  readonly gradNorm: number;
  /** Accepted steps taken. */
  readonly iterations: number;
  /** Objective evaluations, line searches included. */
  readonly evaluations: number;
  /** True when a gradient or relative-loss tolerance was met. */
  readonly converged: boolean;
  /** The test that stopped the run. */
  readonly reason: LbfgsStopReason;
}

const C1 = 1e-4; // sufficient decrease (Armijo)
const C2 = 0.9; // curvature, the usual value for quasi-Newton methods

/**
 * Minimises a smooth function with L-BFGS: the two-loop recursion over the last `memory`
 * correction pairs gives the search direction, and a line search satisfying the strong
 * Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6, with cubic interpolation)
 * picks the step. A pair whose curvature `sᵀy` is not positive is skipped; a direction
 * that is not a descent direction resets the memory to steepest descent.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for bad options, an empty `x0`, or a non-finite
 *   objective value or gradient at `x0`.
 * @example
 * // Rosenbrock: minimum 0 at (1, 1)
 * const rosenbrock: Objective = (x, g) => {
 *   const a = x[0]!, b = x[1]!;
 *   g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
 *   g[1] = 200 * (b - a * a);
 *   return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
 * };
 * const { x, converged } = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIterations: 200 });
 * // x ≈ [1, 1], converged === true
 */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIterations = integerOption('maxIterations', options.maxIterations ?? 100, 0);
  const memory = integerOption('memory', options.memory ?? 10, 1);
  const maxLsEvals = integerOption('maxLineSearchEvaluations', options.maxLineSearchEvaluations ?? 25, 1);
  const gradientTolerance = nonNegativeOption('gradientTolerance', options.gradientTolerance ?? 1e-6);
  const lossTolerance = nonNegativeOption('lossTolerance', options.lossTolerance ?? 1e-10);
  const n = x0.length;
  if (n === 0) throw new TrestleError('INVALID_ARGUMENT', 'minimizeLbfgs needs at least one variable; x0 is empty');

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let evaluations = 1;
  let f = objective(x, g);
  if (!Number.isFinite(f) || !allFinite(g)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the objective is not finite at the starting point (f = ${f}); choose another x0`,
    );
  }

  const s = Array.from({ length: memory }, () => new Float64Array(n));
  const y = Array.from({ length: memory }, () => new Float64Array(n));
  const rho = new Float64Array(memory);
  const alpha = new Float64Array(memory);
  let stored = 0; // number of valid pairs
  let newest = -1; // ring-buffer index of the newest pair

  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let gradNorm = norm(g);
  let iterations = 0;

  const finish = (reason: LbfgsStopReason): LbfgsResult => ({
    x,
    loss: f,
    gradNorm,
    iterations,
    evaluations,
    converged: reason === 'gradient' || reason === 'loss',
    reason,
  });

  if (gradNorm <= gradientTolerance) return finish('gradient');

  while (iterations < maxIterations) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let k = 0, j = newest; k < stored; k++, j = (j - 1 + memory) % memory) {
      const a = rho[j]! * dot(s[j]!, d);
      alpha[j] = a;
      axpy(-a, y[j]!, d);
    }
    if (stored > 0) {
      const yj = y[newest]!;
      scale(d, dot(s[newest]!, yj) / dot(yj, yj));
    }
    for (let k = 0, j = (newest - stored + 1 + memory) % memory; k < stored; k++, j = (j + 1) % memory) {
      const b = rho[j]! * dot(y[j]!, d);
      axpy(alpha[j]! - b, s[j]!, d);
    }

    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = -gradNorm * gradNorm;
    }
    // First step (no curvature information yet): a step of unit length.
    const initialStep = stored === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;

    const ls = strongWolfe(objective, x, f, slope, d, initialStep, maxLsEvals, xNew, gNew);
    evaluations += ls.evaluations;
    if (ls.step === 0) return finish('line-search');

    // s = x_new − x, y = g_new − g, stored in the ring buffer.
    const slot = (newest + 1) % memory;
    const sk = s[slot]!;
    const yk = y[slot]!;
    for (let i = 0; i < n; i++) {
      sk[i] = xNew[i]! - x[i]!;
      yk[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12 * Math.sqrt(dot(sk, sk) * dot(yk, yk))) {
      rho[slot] = 1 / sy;
      newest = slot;
      stored = Math.min(stored + 1, memory);
    } else if (stored === memory) {
      // The rejected pair overwrote the oldest one: forget it.
      stored--;
    }

    const fPrev = f;
    x.set(xNew);
    g.set(gNew);
    f = ls.loss;
    gradNorm = norm(g);
    iterations++;
    options.onIteration?.({ iteration: iterations, loss: f, gradNorm });

    if (gradNorm <= gradientTolerance) return finish('gradient');
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= lossTolerance) return finish('loss');
  }
  return finish('max-iterations');
}

interface LineSearchResult {
  /** Accepted step, or 0 when no acceptable step was found (xOut/gOut then undefined). */
  readonly step: number;
  readonly loss: number;
  readonly evaluations: number;
}

/**
 * Strong Wolfe line search along `d` from `x` (Nocedal & Wright, Algorithm 3.5, with
 * `zoom` from Algorithm 3.6). On success `xOut`/`gOut` hold the new point and gradient.
 */
function strongWolfe(
  objective: Objective,
  x: Float64Array,
  f0: number,
  slope0: number,
  d: Float64Array,
  initialStep: number,
  maxEvaluations: number,
  xOut: Float64Array,
  gOut: Float64Array,
): LineSearchResult {
  let evaluations = 0;
  // Best point satisfying sufficient decrease, used as a fallback when the budget runs out.
  let bestStep = 0;
  let bestLoss = f0;

  const evaluate = (step: number): { f: number; slope: number } => {
    for (let i = 0; i < x.length; i++) xOut[i] = x[i]! + step * d[i]!;
    evaluations++;
    const f = objective(xOut, gOut);
    const slope = dot(gOut, d);
    if (Number.isFinite(f) && Number.isFinite(slope) && f <= f0 + C1 * step * slope0 && f < bestLoss) {
      bestStep = step;
      bestLoss = f;
    }
    return { f: Number.isFinite(f) ? f : Infinity, slope: Number.isFinite(slope) ? slope : Infinity };
  };
  const accept = (step: number, loss: number): LineSearchResult => ({ step, loss, evaluations });
  const fallback = (): LineSearchResult => {
    if (bestStep === 0) return { step: 0, loss: f0, evaluations };
    // Re-evaluate so xOut/gOut describe the fallback point.
    const r = evaluate(bestStep);
    return { step: bestStep, loss: r.f, evaluations };
  };

  const zoom = (
    lo: number,
    fLo: number,
    slopeLo: number,
    hi: number,
    fHi: number,
    slopeHi: number,
  ): LineSearchResult => {
    while (evaluations < maxEvaluations) {
      let step = cubicMinimizer(lo, fLo, slopeLo, hi, fHi, slopeHi);
      const width = Math.abs(hi - lo);
      const left = Math.min(lo, hi);
      // Safeguard: stay well inside the bracket, otherwise bisect.
      if (!Number.isFinite(step) || step < left + 0.1 * width || step > left + 0.9 * width) step = (lo + hi) / 2;
      if (width <= 1e-16 * Math.max(1, Math.abs(hi))) break;
      const r = evaluate(step);
      if (r.f > f0 + C1 * step * slope0 || r.f >= fLo) {
        hi = step;
        fHi = r.f;
        slopeHi = r.slope;
      } else {
        if (Math.abs(r.slope) <= -C2 * slope0) return accept(step, r.f);
        if (r.slope * (hi - lo) >= 0) {
          hi = lo;
          fHi = fLo;
          slopeHi = slopeLo;
        }
        lo = step;
        fLo = r.f;
        slopeLo = r.slope;
      }
    }
    return fallback();
  };

  let prevStep = 0;
  let prevF = f0;
  let prevSlope = slope0;
  let step = initialStep;
  for (let i = 0; evaluations < maxEvaluations; i++) {
    const r = evaluate(step);
    if (r.f > f0 + C1 * step * slope0 || (i > 0 && r.f >= prevF)) {
      return zoom(prevStep, prevF, prevSlope, step, r.f, r.slope);
    }
    if (Math.abs(r.slope) <= -C2 * slope0) return accept(step, r.f);
    if (r.slope >= 0) return zoom(step, r.f, r.slope, prevStep, prevF, prevSlope);
    prevStep = step;
    prevF = r.f;
    prevSlope = r.slope;
    step *= 2;
  }
  return fallback();
}

/** Minimiser of the cubic interpolating f and f' at a and b (Nocedal & Wright, eq. 3.59). */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  if (!Number.isFinite(fb) || !Number.isFinite(db)) return NaN;
  const d1 = da + db - 3 * ((fa - fb) / (a - b));
  const disc = d1 * d1 - da * db;
  if (disc < 0) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + a * x[i]!;
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * a;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function integerOption(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TrestleError('INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${value}`, { [name]: value });
  }
  return value;
}

function nonNegativeOption(name: string, value: number): number {
  if (!(value >= 0)) {
    throw new TrestleError('INVALID_ARGUMENT', `${name} must be a number ≥ 0, got ${value}`, { [name]: value });
  }
  return value;
}
