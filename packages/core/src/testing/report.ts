/**
 * Outcome of one conformance check.
 *
 * @public
 */
export interface CheckResult {
  /** Check name, e.g. `epsilon-ball`. */
  readonly name: string;
  /** `passed`, `failed`, or `skipped` (with the reason in `message`). */
  readonly status: 'passed' | 'failed' | 'skipped';
  /** What was found (for failures: the evidence). */
  readonly message: string;
}

/**
 * Result of a conformance suite: every check with its status.
 *
 * @public
 */
export interface ConformanceReport {
  /** What was checked (e.g. the attack's name). */
  readonly subject: string;
  /** All checks in order. */
  readonly checks: readonly CheckResult[];
  /** The failed checks. */
  readonly failures: readonly CheckResult[];
  /** True when no check failed. */
  readonly passed: boolean;
}

/** Thrown inside a check to fail it with evidence. */
export class CheckFailure extends Error {}

/** Fails the current check unless `condition` holds. */
export function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

/** Runs named checks in isolation (a crash fails only its own check) and collects a report. */
export class Suite {
  private readonly results: CheckResult[] = [];

  constructor(
    private readonly subject: string,
    private readonly skip: Readonly<Record<string, string>> = {},
  ) {}

  async check(name: string, fn: () => Promise<string | void> | string | void): Promise<void> {
    const reason = this.skip[name];
    if (reason !== undefined) {
      this.results.push({ name, status: 'skipped', message: reason });
      return;
    }
    try {
      const message = await fn();
      this.results.push({ name, status: 'passed', message: message ?? 'ok' });
    } catch (e) {
      const message = e instanceof CheckFailure ? e.message : `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      this.results.push({ name, status: 'failed', message });
    }
  }

  skipCheck(name: string, reason: string): void {
    this.results.push({ name, status: 'skipped', message: reason });
  }

  report(): ConformanceReport {
    const failures = this.results.filter((r) => r.status === 'failed');
    return Object.freeze({ subject: this.subject, checks: [...this.results], failures, passed: failures.length === 0 });
  }
}

/**
 * Throws an `Error` listing every failed check of `report` (for use in any test runner).
 *
 * @example
 * ```ts
 * assertConformance(await checkAttack(pgd(), fixture));
 * ```
 * @public
 */
export function assertConformance(report: ConformanceReport): void {
  if (report.passed) return;
  const lines = report.failures.map((f) => `  - ${f.name}: ${f.message}`);
  throw new Error(`${report.subject} failed ${report.failures.length} conformance check(s):\n${lines.join('\n')}`);
}
