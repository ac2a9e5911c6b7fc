import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Rows of a `[n, d]` row-major array. */
export function rows(values: ArrayLike<number>, n: number, d: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => values[i * d + j] as number));
}

/** Column means of `x`, optionally weighted to the rows in `subset`. */
export function mean(x: readonly (readonly number[])[], subset?: readonly number[]): number[] {
  const d = x[0]?.length ?? 0;
  const m = new Array<number>(d).fill(0);
  const idx = subset ?? x.map((_, i) => i);
  for (const i of idx) {
    const r = x[i] as readonly number[];
    for (let j = 0; j < d; j++) m[j] = (m[j] as number) + (r[j] as number);
  }
  return m.map((v) => v / Math.max(1, idx.length));
}

/** Covariance (divided by count) of the rows in `subset` around `mu`. */
export function covariance(x: readonly (readonly number[])[], mu: readonly number[], subset?: readonly number[]): Matrix {
  const d = mu.length;
  const idx = subset ?? x.map((_, i) => i);
  const c = Matrix.zeros(d, d);
  const diff = new Array<number>(d);
  for (const i of idx) {
    const r = x[i] as readonly number[];
    for (let j = 0; j < d; j++) diff[j] = (r[j] as number) - (mu[j] as number);
    for (let a = 0; a < d; a++) {
      const da = diff[a] as number;
      if (da === 0) continue;
      for (let b = a; b < d; b++) c.set(a, b, c.get(a, b) + da * (diff[b] as number));
    }
  }
  const k = Math.max(1, idx.length);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = c.get(a, b) / k;
      c.set(a, b, v);
      c.set(b, a, v);
    }
  }
  return c;
}

/** Eigen-decomposition of a symmetric matrix, eigenvalues descending; each vector's sign fixed (largest entry positive). */
export function symmetricEigen(c: Matrix): { values: number[]; vectors: number[][] } {
  const evd = new EigenvalueDecomposition(c, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const v = evd.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
  const vectors = order.map((k) => {
    const col = v.getColumn(k);
    let big = 0;
    for (const e of col) if (Math.abs(e) > Math.abs(big)) big = e;
    return big < 0 ? col.map((e) => -e) : col;
  });
  return { values: order.map((k) => values[k] as number), vectors };
}

/** Dot product. */
export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] as number) * (b[j] as number);
  return s;
}

/** Projects the centred rows of `x` on the first `k` eigenvectors of their covariance (PCA). */
export function pca(x: readonly (readonly number[])[], k: number): number[][] {
  const mu = mean(x);
  const { vectors } = symmetricEigen(covariance(x, mu));
  const top = vectors.slice(0, Math.min(k, vectors.length));
  return x.map((r) => {
    const c = r.map((v, j) => v - (mu[j] as number));
    return top.map((u) => dot(c, u));
  });
}

/** Indices of each class in `labels`. */
export function byClass(labels: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] as number;
    const g = groups.get(c);
    if (g) g.push(i);
    else groups.set(c, [i]);
  }
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

/** Indices sorted by decreasing score (ties by index). */
export function rankDescending(scores: ArrayLike<number>, indices: readonly number[]): Int32Array {
  return Int32Array.from([...indices].sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b));
}
