// The PATCH engine (RFC 7644 §3.5.2): parse and validate the whole message, then apply it in memory.
export { PATCH_LIMITS, PATCH_OP_SCHEMA, parsePatchRequest, type PatchOpName, type PatchOperation } from './parse.js';
export { applyGroupPatch, applyUserPatch, type GroupPatchResult, type UserPatchResult } from './apply.js';
export { addsOrRemovesListedMembers, memberChangesOf, type MemberChanges } from './members.js';
export type { MemberRef } from '../resource/normalize.js';
