import { describe, expect, it } from 'vitest';
import { isTrestleError } from '@trestle/core';
import { minimizeLbfgs, type LbfgsIteration, type Objective } from './lbfgs.js';

const rosenbrock: Objective = (x, g) => {
  const a = x[0]!;
  const b = x[1]!;
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

/** f(x) = ½ xᵀAx − bᵀx with a diagonal, badly conditioned A; minimum at x = b / diag(A). */
function quadratic(diag: Float64Array, b: Float64Array): Objective {
  return (x, g) => {
    let f = 0;
    for (let i = 0; i < x.length; i++) {
      f += 0.5 * diag[i]! * x[i]! * x[i]! - b[i]! * x[i]!;
      g[i] = diag[i]! * x[i]! - b[i]!;
    }
    return f;
  };
}

describe('minimizeLbfgs', () => {
  it('finds the Rosenbrock minimum from the classic start (−1.2, 1)', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {
      maxIterations: 200,
      gradientTolerance: 1e-8,
      lossTolerance: 0,
    });
    expect(r.converged).toBe(true);
    expect(r.reason).toBe('gradient');
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
    expect(r.loss).toBeLessThan(1e-12);
    // Plain gradient descent needs thousands of steps here; L-BFGS needs a few dozen.
    expect(r.iterations).toBeLessThan(60);
  });

  it('solves a 50-dimensional ill-conditioned quadratic (condition number 1e3)', () => {
    // SciPy's L-BFGS-B (m = 10) needs ≈270 iterations on this problem.
    const n = 50;
    const diag = Float64Array.from({ length: n }, (_, i) => 10 ** ((3 * i) / (n - 1)));
    const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const r = minimizeLbfgs(quadratic(diag, b), new Float64Array(n), {
      maxIterations: 1000,
      gradientTolerance: 1e-6,
      lossTolerance: 0,
    });
    expect(r.reason).toBe('gradient');
    expect(r.iterations).toBeLessThan(400);
    for (let i = 0; i < n; i++) expect(r.x[i]).toBeCloseTo(b[i]! / diag[i]!, 6);
  });

  it('reports every iteration with a non-increasing loss, and leaves x0 untouched', () => {
    const seen: LbfgsIteration[] = [];
    const x0 = Float64Array.of(-1.2, 1);
    const r = minimizeLbfgs(rosenbrock, x0, { maxIterations: 500, onIteration: (i) => seen.push(i) });
    expect(seen.map((s) => s.iteration)).toEqual(Array.from({ length: r.iterations }, (_, i) => i + 1));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.loss).toBeLessThanOrEqual(seen[i - 1]!.loss);
    expect(seen.at(-1)!.loss).toBe(r.loss);
    expect(seen.at(-1)!.gradNorm).toBe(r.gradNorm);
    expect(Array.from(x0)).toEqual([-1.2, 1]);
  });

  it('stops at maxIterations without claiming convergence', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIterations: 3 });
    expect(r.iterations).toBe(3);
    expect(r.converged).toBe(false);
    expect(r.reason).toBe('max-iterations');
  });

  it('stops on the relative-loss tolerance', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {
      gradientTolerance: 0,
      lossTolerance: 1e-3,
      maxIterations: 500,
    });
    expect(r.reason).toBe('loss');
    expect(r.converged).toBe(true);
  });

  it('returns at once when x0 is already stationary', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.of(1, 1));
    expect(r).toMatchObject({ iterations: 0, evaluations: 1, converged: true, reason: 'gradient', loss: 0 });
  });

  it('survives an objective that overflows far from the start (exp)', () => {
    // f(x) = exp(x) − 2x, minimum at ln 2; the unit first step from x0 = 10 is fine, but
    // doubling steps can overflow to Infinity and must be treated as "too far".
    const f: Objective = (x, g) => {
      const e = Math.exp(x[0]!);
      g[0] = e - 2;
      return e - 2 * x[0]!;
    };
    const r = minimizeLbfgs(f, Float64Array.of(-30), {
      gradientTolerance: 1e-10,
      lossTolerance: 0,
      maxIterations: 100,
    });
    expect(r.x[0]).toBeCloseTo(Math.LN2, 8);
  });

  it('rejects bad input with INVALID_ARGUMENT', () => {
    const bad = [
      () => minimizeLbfgs(rosenbrock, new Float64Array(0)),
      () => minimizeLbfgs(rosenbrock, Float64Array.of(0, 0), { memory: 0 }),
      () => minimizeLbfgs(rosenbrock, Float64Array.of(0, 0), { maxIterations: 1.5 }),
      () => minimizeLbfgs(rosenbrock, Float64Array.of(0, 0), { gradientTolerance: -1 }),
      () => minimizeLbfgs(() => NaN, Float64Array.of(0)),
    ];
    for (const call of bad) {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(isTrestleError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
