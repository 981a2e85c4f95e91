/**
 * Retry policy of a step as a value type. Every step retries what the infrastructure did to it
 * (a deleted, preempted or evicted pod; a pod that never ran) and nothing the step's own code
 * decided (a crash, a usage error, a declared partial code, a timeout): retrying a deterministic
 * failure only holds a GPU slot longer (pipeline-facts items 4 and 12).
 *
 * Argo v4.1.2, workflow/controller/operator.go `processNodeRetries`: with `retryPolicy: Always`
 * both Failed and Error attempts are candidates, the backoff wait comes first, then the limit, then
 * `expression` decides (false ends the node with the last attempt's phase). The expression sees
 * `lastRetry.status` (the attempt's phase), `lastRetry.exitCode` (the main container's code, "-1"
 * when it never ended: `buildRetryStrategyLocalScope`) and `lastRetry.message` (the node message:
 * "pod deleted" for Error, "Pod was active on the node longer than the specified deadline" when
 * the pod's activeDeadlineSeconds, set from `timeout`, ended it: `inferFailedReason`).
 */

/** Retry settings; every field is optional and replaces the strategy's default. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly limit?: number;
  /**
   * Argo's policy alone, without the expression that keeps deterministic failures (a crash, a
   * partial code, a deadline) from being retried.
   * @default - `Always` with that expression
   */
  readonly policy?: RetryPolicyName;
  /** Wait before each retry: `duration`, doubling by `factor`, at most `cap` (`none`: no cap). */
  readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly cap?: string };
  /** Exit codes retried besides 137/143 (killed) and Error attempts. @default [] */
  readonly exitCodes?: readonly number[];
}

/** Argo's retry policies. */
export type RetryPolicyName = 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';

/** Exit codes of a main container stopped from outside: SIGKILL (137) and SIGTERM (143). */
export const KILLED_EXIT_CODES: readonly number[] = [137, 143];
/** `lastRetry.exitCode` when the main container never terminated (Argo's "-1"). */
export const NO_EXIT_CODE = -1;

/** The `backoff.cap` meaning "no cap". */
export const NO_CAP = 'none';

/** Defaults for preemptible steps: 3 retries, backoff 2m doubling, capped at 30m. */
export const PREEMPTIBLE_RETRY_DEFAULTS = {
  limit: 3,
  backoff: { duration: '2m', factor: 2, cap: '30m' },
} as const;

/** Defaults for every other step: 2 retries, backoff 30s doubling, capped at 5m. */
export const STEP_RETRY_DEFAULTS = {
  limit: 2,
  backoff: { duration: '30s', factor: 2, cap: '5m' },
} as const;

/** An Argo `retryStrategy`. */
export interface ArgoRetryStrategy {
  readonly limit: number;
  readonly retryPolicy: RetryPolicyName;
  readonly expression?: string;
  readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly cap?: string };
}

interface Strategy {
  readonly limit: number;
  readonly policy: RetryPolicyName;
  /** Exit codes retried besides Error attempts; undefined: whatever the policy retries. */
  readonly exitCodes?: readonly number[];
  readonly backoff?: ArgoRetryStrategy['backoff'];
}

/** A step's retry behaviour. */
export class RetryStrategy {
  /** No retries: a failed pod fails the step. */
  public static none(): RetryStrategy {
    return new RetryStrategy(undefined);
  }

  /**
   * Retry infrastructure failures only (Error attempts; exit 137/143 or none, unless the pod's
   * deadline ended it). The default of steps that are not preemptible.
   * @param overrides fields that replace {@link STEP_RETRY_DEFAULTS}; `exitCodes` add codes to retry
   */
  public static infrastructure(overrides: RetryOptions = {}): RetryStrategy {
    return RetryStrategy.build(STEP_RETRY_DEFAULTS, overrides);
  }

  /**
   * For preemptible steps: the same failures as {@link infrastructure}, more retries and a longer
   * backoff, so a retry does not slam into a still-full cluster.
   * @param overrides fields that replace {@link PREEMPTIBLE_RETRY_DEFAULTS}
   */
  public static preemptible(overrides: RetryOptions = {}): RetryStrategy {
    return RetryStrategy.build(PREEMPTIBLE_RETRY_DEFAULTS, overrides);
  }

