/**
 * The per-sample binary search over the constant `c` that weighs the classification loss against the
 * distance in Carlini & Wagner's attack and in EAD (the authors' reference code): `c` is multiplied by 10
 * while no adversarial has been found, bisected between the largest failing and the smallest succeeding
 * value afterwards, and — when there are at least 10 search steps — the last step uses the smallest
 * succeeding `c`.
 */
export class ConstSearch {
  private readonly consts: Float64Array;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;

  /** A search for `n` samples, each starting at `initial`. */
  constructor(
    n: number,
    initial: number,
    private readonly steps: number,
  ) {
    this.consts = new Float64Array(n).fill(initial);
    this.lower = new Float64Array(n);
    this.upper = new Float64Array(n).fill(Infinity);
  }

  /** The constants of search step `b` (0-based), one per sample. */
  constants(b: number): Float32Array {
    if (b === this.steps - 1 && this.steps >= 10) {
      this.upper.forEach((u, i) => {
        if (Number.isFinite(u)) this.consts[i] = u;
      });
    }
    return Float32Array.from(this.consts);
  }

  /** Moves each sample's constant after a search step, given whether it found an adversarial. */
  update(found: ArrayLike<number | boolean>): void {
    for (let i = 0; i < this.consts.length; i++) {
      const c = this.consts[i] as number;
      if (found[i]) this.upper[i] = Math.min(this.upper[i] as number, c);
      else this.lower[i] = Math.max(this.lower[i] as number, c);
      const hi = this.upper[i] as number;
      this.consts[i] = Number.isFinite(hi) ? ((this.lower[i] as number) + hi) / 2 : c * 10;
    }
  }
}
