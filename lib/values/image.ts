/** Container image references: is it pinned to something immutable? */

/**
 * True when an image names a digest (`@sha256:...`) or a tag other than `latest`. A reference
 * without a tag means `:latest` to the container runtime.
 */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest';
}

/** The `sha256:<hex>` digest an image is pinned to, or undefined. */
export function digestOf(image: string): string | undefined {
  const m = /@(sha256:[0-9a-f]{64})$/.exec(image);
  return m ? m[1] : undefined;
}
