/**
 * The catalog of resource types the stand-in serves, as discovery describes them.
 */

import type { Schema } from './schemas';

export type PrinterKind = 'default' | 'pod' | 'namespace' | 'configmap' | 'secret';

/** A CRD additionalPrinterColumn: `kubectl get` columns after Name. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name as used in URLs. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Served subresources ('status', 'log'). */
  subresources: string[];
  /** metadata.generation is maintained (CRDs and custom resources). */
  generation: boolean;
  /** PUT without metadata.resourceVersion is allowed (false for custom resources). */
  allowUnconditionalUpdate: boolean;
  /** A custom resource (served from a CRD): no strategic merge patch, list items keep kind/apiVersion. */
  custom: boolean;
  /** DELETE answers with the deleted object (true) or a Status (false). */
  returnDeletedObject: boolean;
  /** Fields accepted by fieldSelector besides metadata.name / metadata.namespace. */
  selectableFields: string[];
  printer: PrinterKind;
  /** CRD-style printer columns (custom resources); replaces `printer` when set. */
  columns?: PrinterColumn[];
  /** Registered from a stored CustomResourceDefinition (removed again when it is deleted). */
  fromCrd?: boolean;
  /** Handled by the auth module instead of the store (SelfSubjectReview, SelfSubjectAccessReview). */
  virtual?: boolean;
  /** The objects' schema (CRDs stored at run time); otherwise schemas.ts finds one by group and kind. */
  schema?: Schema;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(partial: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'resource' | 'kind'>): ResourceType {
  return {
    singular: partial.kind.toLowerCase(),
    namespaced: true,
    verbs: RW,
    subresources: [],
    generation: false,
    allowUnconditionalUpdate: true,
    custom: false,
    returnDeletedObject: false,
    selectableFields: [],
    printer: 'default',
    ...partial,
  };
}

export interface CatalogOptions {
  /** Serve workflows/status as a subresource (the brief's choice; the repo's Argo CRD declares `subresources: {}`). */
  workflowStatusSubresource?: boolean;
  extraResources?: ResourceType[];
}

export function defaultCatalog(opts: CatalogOptions = {}): ResourceType[] {
  const wfStatus = opts.workflowStatusSubresource ?? false;
  const argo = (resource: string, kind: string, extra: Partial<ResourceType> = {}) =>
    def({
      group: 'argoproj.io',
      version: 'v1alpha1',
      resource,
      kind,
      generation: true,
      allowUnconditionalUpdate: false,
      custom: true,
      returnDeletedObject: true,
      ...extra,
    });
  return [
    def({
      group: '',
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: ['status', 'finalize'],
      returnDeletedObject: true,
      selectableFields: ['status.phase'],
      printer: 'namespace',
    }),
    def({
      group: '',
      version: 'v1',
      resource: 'pods',
      kind: 'Pod',
      shortNames: ['po'],
      categories: ['all'],
      subresources: ['status', 'log'],
      returnDeletedObject: true,
      selectableFields: [
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'spec.hostNetwork',
        'status.phase',
        'status.podIP',
        'status.nominatedNodeName',
      ],
      printer: 'pod',
    }),
    def({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'], printer: 'configmap' }),
    def({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', selectableFields: ['type'], printer: 'secret' }),
    def({ group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] }),
    def({
      group: '',
      version: 'v1',
      resource: 'nodes',
      kind: 'Node',
      namespaced: false,
      shortNames: ['no'],
      subresources: ['status'],
      selectableFields: ['spec.unschedulable'],
    }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role' }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding' }),
    def({
      group: 'scheduling.k8s.io',
      version: 'v1',
      resource: 'priorityclasses',
      kind: 'PriorityClass',
      namespaced: false,
      shortNames: ['pc'],
    }),
    def({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      subresources: ['status'],
      generation: true,
    }),
    argo('workflows', 'Workflow', {
      shortNames: ['wf'],
      subresources: wfStatus ? ['status'] : [],
      // The Argo CRD's additionalPrinterColumns.
      columns: [
        { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Status of the workflow' },
        { name: 'Age', type: 'date', format: 'date-time', jsonPath: '.status.startedAt', description: 'When the workflow was started' },
        {
          name: 'Message',
          type: 'string',
          jsonPath: '.status.message',
          description: 'Human readable message indicating details about why the workflow is in this condition.',
        },
      ],
    }),
    argo('workflowtemplates', 'WorkflowTemplate', { shortNames: ['wftmpl'] }),
    argo('workflowtaskresults', 'WorkflowTaskResult'),
    def({
      group: 'authentication.k8s.io',
      version: 'v1',
      resource: 'selfsubjectreviews',
      kind: 'SelfSubjectReview',
      namespaced: false,
      verbs: ['create'],
      virtual: true,
    }),
    def({
      group: 'authorization.k8s.io',
      version: 'v1',
      resource: 'selfsubjectaccessreviews',
      kind: 'SelfSubjectAccessReview',
      namespaced: false,
      verbs: ['create'],
      virtual: true,
    }),
    ...(opts.extraResources ?? []),
  ];
}

export function groupVersion(rt: Pick<ResourceType, 'group' | 'version'>): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** `workflows.argoproj.io` / `pods`: the form used in NotFound/Conflict messages. */
export function qualifiedResource(rt: ResourceType): string {
  return rt.group ? `${rt.resource}.${rt.group}` : rt.resource;
}

/** `Workflow.argoproj.io` / `Pod`: the form used in Invalid messages. */
export function qualifiedKind(rt: ResourceType): string {
  return rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
}

export class Catalog {
  constructor(readonly types: ResourceType[]) {}

  add(rt: ResourceType): void {
    if (!this.byResource(rt.group, rt.version, rt.resource)) this.types.push(rt);
  }

  /** Removes CRD-registered types matching the predicate; returns them. */
  removeFromCrd(pred: (rt: ResourceType) => boolean): ResourceType[] {
    const gone = this.types.filter((t) => t.fromCrd && pred(t));
    for (const t of gone) this.types.splice(this.types.indexOf(t), 1);
    return gone;
  }

  byResource(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  mustByKind(apiVersion: string, kind: string): ResourceType {
    const rt = this.byKind(apiVersion, kind);
    if (!rt) throw new Error(`stand-in apiserver: unknown apiVersion/kind ${apiVersion} ${kind}`);
    return rt;
  }

  /** Group -> versions, in catalog order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }
}
