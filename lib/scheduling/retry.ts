/**
 * Retry policy of a step as a value type. Preemptible steps must retry every way a preempted pod
 * can end (Error or Failed), with a backoff so a retry does not slam into a still-full cluster
 * (pipeline-facts item 4).
 */
import type { RetryConfig } from '../config/schema';

/** Argo's retry policies. */
export type RetryPolicyName = 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';

/** Defaults for preemptible steps: 3 retries, `Always`, backoff 2m doubling, capped at 30m. */
export const PREEMPTIBLE_RETRY_DEFAULTS = {
  limit: 3,
  policy: 'Always' as RetryPolicyName,
  backoff: { duration: '2m', factor: 2, cap: '30m' },
} as const;

/** An Argo `retryStrategy`. */
export interface ArgoRetryStrategy {
  readonly limit: number;
  readonly retryPolicy: RetryPolicyName;
  readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly cap?: string };
}

/** A step's retry behaviour. */
export class RetryStrategy {
  /** No retries: a failed pod fails the step. */
  public static none(): RetryStrategy {
    return new RetryStrategy(undefined);
  }

  /**
   * For preemptible steps: retry on any failure with exponential backoff.
   * @param overrides fields that replace {@link PREEMPTIBLE_RETRY_DEFAULTS}
   */
  public static preemptible(overrides: RetryConfig = {}): RetryStrategy {
    const d = PREEMPTIBLE_RETRY_DEFAULTS;
    return new RetryStrategy({
      limit: overrides.limit ?? d.limit,
      retryPolicy: overrides.policy ?? d.policy,
      backoff: {
        duration: overrides.backoff?.duration ?? d.backoff.duration,
        factor: overrides.backoff?.factor ?? d.backoff.factor,
        cap: overrides.backoff?.cap ?? d.backoff.cap,
      },
    });
  }

  /**
   * A retry strategy as configured; a limit without a policy means Argo's default (OnFailure).
   */
  public static custom(config: RetryConfig): RetryStrategy {
    const backoff = config.backoff && Object.keys(config.backoff).length > 0 ? { ...config.backoff } : undefined;
    return new RetryStrategy({ limit: config.limit ?? 1, retryPolicy: config.policy ?? 'OnFailure', backoff });
  }

  private constructor(private readonly strategy: ArgoRetryStrategy | undefined) {}

  /** Number of retries after the first attempt (0 when none). */
  public get limit(): number {
    return this.strategy?.limit ?? 0;
  }

  /** The policy, or undefined when the step is not retried. */
  public get policy(): RetryPolicyName | undefined {
    return this.strategy?.retryPolicy;
  }

  /** True when every kind of pod failure (Error and Failed, as preemption causes) is retried. */
  public get retriesEveryFailure(): boolean {
    return this.limit > 0 && this.policy === 'Always';
  }

  /** The Argo `retryStrategy` object, or undefined. */
  public toArgo(): ArgoRetryStrategy | undefined {
    return this.strategy;
  }
}
