/**
 * Plain shapes the constructs take, in Kubernetes' own terms: environment variables, mounts,
 * resources, tolerations, volumes. The environment-file schema (config/schema.ts) parses into
 * these; nothing here depends on it.
 */

/** An environment variable: a value, or a reference to a Secret or ConfigMap key (never an inlined secret). */
export type EnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly secretKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } }
  | { readonly name: string; readonly configMapKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } };

/** A volume of the pipeline mounted into a step. */
export interface Mount {
  /** The pipeline volume's name. */
  readonly volume: string;
  /** Absolute path in the container. */
  readonly path: string;
  /** @default false */
  readonly readOnly?: boolean;
  /** @default - the whole volume */
  readonly subPath?: string;
}

/** A quantity: a number, or a Kubernetes quantity string (`500m`, `8Gi`). */
export type Quantity = number | string;

/** CPU, memory and ephemeral storage. */
export interface ResourceList {
  readonly cpu?: Quantity;
  readonly memory?: Quantity;
  readonly 'ephemeral-storage'?: Quantity;
}

/** Requests and limits of a container. */
export interface Resources {
  /** @default - none */
  readonly requests?: ResourceList;
  /** @default - none */
  readonly limits?: ResourceList;
}

/** A pod toleration. */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A Secret key mounted as one file (via `subPath`). */
export interface SecretFile {
  readonly secret: string;
  readonly key: string;
  /** Absolute path of the file in the container. */
  readonly path: string;
}

/** A shared folder the steps exchange data through: a node path or a claim. */
export type Volume =
  | { readonly hostPath: string; /** @default 'Directory' */ readonly type?: 'Directory' | 'DirectoryOrCreate' | 'File' }
  | { readonly persistentVolumeClaim: string; /** @default false */ readonly readOnly?: boolean };

/** An output parameter read from a file of the main container. */
export interface OutputFile {
  readonly name: string;
  readonly path: string;
}

/** A workflow parameter with its default. */
export interface PipelineParameter {
  /** @default '' */
  readonly value?: string;
  /** @default - none */
  readonly description?: string;
  /** @default - any value */
  readonly enum?: readonly string[];
}
