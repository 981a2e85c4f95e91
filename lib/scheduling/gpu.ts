/**
 * GPU requests as a value type: none (CPU), whole GPUs, a Run:AI fraction of one GPU, or Run:AI
 * GPU memory. Each kind knows where its request must sit in a pod so that the scheduler sees it.
 */
import type { Toleration } from '../values/shapes';

/** Pod annotation Run:AI reads for a share of one GPU. */
export const GPU_FRACTION_ANNOTATION = 'gpu-fraction';
/** Pod annotation Run:AI reads for GPU memory in MB (10^6 bytes). */
export const GPU_MEMORY_ANNOTATION = 'gpu-memory';
/** Pod annotation naming the container that gets the GPU slice (Run:AI 2.24+). */
export const GPU_CONTAINER_ANNOTATION = 'gpu-fraction-container-name';
/** The name Argo gives a container template's container. */
export const MAIN_CONTAINER = 'main';
/**
 * Puts `main` before Argo's `wait` sidecar: Run:AI before 2.24 gives the slice to the FIRST
 * container (pipeline-facts item 10).
 */
export const MAIN_FIRST_POD_SPEC_PATCH = JSON.stringify({ '$setElementOrder/containers': [{ name: MAIN_CONTAINER }, { name: 'wait' }] });

/** How a cluster exposes GPUs. All fields are resolved (no optionals). */
export interface GpuClusterSettings {
  /** Whether pods can get GPUs at all (false: any GPU request is a synth-time error). */
  readonly available: boolean;
  /** Extended resource name of a whole GPU. */
  readonly resourceName: string;
  /** Tolerations a whole-GPU pod needs (e.g. for the `nvidia.com/gpu` taint). */
  readonly tolerations: readonly Toleration[];
  /** Node selector for GPU pods. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** For fraction/memory requests: name the `main` container and put it first. */
  readonly targetMainContainer: boolean;
}

/** What a GPU request adds to one Argo container template. */
export interface GpuPodSettings {
  readonly annotations: Record<string, string>;
  /** Extended resources set as request AND limit. */
  readonly resources: Record<string, string>;
  readonly tolerations: Toleration[];
  readonly nodeSelector: Record<string, string>;
  readonly podSpecPatch?: string;
}

/** A step's GPU request. Create with the static factories. */
export abstract class GpuRequest {
  /** CPU only. */
  public static none(): GpuRequest {
    return new NoGpu();
  }

  /** Whole GPUs through the device plugin's extended resource (request = limit). */
  public static whole(count: number): GpuRequest {
    if (!Number.isInteger(count) || count < 1) throw new Error(`GpuRequest.whole: 'count' (${count}) must be a positive whole number`);
    return new WholeGpus(count);
  }

  /** A share of one GPU, as Run:AI's `gpu-fraction` pod annotation. */
  public static fraction(share: number): GpuRequest {
    if (!(share > 0 && share < 1)) throw new Error(`GpuRequest.fraction: 'share' (${share}) must be between 0 and 1, exclusive; use GpuRequest.whole() for whole GPUs`);
    return new GpuFraction(share);
  }

  /** GPU memory in MB (10^6 bytes), as Run:AI's `gpu-memory` pod annotation. */
  public static memoryMB(megabytes: number): GpuRequest {
    if (!Number.isInteger(megabytes) || megabytes < 1) throw new Error(`GpuRequest.memoryMB: 'megabytes' (${megabytes}) must be a positive whole number`);
    return new GpuMemory(megabytes);
  }


  /** True when the step asks for any GPU. */
  public abstract readonly requestsGpu: boolean;
  /** True for requests a GPU-sharing scheduler (Run:AI/KAI) must read from annotations. */
  public abstract readonly needsSharingScheduler: boolean;
  /** Human-readable form for messages (e.g. `fraction 0.5`). */
  public abstract toString(): string;
  /** Where this request sits in a pod on a cluster with the given settings. */
  public abstract podSettings(cluster: GpuClusterSettings): GpuPodSettings;
}

class NoGpu extends GpuRequest {
  public readonly requestsGpu = false;
  public readonly needsSharingScheduler = false;
  public toString(): string {
    return 'none';
  }
  public podSettings(): GpuPodSettings {
    return { annotations: {}, resources: {}, tolerations: [], nodeSelector: {} };
  }
}

class WholeGpus extends GpuRequest {
  public readonly requestsGpu = true;
  public readonly needsSharingScheduler = false;
  public constructor(public readonly count: number) {
    super();
  }
  public toString(): string {
    return `${this.count} whole GPU${this.count === 1 ? '' : 's'}`;
  }
  public podSettings(cluster: GpuClusterSettings): GpuPodSettings {
    return {
      annotations: {},
      resources: { [cluster.resourceName]: String(this.count) },
      tolerations: [...cluster.tolerations],
      nodeSelector: { ...cluster.nodeSelector },
    };
  }
}

/** Shared shape of the two annotation-based (Run:AI) requests: never an extended resource. */
abstract class AnnotatedGpu extends GpuRequest {
  public readonly requestsGpu = true;
  public readonly needsSharingScheduler = true;
  protected abstract readonly annotation: Record<string, string>;
  public podSettings(cluster: GpuClusterSettings): GpuPodSettings {
    const target = cluster.targetMainContainer;
    return {
      annotations: { ...this.annotation, ...(target ? { [GPU_CONTAINER_ANNOTATION]: MAIN_CONTAINER } : {}) },
      resources: {},
      tolerations: [],
      nodeSelector: { ...cluster.nodeSelector },
      podSpecPatch: target ? MAIN_FIRST_POD_SPEC_PATCH : undefined,
    };
  }
}

class GpuFraction extends AnnotatedGpu {
  public constructor(public readonly share: number) {
    super();
  }
  protected get annotation(): Record<string, string> {
    return { [GPU_FRACTION_ANNOTATION]: String(this.share) };
  }
  public toString(): string {
    return `fraction ${this.share}`;
  }
}

class GpuMemory extends AnnotatedGpu {
  public constructor(public readonly megabytes: number) {
    super();
  }
  protected get annotation(): Record<string, string> {
    return { [GPU_MEMORY_ANNOTATION]: String(this.megabytes) };
  }
  public toString(): string {
    return `memory ${this.megabytes} MB`;
  }
}
