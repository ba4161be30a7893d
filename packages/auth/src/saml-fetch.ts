import { DomainError, type FetchSamlMetadata } from '@roster/domain';
import { OutboundError, fetchOutbound, outboundPolicy, type OutboundPolicy } from './outbound-fetch.js';

// Fetching SAML metadata from the URL an admin typed: https only on every hop (unless insecure issuers are
// allowed for development), never to loopback or link-local addresses, redirects followed by hand and checked
// again (outbound-fetch.ts), bounded in time and size, no cookies. The body is read as text for the small
// reader in @roster/domain (which refuses DOCTYPE/entities). What went wrong on the network is logged; the
// admin reads a generic reason (issue 20, item 9).

const MAX_BYTES = 1024 * 1024;

/** Where the precise reason of a failed fetch goes (the gateway's logger). */
export interface OutboundLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export function createSamlMetadataFetcher(options: { allowInsecure: boolean; timeoutMs?: number; log?: OutboundLog; policy?: OutboundPolicy }): FetchSamlMetadata {
  const policy = options.policy ?? outboundPolicy(options.allowInsecure);
  return async (url) => {
    const parsed = URL.parse(url);
    if (!parsed || (parsed.protocol !== 'https:' && !(!policy.requireHttps && parsed.protocol === 'http:'))) {
      throw DomainError.invalidInput('metadataUrl must be an https:// URL', 'metadataUrl');
    }
    let response;
    try {
      response = await fetchOutbound(
        parsed,
        { timeoutMs: options.timeoutMs ?? 10_000, maxBytes: MAX_BYTES, headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } },
        policy,
      );
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      options.log?.warn({ url: parsed.origin, reason: error.detail }, 'SAML metadata fetch failed');
      const reason = error.publicReason === 'the response is too large' ? 'larger than 1 MB' : error.publicReason;
      throw new DomainError('invalid_input', `could not fetch metadata: ${reason}`, { field: 'metadataUrl' }, { cause: error });
    }
    if (response.status < 200 || response.status >= 300) throw DomainError.invalidInput(`could not fetch metadata: the URL answered HTTP ${response.status}`, 'metadataUrl');
    return new TextDecoder('utf-8').decode(response.body);
  };
}
