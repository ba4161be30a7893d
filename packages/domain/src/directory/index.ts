export * from './types.js';
export { isUuid } from './rows.js';
export { userRepository, type DocumentShape, type UserDocument } from './users.js';
export { groupRepository } from './groups.js';
export { providerLinkRepository, maintainLinks } from './links.js';
export { createDirectoryReader, type DirectoryReader, type SignInMatch } from './reader.js';
export { insertUsersSkippingTaken, insertProviderLinks, type NewUser } from './users-bulk.js';
