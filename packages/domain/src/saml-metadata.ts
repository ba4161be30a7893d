import { X509Certificate } from 'node:crypto';
import { DomainError } from './errors.js';

// Reading SAML 2.0 metadata (SAML V2.0 Metadata, OASIS saml-metadata-2.0-os §2.3-2.4) without a general XML
// parser: we need three values (entityID, an SSO endpoint, the signing certificate), and a small reader that
// refuses DOCTYPE and entity declarations outright cannot be turned against us (XXE, "billion laughs").
// Namespace prefixes vary between IdPs (md:, saml2:, none), so elements are matched by local name.

export interface SamlMetadata {
  entityId: string;
  ssoUrl: string | null;
  ssoBinding: string | null;
  signingCertificate: {
    /** PEM of the first signing certificate. Public material: safe to store and show. */
    pem: string;
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    fingerprint256: string;
  } | null;
}

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const MAX_METADATA_BYTES = 1024 * 1024;
const TAG = /<(\/?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function decodeEntities(text: string): string {
  return text.replace(/&(?:#x([0-9a-fA-F]+)|#(\d+)|(lt|gt|amp|quot|apos));/g, (_match, hex: string, dec: string, named: string) => {
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    if (dec) return String.fromCodePoint(parseInt(dec, 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[named] ?? '';
  });
}

function invalid(message: string): DomainError {
  return DomainError.invalidInput(`SAML metadata: ${message}`, 'metadataXml');
}

/** Parses the element tree; exported for tests. Throws `invalid_input` on anything it does not understand. */
export function parseXml(xml: string): XmlElement {
  if (Buffer.byteLength(xml, 'utf8') > MAX_METADATA_BYTES) throw invalid('larger than 1 MB');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw invalid('DOCTYPE and entity declarations are not accepted');
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let position = 0;
  while (position < xml.length) {
    const next = xml.indexOf('<', position);
    const current = stack[stack.length - 1]!;
    if (next === -1) {
      current.text += decodeEntities(xml.slice(position));
      break;
    }
    current.text += decodeEntities(xml.slice(position, next));
    if (xml.startsWith('<?', next)) {
      const end = xml.indexOf('?>', next);
      if (end === -1) throw invalid('unterminated processing instruction');
      position = end + 2;
      continue;
    }
    if (xml.startsWith('<!--', next)) {
      const end = xml.indexOf('-->', next);
      if (end === -1) throw invalid('unterminated comment');
      position = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', next)) {
      const end = xml.indexOf(']]>', next);
      if (end === -1) throw invalid('unterminated CDATA section');
      current.text += xml.slice(next + 9, end);
      position = end + 3;
      continue;
    }
    TAG.lastIndex = next;
    const match = TAG.exec(xml);
    if (!match) throw invalid(`malformed markup at offset ${next}`);
    const [whole, closing, , localName, rawAttributes, selfClosing] = match;
    position = next + whole.length;
    if (closing) {
      if (stack.length === 1 || current.name !== localName) throw invalid(`unexpected closing tag ${localName} at offset ${next}`);
      stack.pop();
      continue;
    }
    const element: XmlElement = { name: localName!, attributes: {}, children: [], text: '' };
    for (const attribute of (rawAttributes ?? '').matchAll(ATTRIBUTE)) {
      const name = attribute[1]!;
      element.attributes[name.includes(':') && !name.startsWith('xmlns') ? name.slice(name.indexOf(':') + 1) : name] = decodeEntities(attribute[2] ?? attribute[3] ?? '');
    }
    current.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw invalid(`element ${stack[stack.length - 1]!.name} is not closed`);
  return root;
}

function find(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of element.children) {
    if (child.name === name) return child;
    const deeper = find(child, name);
    if (deeper) return deeper;
  }
  return undefined;
}

// HTTP-Redirect is what a browser-based sign-in uses first; HTTP-POST next (SAML bindings §3.4, §3.5).
const BINDING_PREFERENCE = ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'];

export function readSamlMetadata(xml: string): SamlMetadata {
  const document = parseXml(xml);
  const entity = find(document, 'EntityDescriptor');
  if (!entity) throw invalid('no EntityDescriptor element');
  const entityId = entity.attributes.entityID?.trim();
  if (!entityId) throw invalid('EntityDescriptor has no entityID');
  const idp = find(entity, 'IDPSSODescriptor');
  if (!idp) throw invalid('no IDPSSODescriptor: this is not identity provider metadata');

  const services = idp.children.filter((child) => child.name === 'SingleSignOnService' && child.attributes.Location);
  services.sort((a, b) => rank(a.attributes.Binding) - rank(b.attributes.Binding));
  const sso = services[0];

  // KeyDescriptor without `use` serves both signing and encryption (saml-metadata §2.4.1.1).
  const keyDescriptor = idp.children.find((child) => child.name === 'KeyDescriptor' && (child.attributes.use ?? 'signing') === 'signing');
  let signingCertificate: SamlMetadata['signingCertificate'] = null;
  if (keyDescriptor) {
    const base64 = find(keyDescriptor, 'X509Certificate')?.text.replace(/\s+/g, '');
    if (!base64) throw invalid('the signing KeyDescriptor has no X509Certificate');
    const pem = `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch (error) {
      throw new DomainError('invalid_input', 'SAML metadata: the signing certificate cannot be read', { field: 'metadataXml' }, { cause: error });
    }
    signingCertificate = {
      pem,
      subject: certificate.subject,
      issuer: certificate.issuer,
      validFrom: new Date(certificate.validFrom).toISOString(),
      validTo: new Date(certificate.validTo).toISOString(),
      fingerprint256: certificate.fingerprint256,
    };
  }
  return {
    entityId,
    ssoUrl: sso?.attributes.Location ?? null,
    ssoBinding: sso?.attributes.Binding ?? null,
    signingCertificate,
  };
}

function rank(binding: string | undefined): number {
  const index = BINDING_PREFERENCE.indexOf(binding ?? '');
  return index === -1 ? BINDING_PREFERENCE.length : index;
}
