/**
 * Where the real kubectl is: the first executable `kubectl` on PATH (CI runners install it under
 * /usr/local/bin, Debian under /usr/bin), or KUBECTL when set.
 *
 * Tests that use kubectl as the referee skip without it on a developer's machine, but never in CI:
 * `.ci/run` sets SLEAP_ROOTS_REQUIRE_KUBECTL=1, and then a missing kubectl is an error at load.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function findOnPath(name: string, pathValue: string): string | undefined {
  for (const dir of pathValue.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The kubectl binary to run, or undefined when there is none (tests then skip). */
export const KUBECTL: string | undefined = process.env.KUBECTL || findOnPath('kubectl', process.env.PATH ?? '');

if (!KUBECTL && process.env.SLEAP_ROOTS_REQUIRE_KUBECTL === '1') {
  throw new Error('kubectl is not on PATH, and SLEAP_ROOTS_REQUIRE_KUBECTL=1 says the kubectl tests must run: install kubectl (e.g. under /usr/local/bin)');
}

/** kubectl, for code inside a `describe.skipIf(!KUBECTL)` block. */
export function kubectlPath(): string {
  if (!KUBECTL) throw new Error('kubectl is not on PATH');
  return KUBECTL;
}
