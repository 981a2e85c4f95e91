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

/*
 * The reference grammar of github.com/distribution/reference (regexp.go `referencePat`:
 * name[:tag][@digest], the name `[domain[:port]/]path`, path components lowercase), which the
 * container runtimes parse images with (`ParseNormalizedNamed`), and its length limit
 * (reference.go `NameTotalLengthMax` = 255 characters of name).
 */
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_AND_PORT = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** distribution/reference reference.go `NameTotalLengthMax`. */
export const IMAGE_NAME_MAX_LENGTH = 255;

/** Why an image reference would be refused by the container runtime, or undefined when it parses. */
export function imageReferenceProblem(image: string): string | undefined {
  const m = REFERENCE.exec(image);
  if (!m) return 'expected name[:tag][@digest] with a lowercase name of letters, digits and . _ - separated by /, after an optional registry[:port]/ (e.g. ghcr.io/org/image:1.0)';
  if (m[1].length > IMAGE_NAME_MAX_LENGTH) return `expected a name of at most ${IMAGE_NAME_MAX_LENGTH} characters; given ${m[1].length}`;
  return undefined;
}
