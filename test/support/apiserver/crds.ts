/**
 * CustomResourceDefinitions come alive: storing a CRD starts serving its resource (discovery, CRUD, watch);
 * deleting it stops serving it and deletes its objects, as the apiextensions server does.
 */
import type { Catalog, PrinterColumn, ResourceType } from './resources';
import { crdVersionSchema } from './schemas';
import type { Store } from './store';
import type { KObject } from './types';

function typesOf(crd: KObject): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group || !names.plural || !names.kind) return [];
  return (spec.versions ?? [])
    .filter((v: any) => v?.served !== false && v?.name)
    .map(
      (v: any): ResourceType => ({
        group: spec.group,
        version: v.name,
        resource: names.plural,
        singular: names.singular || String(names.kind).toLowerCase(),
        kind: names.kind,
        namespaced: spec.scope !== 'Cluster',
        shortNames: names.shortNames,
        categories: names.categories,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        subresources: v.subresources?.status ? ['status'] : [],
        generation: true,
        allowUnconditionalUpdate: false,
        custom: true,
        returnDeletedObject: true,
        selectableFields: (v.selectableFields ?? []).map((f: any) => String(f.jsonPath ?? '').replace(/^\./, '')),
        printer: 'default',
        columns: (v.additionalPrinterColumns as PrinterColumn[] | undefined)?.length ? v.additionalPrinterColumns : undefined,
        fromCrd: true,
        schema: crdVersionSchema(crd, v.name),
      }),
    );
}

export function serveCrds(store: Store, catalog: Catalog): void {
  store.subscribe((ev) => {
    if (ev.rt.group !== 'apiextensions.k8s.io' || ev.rt.resource !== 'customresourcedefinitions') return;
    const group = ev.object.spec?.group;
    const plural = ev.object.spec?.names?.plural;
    if (ev.type === 'DELETED') {
      const gone = catalog.removeFromCrd((t) => t.group === group && t.resource === plural);
      if (gone.length) for (const obj of store.list(gone[0])) store.remove(gone[0], obj.metadata.namespace, obj.metadata.name!);
      return;
    }
    const wanted = typesOf(ev.object);
    catalog.removeFromCrd((t) => t.group === group && t.resource === plural && !wanted.some((w) => w.version === t.version));
    for (const rt of wanted) {
      const existing = catalog.byResource(rt.group, rt.version, rt.resource);
      // Update in place: stored objects and open watches hold on to the type.
      if (existing?.fromCrd) Object.assign(existing, rt);
      else catalog.add(rt);
    }
  });
}
