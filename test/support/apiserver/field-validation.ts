/**
 * Unknown fields, as the API server treats them (fields its schema does not declare: schemas.ts).
 *
 * Create, update and non-apply patches follow `fieldValidation` (staging/src/k8s.io/apiserver/pkg/endpoints/
 * handlers/rest.go `fieldValidation`: absent means Warn): Strict answers 400 with the decoder's message
 * (create.go/update.go decode, rest.go `transformDecodeError`: `<Kind> in version "<v>" cannot be handled as a
 * <Kind>: strict decoding error: unknown field "spec.x"`, apimachinery runtime/error.go `strictDecodingError`,
 * converter.go `recordUnknownField`); Warn adds one `Warning: 299 - "unknown field \"spec.x\""` header per field
 * (patch.go/create.go `addStrictDecodingWarnings`, apimachinery util/net/http.go `NewWarningHeader`) and drops
 * the field; Ignore drops it silently (decoding into the Go type, or CRD pruning).
 *
 * Server-side apply is different: the applied configuration is converted to a typed value against the schema
 * whatever `fieldValidation` says, and an undeclared field fails that conversion (apimachinery
 * util/managedfields/internal/structuredmerge.go `Apply`: `failed to create typed patch object (<ns>/<name>;
 * <gvk>): <path>: field not declared in schema`, a plain error the apiserver answers as 500 with no reason
 * (kubernetes issue 139253)). `fieldValidation=Strict` adds only the duplicate-field check of yaml.UnmarshalStrict
 * (patch.go `applyPatcher.applyPatchToCurrentObject`), which a JSON body cannot fail here.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest } from './errors';
import { optionsInvalid, type ResourceRoute } from './common';
import { schemaOf, unknownFields } from './schemas';
import type { RequestContext } from './state';
import type { KObject } from './types';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The request's directive; an unsupported value is 422 as metav1 validation.go `ValidateFieldValidation` answers. */
export function fieldValidationOf(ctx: RequestContext, optionsKind: string): FieldValidation {
  const v = ctx.query.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw optionsInvalid(optionsKind, [{ type: 'FieldValueNotSupported', field: 'fieldValidation', detail: `Unsupported value: ${JSON.stringify(v)}: supported values: "", "Ignore", "Strict", "Warn"` }]);
}

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Adds `Warning: 299 - "<text>"` headers (each distinct text once, as the apiserver's warning recorder dedupes). */
export function addWarnings(res: ServerResponse, texts: readonly string[]): void {
  const prior = res.getHeader('Warning');
  const have = Array.isArray(prior) ? prior.map(String) : prior !== undefined ? [String(prior)] : [];
  for (const t of texts) {
    const h = `299 - ${quoted(t)}`;
    if (!have.includes(h)) have.push(h);
  }
  if (have.length) res.setHeader('Warning', have);
}

/** Create, update, patch: rejects (Strict) or drops unknown fields of `obj` in place (Warn, with warnings; Ignore). */
export function checkUnknownFields(ctx: RequestContext, route: ResourceRoute, obj: KObject, directive: FieldValidation): void {
  const schema = schemaOf(route.rt);
  if (!schema) return;
  const unknown = unknownFields(schema, obj);
  if (unknown.length === 0) return;
  const errors = unknown.map((u) => `unknown field "${u.decodePath}"`);
  if (directive === 'Strict') {
    const { kind, version } = route.rt;
    throw badRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: strict decoding error: ${errors.join(', ')}`);
  }
  if (directive === 'Warn') addWarnings(ctx.res, errors);
  for (const u of unknown) delete u.at.parent[u.at.key];
}

/** Server-side apply: a configuration with an undeclared field is refused (500, see the file comment). */
export function checkAppliedFields(route: ResourceRoute, config: KObject): void {
  const schema = schemaOf(route.rt);
  if (!schema) return;
  const unknown = unknownFields(schema, config);
  if (unknown.length === 0) return;
  const errs = unknown.map((u) => `${u.typedPath}: field not declared in schema`);
  const summary = errs.length === 1 ? errs[0] : ['errors:', ...errs.map((e) => `  ${e}`)].join('\n');
  const { group, version, kind } = route.rt;
  const gvk = `${group}/${version}, Kind=${kind}`;
  const where = `${config.metadata.namespace ?? route.namespace ?? ''}/${config.metadata.name ?? route.name ?? ''}`;
  throw new ApiError(500, '', `failed to create typed patch object (${where}; ${gvk}): ${summary}`);
}
