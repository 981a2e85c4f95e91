/**
 * Runs a synthesized step template the way its pod would run it, on this machine: the template's
 * own command, arguments and environment, with Argo's variables substituted and every volume
 * mount path pointed at a folder here (as the kubelet binds volumes), under a chosen shell
 * (/bin/sh is dash here; busybox sh is what the utility image has). Stopping a pod sends SIGTERM
 * to its whole process group, as Argo's emissary forwards signals (workflow/executor/osspecific/
 * signal_linux.go), then SIGKILL after a grace period, as the kubelet does.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The shells the scripts must run under. */
export const SHELLS: readonly (readonly string[])[] = [['/bin/sh'], ['busybox', 'sh']];

/** A template as synthesized (the parts a pod is made of). */
export interface PodTemplate {
  readonly name: string;
  readonly container: {
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    readonly env?: readonly { readonly name: string; readonly value?: string }[];
    readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly subPath?: string }[];
  };
}

/** How to run one pod. */
export interface PodRun {
  /** Host folder of each volume. */
  readonly volumes: Readonly<Record<string, string>>;
  /** `{{workflow.name}}`, `{{workflow.status}}`, `{{workflow.parameters.X}}`, `{{inputs.parameters.X}}`. */
  readonly variables: Readonly<Record<string, string>>;
  /** The shell that runs `/bin/sh` of the template. */
  readonly shell: readonly string[];
  /** Where the termination message goes (the kubelet's /dev/termination-log). */
  readonly messageFile: string;
  /** Stop the pod (SIGTERM to its group) as soon as this file exists. */
  readonly stopWhenExists?: string;
  /** A folder put before PATH (stand-ins for the image's tools). @default - none */
  readonly pathPrefix?: string;
}

/** How a pod ended. */
export interface PodResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The termination message, '' when none was written. */
  readonly message: string;
  /** True when the pod was stopped from outside. */
  readonly stopped: boolean;
}

function substitute(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (m, name: string) => variables[name] ?? m);
}

/** Points every mount path in `text` (whole path words) at its host folder. */
function remap(text: string, mounts: readonly [string, string][]): string {
  let out = text;
  for (const [mountPath, host] of mounts) {
    const escaped = mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(^|\\s)${escaped}(?=/|\\s|$)`, 'g'), (_m, pre: string) => `${pre}${host}`);
  }
  return out;
}

/** Runs a template's pod to its end. */
export function runPod(template: PodTemplate, run: PodRun): Promise<PodResult> {
  const c = template.container;
  const mounts: [string, string][] = (c.volumeMounts ?? [])
    .map((m): [string, string] => {
      const host = run.volumes[m.name];
      if (!host) throw new Error(`no host folder for volume ${m.name}`);
      return [m.mountPath, m.subPath ? path.join(host, substitute(m.subPath, run.variables)) : host];
    })
    .sort((a, b) => b[0].length - a[0].length);
  const fix = (s: string) => remap(substitute(s, run.variables), mounts);
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map(fix);
  if (argv[0] === '/bin/sh') argv.splice(0, 1, ...run.shell);
  const basePath = process.env.PATH ?? '/usr/bin:/bin';
  const env: Record<string, string> = { PATH: run.pathPrefix ? `${run.pathPrefix}:${basePath}` : basePath, SLEAP_ROOTS_MESSAGE_FILE: run.messageFile };
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = fix(e.value);
  fs.rmSync(run.messageFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const timers: NodeJS.Timeout[] = [];
    if (run.stopWhenExists) {
      const poll = setInterval(() => {
        if (!stopped && fs.existsSync(run.stopWhenExists!)) {
          stopped = true;
          kill('SIGTERM');
          timers.push(setTimeout(() => kill('SIGKILL'), 5_000));
        }
      }, 20);
      timers.push(poll);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      const message = fs.existsSync(run.messageFile) ? fs.readFileSync(run.messageFile, 'utf8') : '';
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 143), stdout, stderr, message, stopped });
    });
  });
}
