/**
 * Keeps secrets (bearer tokens, basic-auth passwords) out of everything the program prints or
 * writes. Every writer the CLI owns passes its text through one {@link Redactor}.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '<redacted>';

/** Replaces every known secret in a text with {@link REDACTED}. */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Adds a secret (and its `Bearer ` form). Secrets shorter than 6 characters are ignored: too likely to match ordinary text. */
  public add(secret: string | undefined): void {
    if (!secret) return;
    const bare = secret.replace(/^Bearer\s+/i, '').trim();
    if (bare.length >= 6) this.secrets.add(bare);
  }

  /** True when no secret is registered (redaction is then the identity). */
  public get empty(): boolean {
    return this.secrets.size === 0;
  }

  /** The text with every registered secret replaced. */
  public redact(text: string): string {
    if (this.secrets.size === 0) return text;
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
}
