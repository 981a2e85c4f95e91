/**
 * What batches running at the same time share on the volumes: every folder a step pod may write
 * must be the workflow's own (its run folder, under `{{workflow.name}}`) or one scan's (a
 * per-scan mount: batches hold disjoint scans). Read from the templates a batch run deploys.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { batchDist, RUN_ENV } from './support/runs';
import { readDist } from '../../lib/cluster/manifests';
import { checkSharedStages, sharedStagesOf } from '../../lib/cluster/run/shared-stages';

interface Mount {
  mountPath: string;
  name: string;
  readOnly?: boolean;
  subPath?: string;
}
interface Template {
  name: string;
  container?: { args?: string[]; env?: { name: string; value?: string }[]; volumeMounts?: Mount[] };
}

/** Writable mounts of each step that are neither per workflow nor per scan. */
function sharedWrites(): string[] {
  const dir = path.join(batchDist(), RUN_ENV);
  const out: string[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    const obj = parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { kind: string; spec?: { templates?: Template[] } };
    if (obj.kind !== 'WorkflowTemplate') continue;
    for (const t of obj.spec?.templates ?? []) {
      const env = new Map((t.container?.env ?? []).map((e) => [e.name, e.value ?? '']));
      const perScan = (env.get('SLEAP_ROOTS_ITEM_MOUNTS') ?? '').split('\n').filter(Boolean);
      const runDir = env.get('SLEAP_ROOTS_RUN_DIR') ?? '';
      for (const m of t.container?.volumeMounts ?? []) {
        if (m.readOnly) continue;
        if (m.subPath?.includes('{{workflow.name}}')) continue;
        if (perScan.includes(m.mountPath)) continue;
        // The run-state mount: the step's own command never gets it (it is not in the args),
        // and the wrapper, lister and gate write only under the run folder, per workflow.
        const inArgs = (t.container?.args ?? []).some((x) => x.startsWith(m.mountPath));
        if (!inArgs && runDir.startsWith(`${m.mountPath}/`) && runDir.includes('{{workflow.name}}')) continue;
        out.push(`${t.name} writes ${m.name} at ${m.mountPath}`);
      }
    }
  }
  return out.sort();
}

describe('batches that run at the same time', () => {
  it('write a shared folder only in an exclusive step: one batch at a time (a mutex), the rest skip by its marker', () => {
    // models-downloader writes the one models-output folder every batch predicts from. It is the
    // only shared writer, and it is exclusive: its pods hold a mutex (one holder across the
    // namespace's workflows), and with resume the first batch writes its marker and the others
    // skip; a run refuses --force-rerun and environments without resume (shared-stages.ts).
    expect(sharedWrites()).toEqual(['models-downloader writes models-output at /workspace/output']);
    const stages = sharedStagesOf(readDist(batchDist(), RUN_ENV));
    expect(stages).toEqual([{ step: 'models-downloader', mutex: 'sleap-roots-models-downloader', resumes: true, timeoutSeconds: 3600 }]);
    expect(() => checkSharedStages(readDist(batchDist(), RUN_ENV), false)).not.toThrow();
  });
});
