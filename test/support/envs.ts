/** Helpers to build, synthesize and inspect environments in tests, without touching dist/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { parseEnvironment, type LoadedEnvironment } from '../../lib/config/load';
import { ConfigError } from '../../lib/config/problems';
import { KUSTOMIZATION_FILE } from '../../lib/names';
import { synthesizeEnvironment, type SynthesizedFile } from '../../lib/synth';
import { version } from '../../package.json';

export const ROOT = path.join(__dirname, '..', '..');
/** Every environment shipped in environments/ (derived, so adding one needs no test edit). */
export const SHIPPED: readonly string[] = fs.readdirSync(path.join(ROOT, 'environments')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();

/** A shipped environment file, loaded. */
export function shipped(name: string): LoadedEnvironment {
  // Named as main.ts names it (relative), so output matches dist/ byte for byte.
  return parseEnvironment(`environments/${name}.yaml`, fs.readFileSync(path.join(ROOT, 'environments', `${name}.yaml`), 'utf8'));
}

/** A synthesized object with the file it went to. */
export interface Manifest {
  readonly file: string;
  readonly obj: any;
}

/** Synthesizes an environment and parses every object file back (not the Kustomization, which lists them). */
export function synth(env: LoadedEnvironment): { files: SynthesizedFile[]; manifests: Manifest[] } {
  const files = synthesizeEnvironment(env, { version });
  const objectFiles = files.filter((f) => path.basename(f.path) !== KUSTOMIZATION_FILE);
  return { files, manifests: objectFiles.map((f) => ({ file: f.path, obj: parseYaml(f.content) })) };
}

/** A valid Run:AI-style environment as plain data, for tests to vary. */
export function baseConfig(): Record<string, any> {
  return {
    namespace: 'runai-talmo-lab',
    scheduling: {
      scheduler: 'runai-scheduler',
      project: 'talmo-lab',
      priorityClasses: { preemptible: 'interactive-preemptible', nonPreemptible: 'high' },
    },
    volumes: {
      'models-input': { hostPath: '/nfs/models_input' },
      'models-output': { hostPath: '/nfs/models_output' },
      'images-input': { hostPath: '/nfs/images_input' },
      'predictions-output': { hostPath: '/nfs/predictions_output' },
      'traits-output': { hostPath: '/nfs/traits_output' },
    },
    steps: {
      'models-downloader': { image: 'ghcr.io/example/models-downloader:1.0.0' },
      predictor: { image: 'ghcr.io/example/sleap-roots-predict:sha-0123abc', gpu: { fraction: 0.5 }, preemptible: true },
      'trait-extractor': { image: 'ghcr.io/example/sleap-roots-traits:1.0.0', preemptible: true },
    },
  };
}

/** Parses a config object as if it were environments/<name>.yaml. */
export function envFrom(config: unknown, name = 'test'): LoadedEnvironment {
  return parseEnvironment(`environments/${name}.yaml`, stringify(config));
}

/** The problems synthesizing a config reports (throws if it synthesizes). */
export function problemsOf(config: unknown, name = 'test'): ConfigError['problems'] {
  try {
    synth(envFrom(config, name));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the configuration to be rejected, but it synthesized');
}

/** The step WorkflowTemplate's only template, by step name. */
export function stepTemplate(manifests: readonly Manifest[], step: string): any {
  const m = manifests.find((x) => x.obj.kind === 'WorkflowTemplate' && x.obj.metadata.name !== 'sleap-roots-pipeline' && x.obj.spec.templates[0].name === step);
  if (!m) throw new Error(`no template for step ${step}`);
  return m.obj.spec.templates[0];
}

/** The pipeline WorkflowTemplate. */
export function pipelineTemplate(manifests: readonly Manifest[]): any {
  return manifests.find((x) => x.obj.kind === 'WorkflowTemplate' && x.obj.metadata.name === 'sleap-roots-pipeline')!.obj;
}
