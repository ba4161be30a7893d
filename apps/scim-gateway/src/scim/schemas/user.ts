import { attribute, multiValued } from './define.js';
import type { SchemaDefinition } from './types.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// RFC 7643 §4.1 and §8.7.1.
export const userSchema: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attribute('userName', 'string', 'Unique identifier for the User, typically used by the user to directly authenticate to the service provider.', { required: true, uniqueness: 'server' }),
    attribute('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        attribute('formatted', 'string', "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
        attribute('familyName', 'string', 'The family name of the User, or last name in most Western languages.'),
        attribute('givenName', 'string', 'The given name of the User, or first name in most Western languages.'),
        attribute('middleName', 'string', 'The middle name(s) of the User.'),
        attribute('honorificPrefix', 'string', "The honorific prefix(es) of the User, or title in most Western languages."),
        attribute('honorificSuffix', 'string', 'The honorific suffix(es) of the User, or suffix in most Western languages.'),
      ],
    }),
    attribute('displayName', 'string', 'The name of the User, suitable for display to end-users.'),
    attribute('nickName', 'string', 'The casual way to address the user in real life.'),
    attribute('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", { referenceTypes: ['external'] }),
    attribute('title', 'string', "The user's title, such as \"Vice President\"."),
    attribute('userType', 'string', 'Used to identify the relationship between the organization and the user.'),
    attribute('preferredLanguage', 'string', "Indicates the User's preferred written or spoken language."),
    attribute('locale', 'string', "Used to indicate the User's default location for purposes of localizing items."),
    attribute('timezone', 'string', "The User's time zone in the 'Olson' time zone database format."),
    attribute('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    attribute('password', 'string', "The User's cleartext password. Accepted and discarded: Roster never stores passwords.", { mutability: 'writeOnly', returned: 'never', caseExact: true }),
    multiValued('emails', 'Email addresses for the user.', { types: ['work', 'home', 'other'] }),
    multiValued('phoneNumbers', 'Phone numbers for the User.', { types: ['work', 'home', 'mobile', 'fax', 'pager', 'other'] }),
    multiValued('ims', 'Instant messaging addresses for the User.', { types: ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'] }),
    multiValued('photos', 'URLs of photos of the User.', { valueType: 'reference', types: ['photo', 'thumbnail'], caseExactValue: true }),
    attribute('addresses', 'complex', 'A physical mailing address for this User.', {
      multiValued: true,
      subAttributes: [
        attribute('formatted', 'string', 'The full mailing address, formatted for display or use with a mailing label.'),
        attribute('streetAddress', 'string', 'The full street address component.'),
        attribute('locality', 'string', 'The city or locality component.'),
        attribute('region', 'string', 'The state or region component.'),
        attribute('postalCode', 'string', 'The zip code or postal code component.'),
        attribute('country', 'string', 'The country name component.'),
        attribute('type', 'string', "A label indicating the attribute's function.", { canonicalValues: ['work', 'home', 'other'] }),
        attribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred attribute value."),
      ],
    }),
    multiValued('groups', 'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.', {
      mutability: 'readOnly',
      types: ['direct', 'indirect'],
      referenceTypes: ['Group'],
    }),
    multiValued('entitlements', 'A list of entitlements for the User that represent a thing the User has.'),
    multiValued('roles', "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'."),
    multiValued('x509Certificates', 'A list of certificates issued to the User.', { valueType: 'binary', caseExactValue: true }),
  ],
};

// RFC 7643 §4.3.
export const enterpriseUserSchema: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attribute('employeeNumber', 'string', 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.'),
    attribute('costCenter', 'string', 'Identifies the name of a cost center.'),
    attribute('organization', 'string', 'Identifies the name of an organization.'),
    attribute('division', 'string', 'Identifies the name of a division.'),
    attribute('department', 'string', 'Identifies the name of a department.'),
    attribute('manager', 'complex', "The User's manager.", {
      subAttributes: [
        attribute('value', 'string', 'The id of the SCIM resource representing the User\'s manager.'),
        attribute('$ref', 'reference', "The URI of the SCIM resource representing the User's manager.", { referenceTypes: ['User'], caseExact: true }),
        attribute('displayName', 'string', "The displayName of the User's manager.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};
