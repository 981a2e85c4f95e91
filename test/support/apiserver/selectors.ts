/**
 * labelSelector and fieldSelector parsing and matching (the apimachinery grammar, minus set-based validation detail).
 */
import { badRequest } from './errors';
import type { ResourceType } from './resources';
import type { KObject } from './types';

export type Predicate = (obj: KObject) => boolean;

type LabelOp = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
interface LabelReq {
  key: string;
  op: LabelOp;
  values: string[];
}

const KEY = String.raw`[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const RE_NOT = new RegExp(`^!\\s*(${KEY})$`);
const RE_SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const RE_CMP = new RegExp(`^(${KEY})\\s*(==|=|!=|>|<)\\s*(${VALUE})$`);
const RE_EXISTS = new RegExp(`^(${KEY})$`);
const RE_VALUE = new RegExp(`^${VALUE}$`);

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

export function parseLabelSelector(text: string | undefined | null): Predicate {
  if (!text || !text.trim()) return () => true;
  const reqs: LabelReq[] = splitTopLevel(text).map((part) => {
    let m: RegExpExecArray | null;
    if ((m = RE_NOT.exec(part))) return { key: m[1], op: '!', values: [] };
    if ((m = RE_SET.exec(part))) {
      const values = m[3].split(',').map((v) => v.trim());
      if (values.some((v) => !RE_VALUE.test(v))) throw badRequest(`unable to parse requirement: invalid label value in "${part}"`);
      return { key: m[1], op: m[2] as LabelOp, values };
    }
    if ((m = RE_CMP.exec(part))) {
      const op: LabelOp = m[2] === '==' || m[2] === '=' ? '=' : m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : 'lt';
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(m[3])) {
        throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: "${part}"`);
      }
      return { key: m[1], op, values: [m[3]] };
    }
    if ((m = RE_EXISTS.exec(part))) return { key: m[1], op: 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found invalid requirement "${part}" in label selector "${text}"`);
  });
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    return reqs.every((r) => matchLabel(r, labels));
  };
}

function matchLabel(r: LabelReq, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
      return has && v === r.values[0];
    case '!=':
      return !has || v !== r.values[0];
    case 'in':
      return has && r.values.includes(v);
    case 'notin':
      return !has || !r.values.includes(v);
    case 'gt':
      return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
    case 'lt':
      return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
  }
}

interface FieldReq {
  field: string;
  negate: boolean;
  value: string;
}

/** Splits on unescaped `sep`. */
function splitEscaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i];
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

export function fieldValue(obj: KObject, field: string): string {
  if (field === 'spec.hostNetwork') return String(obj.spec?.hostNetwork ?? obj.spec?.securityContext?.hostNetwork ?? false);
  let cur: any = obj;
  for (const part of field.split('.')) cur = cur == null ? undefined : cur[part];
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function parseFieldSelector(text: string | undefined | null, rt: ResourceType): Predicate {
  if (!text || !text.trim()) return () => true;
  const reqs: FieldReq[] = splitEscaped(text, ',').map((raw) => {
    const part = raw.trim();
    let m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/s.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1].trim();
    const allowed = ['metadata.name', 'metadata.namespace', ...rt.selectableFields];
    if (!allowed.includes(field)) {
      if (rt.custom) throw badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, negate: m[2] === '!=', value: unescape(m[3]) };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}

/** The name a fieldSelector pins (`metadata.name=x`), if any; used to short-cut single-object watches. */
export function selectedName(text: string | undefined | null): string | undefined {
  if (!text) return undefined;
  for (const raw of splitEscaped(text, ',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*)$/.exec(raw);
    if (m) return unescape(m[1].trim());
  }
  return undefined;
}
