/**
 * Just enough of the Kubernetes protobuf encoding to read the self-review bodies kubectl sends as
 * `application/vnd.kubernetes.protobuf` (`kubectl auth can-i` / `auth whoami`). Everything else is JSON.
 */
import { badRequest } from './errors';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Fields = Map<number, Buffer[]>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw badRequest('protobuf: truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7;
  }
}

/** Length-delimited fields of one message, by field number (varints and fixed-width fields are skipped). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        pos = readVarint(buf, pos)[1];
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const [len, p2] = readVarint(buf, pos);
        const value = buf.subarray(p2, p2 + len);
        pos = p2 + len;
        out.set(field, [...(out.get(field) ?? []), value]);
        break;
      }
      default:
        throw badRequest(`protobuf: unsupported wire type ${tag & 7}`);
    }
  }
  return out;
}

function str(f: Fields, n: number): string {
  return f.get(n)?.[0]?.toString('utf8') ?? '';
}

function msg(f: Fields, n: number): Fields | undefined {
  const b = f.get(n)?.[0];
  return b ? fields(b) : undefined;
}

/** Unwraps the `k8s\0` + runtime.Unknown envelope. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing k8s envelope');
  const unknown = fields(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  return { apiVersion: typeMeta ? str(typeMeta, 1) : '', kind: typeMeta ? str(typeMeta, 2) : '', raw: unknown.get(2)?.[0] ?? Buffer.alloc(0) };
}

/** Decodes a SelfSubjectAccessReview (authorization.k8s.io/v1) into its JSON shape. */
export function decodeSelfSubjectAccessReview(body: Buffer): Record<string, unknown> {
  const { apiVersion, kind, raw } = unwrap(body);
  const review = fields(raw);
  const spec = msg(review, 2);
  const out: Record<string, any> = { apiVersion, kind, spec: {} };
  const ra = spec && msg(spec, 1);
  const nra = spec && msg(spec, 2);
  if (ra) {
    out.spec.resourceAttributes = {
      namespace: str(ra, 1),
      verb: str(ra, 2),
      group: str(ra, 3),
      version: str(ra, 4),
      resource: str(ra, 5),
      subresource: str(ra, 6),
      name: str(ra, 7),
    };
  }
  if (nra) out.spec.nonResourceAttributes = { path: str(nra, 1), verb: str(nra, 2) };
  return out;
}