  /**
   * Retry Error attempts only (a deleted or preempted pod, a lost executor), never a Failed one.
   * Without an expression a Failed attempt keeps its own message on the retry node (with one,
   * Argo replaces it by "retryStrategy.expression evaluated to false": processNodeRetries), which
   * is what the gate needs: its message is the batch's verdict.
   */
  public static onError(overrides: RetryOptions = {}): RetryStrategy {
    const d = STEP_RETRY_DEFAULTS;
    return new RetryStrategy({
      limit: overrides.limit ?? d.limit,
      policy: 'OnError',
      backoff: { duration: overrides.backoff?.duration ?? d.backoff.duration, factor: overrides.backoff?.factor ?? d.backoff.factor, cap: noCap(overrides.backoff?.cap ?? d.backoff.cap) },
    });
  }

  /**
   * A retry strategy as configured. With a `policy`, Argo's policy alone decides (no expression:
   * it may retry deterministic failures); without one, {@link infrastructure} with these values.
   */
  public static custom(config: RetryOptions): RetryStrategy {
    if (!config.policy) return RetryStrategy.infrastructure(config);
    const backoff = config.backoff && Object.keys(config.backoff).length > 0 ? { ...config.backoff, cap: noCap(config.backoff.cap) } : undefined;
    return new RetryStrategy({ limit: config.limit ?? 1, policy: config.policy, backoff });
  }

  private static build(defaults: { limit: number; backoff: { duration: string; factor: number; cap: string } }, o: RetryOptions): RetryStrategy {
    return new RetryStrategy({
      limit: o.limit ?? defaults.limit,
      policy: o.policy ?? 'Always',
      exitCodes: o.policy ? undefined : [...KILLED_EXIT_CODES, ...(o.exitCodes ?? [])],
      backoff: {
        duration: o.backoff?.duration ?? defaults.backoff.duration,
        factor: o.backoff?.factor ?? defaults.backoff.factor,
        cap: noCap(o.backoff?.cap ?? defaults.backoff.cap),
      },
    });
  }

  private constructor(private readonly strategy: Strategy | undefined) {}

  /** Number of retries after the first attempt (0 when none). */
  public get limit(): number {
    return this.strategy?.limit ?? 0;
  }

  /** The policy, or undefined when the step is not retried. */
  public get policy(): RetryPolicyName | undefined {
    return this.strategy?.policy;
  }

  /**
   * Exit codes of a Failed attempt that are retried; undefined when the policy alone decides
   * (then every code its policy covers is retried).
   */
  public get exitCodes(): readonly number[] | undefined {
    return this.strategy?.exitCodes;
  }

  /** True when every way a preempted pod ends (Error, or Failed after SIGTERM/SIGKILL) is retried. */
  public get retriesEveryFailure(): boolean {
    if (this.limit === 0 || this.policy !== 'Always') return false;
    return this.exitCodes === undefined || KILLED_EXIT_CODES.every((c) => this.exitCodes!.includes(c));
  }

  /** This strategy also retrying `codes` (e.g. the wrapper's "could not record" code). */
  public alsoRetrying(codes: readonly number[]): RetryStrategy {
    const s = this.strategy;
    if (!s?.exitCodes) return this;
    return new RetryStrategy({ ...s, exitCodes: [...new Set([...s.exitCodes, ...codes])].sort((a, b) => a - b) });
  }

  /** The `retryStrategy.expression`, when exit codes are listed. */
  public get expression(): string | undefined {
    const codes = this.strategy?.exitCodes;
    if (!codes) return undefined;
    const list = [NO_EXIT_CODE, ...codes].map((c) => `"${c}"`).join(', ');
    return `lastRetry.status == "Error" || (lastRetry.status == "Failed" && !(lastRetry.message contains "deadline") && lastRetry.exitCode in [${list}])`;
  }

  /** The Argo `retryStrategy` object, or undefined. */
  public toArgo(): ArgoRetryStrategy | undefined {
    const s = this.strategy;
    if (!s || s.limit === 0) return undefined;
    return { limit: s.limit, retryPolicy: s.policy, expression: this.expression, backoff: s.backoff };
  }
}

/** `cap: none` means no cap: Argo's backoff has none when `cap` is empty (workflow_types.go Backoff.Cap). */
function noCap(cap: string | undefined): string | undefined {
  return cap === NO_CAP ? undefined : cap;
}
