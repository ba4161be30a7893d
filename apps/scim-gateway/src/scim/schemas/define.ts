import type { AttributeDefinition, AttributeType } from './types.js';

type Options = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>;

// Defaults follow RFC 7643 §2.2: not required, not multi-valued, readWrite, returned by default, not unique,
// caseExact false.
export function attribute(name: string, type: AttributeType, description: string, options: Options = {}): AttributeDefinition {
  const definition: AttributeDefinition = {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
  if (type === 'complex' && !definition.subAttributes) definition.subAttributes = [];
  return definition;
}

/** The sub-attributes RFC 7643 §2.4 gives a multi-valued attribute: type, primary, display, value, $ref. */
export function multiValued(
  name: string,
  description: string,
  options: { valueType?: AttributeType; types?: string[]; referenceTypes?: string[]; mutability?: AttributeDefinition['mutability']; extra?: AttributeDefinition[]; caseExactValue?: boolean } = {},
): AttributeDefinition {
  const subAttributes: AttributeDefinition[] = [
    attribute('value', options.valueType ?? 'string', `The value of ${name}.`, {
      caseExact: options.caseExactValue ?? false,
      mutability: options.mutability ?? 'readWrite',
      // RFC 7643 §7: every reference attribute names its referenceTypes; photos.value is an external URL (§8.7.1).
      ...(options.valueType === 'reference' ? { referenceTypes: ['external'] } : {}),
    }),
    attribute('display', 'string', 'A human-readable name, primarily used for display purposes.', { mutability: options.mutability ?? 'readWrite' }),
    attribute('type', 'string', `A label indicating the ${name}'s function.`, {
      mutability: options.mutability ?? 'readWrite',
      ...(options.types ? { canonicalValues: options.types } : {}),
    }),
    attribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred attribute value.", { mutability: options.mutability ?? 'readWrite' }),
    ...(options.extra ?? []),
  ];
  if (options.referenceTypes) {
    subAttributes.push(attribute('$ref', 'reference', 'The URI of the referenced resource.', { referenceTypes: options.referenceTypes, mutability: options.mutability ?? 'readWrite', caseExact: true }));
  }
  return attribute(name, 'complex', description, { multiValued: true, subAttributes, ...(options.mutability ? { mutability: options.mutability } : {}) });
}
