/**
 * How a step finds the pipeline it belongs to: the nearest enclosing construct that hosts steps.
 * A symbol instead of an import keeps the step and the pipeline modules free of a cycle.
 */
import type { IConstruct } from 'constructs';

const HOST = Symbol.for('sleap-roots-pipeline.StepHost');

/** A construct that steps register with (the pipeline chart). */
export interface StepHost<T> {
  /** Adds a step; throws when the host was already synthesized. */
  addStep(step: T): void;
  /** Plans, renders and wires every step (once). */
  wire(): void;
}

/** Marks `host` as the construct its descendants' steps register with. */
export function markStepHost<T>(host: IConstruct & StepHost<T>): void {
  Object.defineProperty(host, HOST, { value: true });
}

/** The nearest enclosing step host of `c`, or undefined. */
export function findStepHost<T>(c: IConstruct): StepHost<T> | undefined {
  const scopes = c.node.scopes;
  for (let i = scopes.length - 2; i >= 0; i--) {
    const s = scopes[i] as IConstruct & Partial<Record<typeof HOST, boolean>>;
    if (s[HOST]) return s as unknown as StepHost<T>;
  }
  return undefined;
}
