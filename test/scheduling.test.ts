/** The value types: GPU requests, retry strategies, quantities and image pinning. */
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../lib/scheduling/cluster';
import { GpuRequest, MAIN_FIRST_POD_SPEC_PATCH } from '../lib/scheduling/gpu';
import { PREEMPTIBLE_RETRY_DEFAULTS, RetryStrategy, STEP_RETRY_DEFAULTS } from '../lib/scheduling/retry';
import { isPinnedImage } from '../lib/values/image';
import { parseQuantity } from '../lib/values/quantity';

const cluster = resolveCluster({ namespace: 'x', gpu: { nodeSelector: { 'nvidia.com/gpu.product': 'A100' } } }).gpu;

describe('GpuRequest', () => {
  it('whole GPUs set request and limit on the extended resource, with the GPU toleration', () => {
    const s = GpuRequest.whole(2).podSettings(cluster);
    expect(s.resources).toEqual({ 'nvidia.com/gpu': '2' });
    expect(s.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(s.annotations).toEqual({});
    expect(s.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'A100' });
  });

  it('a fraction is a pod annotation only, aimed at main when the cluster asks for it', () => {
    const s = GpuRequest.fraction(0.25).podSettings(cluster);
    expect(s.resources).toEqual({});
    expect(s.annotations).toEqual({ 'gpu-fraction': '0.25', 'gpu-fraction-container-name': 'main' });
    expect(s.podSpecPatch).toBe(MAIN_FIRST_POD_SPEC_PATCH);
    const plain = GpuRequest.fraction(0.25).podSettings({ ...cluster, targetMainContainer: false });
    expect(plain.annotations).toEqual({ 'gpu-fraction': '0.25' });
    expect(plain.podSpecPatch).toBeUndefined();
  });

  it('GPU memory is the gpu-memory annotation in MB, never a resource', () => {
    const s = GpuRequest.memoryMB(8192).podSettings(cluster);
    expect(s.annotations['gpu-memory']).toBe('8192');
    expect(s.resources).toEqual({});
  });

  it('none adds nothing', () => {
    expect(GpuRequest.none().podSettings(cluster)).toEqual({ annotations: {}, resources: {}, tolerations: [], nodeSelector: {} });
    expect(GpuRequest.none().requestsGpu).toBe(false);
  });

  it('fails when a fraction is not strictly between 0 and 1', () => {
    expect(() => GpuRequest.fraction(1)).toThrow("'share' (1) must be between 0 and 1, exclusive");
    expect(() => GpuRequest.whole(0.5)).toThrow("'count' (0.5) must be a positive whole number");
    expect(() => GpuRequest.memoryMB(0)).toThrow("'megabytes' (0)");
  });
});

describe('RetryStrategy', () => {
  const EXPRESSION = (codes: string) => `lastRetry.status == "Error" || (lastRetry.status == "Failed" && !(lastRetry.message contains "deadline") && lastRetry.exitCode in [${codes}])`;

  it('preemptible retries Error attempts and killed pods only, with the documented backoff', () => {
    expect(RetryStrategy.preemptible().toArgo()).toEqual({
      limit: PREEMPTIBLE_RETRY_DEFAULTS.limit,
      retryPolicy: 'Always',
      expression: EXPRESSION('"-1", "137", "143"'),
      backoff: { duration: '2m', factor: 2, cap: '30m' },
    });
    expect(RetryStrategy.preemptible().retriesEveryFailure).toBe(true);
  });
  it('every other step retries the same failures, fewer times and sooner', () => {
    expect(RetryStrategy.infrastructure().toArgo()).toEqual({
      limit: STEP_RETRY_DEFAULTS.limit, retryPolicy: 'Always', expression: EXPRESSION('"-1", "137", "143"'), backoff: { duration: '30s', factor: 2, cap: '5m' },
    });
  });
  it('overrides replace single fields; exitCodes add codes to retry', () => {
    expect(RetryStrategy.preemptible({ limit: 6, backoff: { duration: '5m' }, exitCodes: [70] }).toArgo()).toEqual({
      limit: 6, retryPolicy: 'Always', expression: EXPRESSION('"-1", "137", "143", "70"'), backoff: { duration: '5m', factor: 2, cap: '30m' },
    });
    expect(RetryStrategy.infrastructure().alsoRetrying([75]).exitCodes).toEqual([75, 137, 143]);
  });
  it('an explicit policy is Argo\'s alone (no expression); none has no strategy', () => {
    expect(RetryStrategy.none().toArgo()).toBeUndefined();
    expect(RetryStrategy.custom({ limit: 2, policy: 'OnFailure' }).toArgo()).toEqual({ limit: 2, retryPolicy: 'OnFailure', expression: undefined, backoff: undefined });
    expect(RetryStrategy.custom({ limit: 2, policy: 'OnFailure' }).retriesEveryFailure).toBe(false);
    expect(RetryStrategy.custom({ limit: 4 }).toArgo()).toMatchObject({ limit: 4, retryPolicy: 'Always', expression: EXPRESSION('"-1", "137", "143"') });
  });
  it('onError retries Error attempts only, keeping a Failed attempt\'s message', () => {
    expect(RetryStrategy.onError({ limit: 3 }).toArgo()).toEqual({ limit: 3, retryPolicy: 'OnError', expression: undefined, backoff: { duration: '30s', factor: 2, cap: '5m' } });
  });
});

describe('values', () => {
  it.each([
    ['500m', 0.5], ['2', 2], ['8Gi', 8 * 2 ** 30], ['1.5G', 1.5e9], ['1e3', 1000], [4, 4],
  ])('parses the quantity %s', (q, v) => expect(parseQuantity(q)).toBeCloseTo(v));
  it('rejects malformed quantities', () => expect(parseQuantity('8 GB')).toBeUndefined());
  it.each([
    ['repo/img:1.2', true], ['repo/img:latest', false], ['repo/img', false], ['host:5000/img', false],
    ['host:5000/img:sha-abc', true], [`img@sha256:${'0'.repeat(64)}`, true],
  ])('knows whether %s is pinned', (image, pinned) => expect(isPinnedImage(image)).toBe(pinned));
});
