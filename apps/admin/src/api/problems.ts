import { messages } from '../messages.ts';
import { ApiError, fieldErrors } from './client.ts';

/**
 * A failed call as the admin should read it: messages in words at the fields they concern (one per field),
 * a banner only for what concerns no field, and the technical text (a network error, the server's exact
 * sentence) kept apart for a "Details" disclosure.
 */
export interface Problem {
  /** Field name -> message in words. */
  fields: Record<string, string>;
  /** For the banner, when no field is concerned. */
  message: string | null;
  /** The raw text behind the words, when it says more than they do. */
  technical: string | null;
}

// "Nobody answered there": the admin needs "could not reach", not errno names. Since the outbound-fetch
// hardening the server says only "could not fetch the discovery document: connection failed" (or "could not
// fetch metadata: ..."), hiding which of refused, filtered or timed out it was; Node's and undici's own words
// stay for servers and paths that still pass them through.
const UNREACHABLE = /connection failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|fetch failed|timed? ?out|socket hang up/i;

/** The server's lowercase sentence, as a sentence. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export function describeProblem(error: unknown, words: { conflict?: string } = {}): Problem {
  const m = messages.problems;
  if (!(error instanceof ApiError)) return { fields: {}, message: error instanceof Error ? sentence(error.message) : messages.errors.unknown, technical: null };
  if (error.code === 'network_error') {
    const cause = error.cause instanceof Error ? error.cause.message : null;
    return { fields: {}, message: error.message, technical: cause };
  }
  const details = error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
  const field = typeof details.field === 'string' ? details.field : null;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(fieldErrors(error))) fields[key] = sentence(value);
  const discovery = error.code === 'discovery_failed' || typeof details.discoveryError === 'string';
  if (discovery) {
    const target = field ?? 'issuer';
    fields[target] = UNREACHABLE.test(error.message) ? m.issuerUnreachable : m.issuerNotOidc;
    return { fields, message: null, technical: error.message };
  }
  // SAML metadata the server could not fetch: since the outbound-fetch hardening its text is only "could not
  // fetch metadata: connection failed", which says less than the words; the exact text stays for Details.
  if (field === 'metadataUrl' && /^could not fetch metadata:/i.test(error.message) && UNREACHABLE.test(error.message)) {
    fields[field] = m.metadataUnreachable;
    return { fields, message: null, technical: error.message };
  }
  if (error.code === 'conflict' && field) {
    fields[field] = words.conflict ?? sentence(error.message);
    return { fields, message: null, technical: null };
  }
  if (field && !fields[field]) fields[field] = sentence(error.message);
  if (Object.keys(fields).length > 0) return { fields, message: null, technical: null };
  return { fields, message: sentence(error.message), technical: null };
}

/** "Test discovery" failed: whatever the status, it is the issuer's problem, said in words, with the exact text kept. */
export function describeDiscoveryFailure(error: unknown): { message: string; technical: string | null } {
  // The admin app could not reach Roster itself: that is not the issuer's fault.
  if (error instanceof ApiError && error.code === 'network_error') return { message: error.message, technical: null };
  const text = error instanceof Error ? error.message : String(error);
  return { message: UNREACHABLE.test(text) ? messages.problems.issuerUnreachable : messages.problems.issuerNotOidc, technical: text };
}
