import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { readSamlMetadata } from './saml-metadata.js';

const fixture = readFileSync(new URL('./fixtures/saml-idp-metadata.xml', import.meta.url), 'utf8');

function refusal(xml: string): string {
  try {
    readSamlMetadata(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid_input');
    return (error as DomainError).message;
  }
  throw new Error('expected a refusal');
}

describe('readSamlMetadata', () => {
  it('reads entity id, the preferred SSO endpoint and the signing certificate with its expiry', () => {
    const metadata = readSamlMetadata(fixture);
    expect(metadata.entityId).toBe('https://idp.example.test/realms/acme');
    expect(metadata.ssoUrl).toBe('https://idp.example.test/realms/acme/protocol/saml?binding=redirect&x=1');
    expect(metadata.ssoBinding).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect');
    const certificate = new X509Certificate(metadata.signingCertificate!.pem);
    expect(metadata.signingCertificate).toMatchObject({
      subject: 'CN=idp.example.test',
      validTo: new Date(certificate.validTo).toISOString(),
      fingerprint256: certificate.fingerprint256,
    });
  });

  it('refuses DOCTYPE and entity declarations (XXE, billion laughs)', () => {
    const evil = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EntityDescriptor entityID="&a;"/>`;
    expect(refusal(evil)).toBe('SAML metadata: DOCTYPE and entity declarations are not accepted');
  });

  it('names what is missing or malformed', () => {
    expect(refusal('<foo/>')).toBe('SAML metadata: no EntityDescriptor element');
    expect(refusal('<EntityDescriptor/>')).toBe('SAML metadata: EntityDescriptor has no entityID');
    expect(refusal('<EntityDescriptor entityID="x"><SPSSODescriptor/></EntityDescriptor>')).toBe('SAML metadata: no IDPSSODescriptor: this is not identity provider metadata');
    expect(refusal('<EntityDescriptor entityID="x"><IDPSSODescriptor></EntityDescriptor>')).toMatch(/^SAML metadata: unexpected closing tag EntityDescriptor/);
    expect(refusal('<EntityDescriptor entityID="x"><IDPSSODescriptor><KeyDescriptor><X509Certificate>bm9wZQ==</X509Certificate></KeyDescriptor></IDPSSODescriptor></EntityDescriptor>')).toBe(
      'SAML metadata: the signing certificate cannot be read',
    );
    expect(refusal('x'.repeat(1024 * 1024 + 1))).toBe('SAML metadata: larger than 1 MB');
  });

  it('accepts metadata without a signing key (certificate null)', () => {
    expect(readSamlMetadata('<EntityDescriptor entityID="urn:x"><IDPSSODescriptor/></EntityDescriptor>')).toEqual({ entityId: 'urn:x', ssoUrl: null, ssoBinding: null, signingCertificate: null });
  });
});
