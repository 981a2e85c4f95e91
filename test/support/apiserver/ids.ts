/**
 * Identifiers and time: uids, generateName suffixes (seedable), RFC3339 timestamps.
 */
import { randomUUID } from 'node:crypto';

/** The alphabet Kubernetes' util/rand uses for generateName suffixes (no vowels, no ambiguous chars). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class Ids {
  private state: number;

  /** With a seed, uids and name suffixes are deterministic; without, they are random. */
  constructor(private readonly seed?: number) {
    this.state = (seed ?? 0) >>> 0;
  }

  private next(): number {
    if (this.seed === undefined) return Math.random();
    // mulberry32
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  suffix(length = 5): string {
    let s = '';
    for (let i = 0; i < length; i++) s += SUFFIX_ALPHABET[Math.floor(this.next() * SUFFIX_ALPHABET.length)];
    return s;
  }

  uid(): string {
    if (this.seed === undefined) return randomUUID();
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** metav1.Time wire format: RFC3339 with whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A nanosecond timestamp as an RFC3339 string with exactly 9 fractional digits (the kubelet's RFC3339NanoFixed). */
export function rfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const secondsPart = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${secondsPart}.${frac}Z`;
}

/**
 * Parses RFC3339 / RFC3339Nano (Go accepts fractional seconds even when the layout has none) into nanoseconds
 * since the epoch. Returns undefined when the text is not a timestamp.
 */
export function parseRfc3339Nanos(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(base) * 1_000_000n + frac;
}

/**
 * Hands out strictly increasing nanosecond timestamps near the given clock, so every log line has a distinct
 * timestamp even when many are appended within one millisecond.
 */
export class NanoClock {
  private last = 0n;

  constructor(private readonly now: () => Date) {}

  next(): bigint {
    const ms = BigInt(this.now().getTime());
    const sub = process.hrtime.bigint() % 1_000_000n;
    let ns = ms * 1_000_000n + sub;
    if (ns <= this.last) ns = this.last + 1n;
    this.last = ns;
    return ns;
  }

  /** Records an externally chosen timestamp so later automatic ones stay after it. */
  observe(ns: bigint): void {
    if (ns > this.last) this.last = ns;
  }
}
