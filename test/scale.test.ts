/**
 * What a batch makes Argo hold (lib/build/scale.ts), for the shipped runai environment: counts as
 * Argo lays out status nodes, and the 100,000-scan batch the README promises within every limit.
 */
import { describe, expect, it } from 'vitest';
import { footprint, overLimits, type WorkflowTemplateJson } from '../lib/build/scale';
import { buildEnvironment } from '../lib/synth';
import { shipped } from './support/envs';

const { pipeline } = buildEnvironment(shipped('runai'));
const view = { pipeline: pipeline.template.toJson() as WorkflowTemplateJson, steps: pipeline.objects.steps.map((s) => s.resource.toJson() as WorkflowTemplateJson) };

describe('footprint of environments/runai', () => {
  it('counts pods and status nodes as Argo makes them: a Retry node and an attempt per call, a TaskGroup per fan-out', () => {
    const f = footprint(view, 10); // one chunk of 50
    expect(f.items).toBe(1);
    // lister, models-downloader, predictor(0), trait-extractor(0), the exit handler
    expect(f.pods).toBe(5);
    // DAG + (Retry + Pod) x 5 calls + 2 TaskGroups
    expect(f.statusNodes).toBe(1 + 2 * 5 + 2);
  });

  it('holds 100,000 scans within every limit: a few-byte result, small arguments, a Workflow under 1 MiB', () => {
    const f = footprint(view, 100_000);
    expect(f.items).toBe(2_000);
    expect(f.pods).toBe(3 + 2 * 2_000);
    expect(f.result.bytes).toBe(4); // "2000"
    expect(f.argument.bytes).toBeLessThan(16 * 1024);
    expect(f.object.what).toBe('Workflow with its status');
    expect(f.object.bytes).toBeLessThan(f.object.limit);
    expect(overLimits(f)).toEqual([]);
  });

  it('the same templates with one pod per scan would not fit', () => {
    const f = footprint(view, 100_000 * 50); // as many chunks as one pod per scan of 100,000
    expect(overLimits(f).map((m) => m.what)).toContain('Workflow with its status');
  });
});
