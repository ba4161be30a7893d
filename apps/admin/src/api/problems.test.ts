import { describe, expect, it } from 'vitest';
import { messages } from '../messages.ts';
import { ApiError } from './client.ts';
import { describeDiscoveryFailure, describeProblem } from './problems.ts';

// Since the outbound-fetch hardening the server says only "connection failed" for an address it could not
// reach (which of refused, filtered or timed out is for its log): the admin still reads it in words.
describe('problems in words', () => {
  it('a discovery that could not connect reads as an unreachable issuer, the exact text kept', () => {
    const text = 'OpenID Connect discovery for https://idp.example failed: could not fetch the discovery document: connection failed';
    expect(describeProblem(new ApiError(400, 'discovery_failed', text, { field: 'issuer' }))).toEqual({
      fields: { issuer: messages.problems.issuerUnreachable },
      message: null,
      technical: text,
    });
    expect(describeDiscoveryFailure(new ApiError(400, 'discovery_failed', text))).toEqual({ message: messages.problems.issuerUnreachable, technical: text });
  });

  it('a discovery that answered but not as an issuer still says so', () => {
    const text = 'OpenID Connect discovery for https://idp.example failed: unexpected HTTP response status code (HTTP 404)';
    expect(describeDiscoveryFailure(new ApiError(400, 'discovery_failed', text)).message).toBe(messages.problems.issuerNotOidc);
  });

  it('SAML metadata that could not be fetched reads in words under its field; other metadata refusals keep their sentence', () => {
    const text = 'could not fetch metadata: connection failed';
    expect(describeProblem(new ApiError(400, 'invalid_input', text, { field: 'metadataUrl' }))).toEqual({
      fields: { metadataUrl: messages.problems.metadataUnreachable },
      message: null,
      technical: text,
    });
    expect(describeProblem(new ApiError(400, 'invalid_input', 'could not fetch metadata: the URL answered HTTP 404', { field: 'metadataUrl' })).fields).toEqual({
      metadataUrl: 'Could not fetch metadata: the URL answered HTTP 404.',
    });
  });
});
