/**
 * What GPU an attempt asked for, from its pod (when it still exists) or from the template Argo
 * stored for it (status.storedTemplates: a running workflow keeps the version it first resolved,
 * workflow/templateresolution/context.go; keyed `namespaced/<templateRef.name>/<template>`,
 * pkg/apis/workflow/v1alpha1/workflow_types.go resolveTemplateReference).
 *
 * Whole GPUs are a container limit on an extended resource ending in `/gpu` (`nvidia.com/gpu`);
 * Run:AI shares are pod annotations (`gpu-fraction: "0.5"`, copied from
 * `templates[].metadata.annotations` onto the pod by workflowpod.go addMetadata). `gpu-memory`
 * (MB) says no share of a GPU, so it is reported as a note and not counted.
 */

/** A GPU request. */
export interface GpuAsk {
  /** Whole GPUs, or the fraction of one. 0 when none (or only gpu-memory). */
  readonly gpus: number;
  /** `gpu-memory` annotation, MB, when set. */
  readonly memoryMB?: number;
  /** How it reads, e.g. `1 GPU`, `0.5 GPU (gpu-fraction)`, `gpu-memory 8192 MB`, `none`. */
  readonly describe: string;
}

interface Resources {
  readonly limits?: Readonly<Record<string, unknown>>;
  readonly requests?: Readonly<Record<string, unknown>>;
}
interface ContainerLike {
  readonly name?: string;
  readonly resources?: Resources;
}

const NONE: GpuAsk = { gpus: 0, describe: 'none' };

function wholeGpus(containers: readonly ContainerLike[]): number {
  let n = 0;
  for (const c of containers) {
    const r = { ...(c.resources?.requests ?? {}), ...(c.resources?.limits ?? {}) };
    for (const [k, v] of Object.entries(r)) {
      if (!k.endsWith('/gpu')) continue;
      const q = Number(v);
      if (Number.isFinite(q) && q > 0) n += q;
    }
  }
  return n;
}

function ask(containers: readonly ContainerLike[], annotations: Readonly<Record<string, string>>): GpuAsk {
  const whole = wholeGpus(containers);
  if (whole > 0) return { gpus: whole, describe: `${whole} GPU` };
  const fraction = Number(annotations['gpu-fraction']);
  const memory = Number(annotations['gpu-memory']);
  const memoryMB = Number.isFinite(memory) && memory > 0 ? memory : undefined;
  if (Number.isFinite(fraction) && fraction > 0) return { gpus: fraction, memoryMB, describe: `${fraction} GPU (gpu-fraction)` };
  if (memoryMB !== undefined) return { gpus: 0, memoryMB, describe: `gpu-memory ${memoryMB} MB` };
  return NONE;
}

/** A pod's GPU request (all its containers, its annotations). */
export function gpuOfPod(pod: { metadata: { annotations?: Record<string, string> }; [k: string]: unknown }): GpuAsk {
  const spec = pod.spec as { containers?: ContainerLike[]; initContainers?: ContainerLike[] } | undefined;
  return ask([...(spec?.initContainers ?? []), ...(spec?.containers ?? [])], pod.metadata.annotations ?? {});
}

/** A template's GPU request (its container, its pod metadata). */
export function gpuOfTemplate(t: { container?: ContainerLike; metadata?: { annotations?: Record<string, string> } }): GpuAsk {
  return ask(t.container ? [t.container] : [], t.metadata?.annotations ?? {});
}
