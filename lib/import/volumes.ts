/**
 * A hand-written volume (`spec.volumes[i]` of the DAG or of a step template) as an environment
 * file's volume: hostPath (type Directory unless File) or persistentVolumeClaim.
 *
 * Kubernetes, not Argo, decides what a hostPath type does: `DirectoryOrCreate` creates a missing
 * folder on the node (pipeline-facts, Run:AI rule 5); no type performs no check, and the container
 * runtime usually creates the folder then; `Directory` refuses to start the pod, which the step's
 * timeout then ends.
 */
import type { VolumeConfig } from '../config/schema';
import { asMap, type ImportContext } from './context';
import type { SourceObject } from './documents';

/** Adds volume `v` of `o` to `out`; `seen` holds each name's first definition, to refuse a second, different one. */
export function translateVolume(ctx: ImportContext, o: SourceObject, i: number, v: Record<string, unknown>, out: Record<string, VolumeConfig>, seen: Map<string, string>): void {
  const vp = ['spec', 'volumes', i];
  const name = String(v.name ?? '');
  const hostPath = asMap(v.hostPath);
  const claim = asMap(v.persistentVolumeClaim);
  let volume: VolumeConfig | undefined;
  if (hostPath) {
    const type = typeof hostPath.type === 'string' ? hostPath.type : '';
    volume = type === 'File' ? { hostPath: String(hostPath.path), type: 'File' } : { hostPath: String(hostPath.path) };
    if (type === 'DirectoryOrCreate' || type === '') {
      ctx.corrected(o, [...vp, 'hostPath', type ? 'type' : 'path'], ['volumes', name], 'hostPath type Directory',
        `hostPath ${type ? 'type DirectoryOrCreate creates the folder when it is missing' : 'without a type is not checked, and the container runtime usually creates a missing folder'}: on a node where the shared mount is absent the step writes to that node's local disk and the run "succeeds" with its output lost (pipeline-facts, Run:AI rule 5); written as type Directory (the default), so such a pod does not start, its timeout ends it, and \`sleap-roots doctor\` lists the paths every node needs`);
    } else if (type !== 'Directory' && type !== 'File') {
      ctx.cannotExpress(o, [...vp, 'hostPath', 'type'], `hostPath type ${type} is not expressible (Directory or File); written as Directory`);
    }
  } else if (claim) {
    volume = { persistentVolumeClaim: String(claim.claimName), ...(claim.readOnly === true ? { readOnly: true } : {}) };
  } else {
    const kind = Object.keys(v).filter((k) => k !== 'name').join(', ');
    ctx.cannotExpress(o, vp, `volume ${name} (${kind}): only hostPath and persistentVolumeClaim volumes are expressible (a Secret file: secretFiles); left out`);
    return;
  }
  const text = JSON.stringify(volume);
  const before = seen.get(name);
  if (before !== undefined && before !== text) ctx.fail(o, [...vp, 'name'], `volume ${name} is declared twice, differently (${before} and ${text}); expected one definition`);
  seen.set(name, text);
  out[name] = volume;
}
