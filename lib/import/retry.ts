/**
 * A hand-written `retryStrategy` as a step's `retry`: the limit and backoff kept, the policy
 * replaced by the project's (lib/scheduling/retry.ts), and why.
 *
 * The Argo v4.1.2 behaviour relied on: `retryStrategy` without `retryPolicy` (and without
 * `expression`) means `OnFailure`, with an expression `Always`
 * (pkg/apis/workflow/v1alpha1/workflow_types.go `RetryStrategy.RetryPolicyActual`); `OnFailure`
 * retries Failed attempts and not Error ones (a deleted, preempted or evicted pod):
 * workflow/controller/operator.go `processNodeRetries` (`retryOnError = false`).
 */
import type { StepConfig } from '../config/schema';
import { asMap, short, type ImportContext } from './context';
import type { SourceObject } from './documents';

/** Translates `rs` (the template at `tp`'s retryStrategy) into `config.retry`; the correction lands at `at`. */
export function translateRetry(ctx: ImportContext, src: SourceObject, tp: readonly (string | number)[], rs: Record<string, unknown> | undefined, config: { retry?: StepConfig['retry'] }, at: readonly (string | number)[]): void {
  if (!rs) return;
  const rp = [...tp, 'retryStrategy'];
  ctx.unknownKeys(src, rp, rs, ['limit', 'retryPolicy', 'backoff'], 'this retryStrategy field');
  // Argo's RetryStrategy.limit and Backoff.factor are IntOrString; Backoff.duration and cap are
  // strings whose bare numbers are seconds (pkg/apis/workflow/v1alpha1/workflow_types.go, type
  // Backoff), which the environment file's durations also read as seconds. maxDuration has no field.
  const retry: { limit?: number; backoff?: { duration?: string; factor?: number; cap?: string } } = {};
  if (rs.limit !== undefined) {
    if (Number.isInteger(Number(rs.limit)) && Number(rs.limit) >= 0) retry.limit = Number(rs.limit);
    else ctx.cannotExpress(src, [...rp, 'limit'], `expected a whole number of retries; given ${short(rs.limit)}; the project's default limit applies`);
  }
  const backoff = asMap(rs.backoff);
  if (backoff) {
    ctx.unknownKeys(src, [...rp, 'backoff'], backoff, ['duration', 'factor', 'cap'], 'this backoff field');
    retry.backoff = {
      ...(backoff.duration !== undefined ? { duration: String(backoff.duration) } : {}),
      ...(backoff.factor !== undefined && Number.isInteger(Number(backoff.factor)) ? { factor: Number(backoff.factor) } : {}),
      ...(backoff.cap !== undefined ? { cap: String(backoff.cap) } : {}),
    };
  }
  config.retry = retry;
  const policy = typeof rs.retryPolicy === 'string' ? rs.retryPolicy : undefined;
  const why = policy === undefined && rs.expression !== undefined
    ? 'with an expression and no retryPolicy Argo retries Always, as the expression decides (RetryPolicyActual); the expression is not kept (listed)'
    : policy === undefined || policy === 'OnFailure'
    ? `retryPolicy ${policy ?? 'unset (Argo reads it as OnFailure: workflow_types.go RetryPolicyActual)'} retries Failed attempts only, not Error ones (processNodeRetries in operator.go), and a preempted or evicted pod ends Error (pipeline-facts, Run:AI rule 4): those were never retried`
    : policy === 'Always'
      ? 'retryPolicy Always also retries deterministic failures (a crash, a usage error, a timeout), holding the GPU longer for nothing'
      : `retryPolicy ${policy} is replaced`;
  ctx.corrected(src, policy === undefined ? rp : [...rp, 'retryPolicy'], at, 'the project\'s retry rules (Error and killed pods retried)',
    `${why}; the limit and backoff are kept, and the policy is the project's: retry Always with an expression that retries Error attempts and killed pods (exit 137/143) and nothing the step decided`);
}
