export * from './types.js';
export { isUuid, canonicalId } from './rows.js';
export { userRepository, type DocumentShape, type UserDocument } from './users.js';
export { groupRepository } from './groups.js';

export * from './changes-of.js';
export { type AtOnceRecord } from './groups.js';
export { providerLinkRepository, maintainLinks } from './links.js';
export { createDirectoryReader, type DirectoryReader, type SignInMatch } from './reader.js';
export { insertUsersSkippingTaken, insertProviderLinks, type NewUser } from './users-bulk.js';
export * from './extensions.js';
export { createDirectoryService, userDeletionRefusal, type DirectoryActor, type DirectoryService, type DirectoryServiceDeps, type DirectoryTransaction, type GroupChangeSet, type GroupInput, type MemberChangeSet, type MemberErrorDetails, type Precondition, type UserInput } from './service.js';
