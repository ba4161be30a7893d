import { DomainError, type FetchSamlMetadata } from '@roster/domain';

// Fetching SAML metadata from the URL an admin typed: https only (unless insecure issuers are allowed for
// development), bounded in time and size, no cookies, and the body is read as text for the small reader in
// @roster/domain (which refuses DOCTYPE/entities).

const MAX_BYTES = 1024 * 1024;

export function createSamlMetadataFetcher(options: { allowInsecure: boolean; timeoutMs?: number }): FetchSamlMetadata {
  return async (url) => {
    const parsed = URL.parse(url);
    if (!parsed || (parsed.protocol !== 'https:' && !(options.allowInsecure && parsed.protocol === 'http:'))) {
      throw DomainError.invalidInput('metadataUrl must be an https:// URL', 'metadataUrl');
    }
    let response: Response;
    try {
      response = await fetch(parsed, { redirect: 'follow', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new DomainError('invalid_input', `SAML metadata could not be fetched from ${url}${cause}`, { field: 'metadataUrl' }, { cause: error });
    }
    if (!response.ok) throw DomainError.invalidInput(`SAML metadata URL answered HTTP ${response.status}`, 'metadataUrl');
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_BYTES) throw DomainError.invalidInput('SAML metadata is larger than 1 MB', 'metadataUrl');
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_BYTES) throw DomainError.invalidInput('SAML metadata is larger than 1 MB', 'metadataUrl');
    return new TextDecoder('utf-8').decode(body);
  };
}
