// `tsx --conditions=source src/write-admin-openapi.ts FILE`: writes the admin API's OpenAPI 3.1 document to
// FILE (the admin app generates its API types from it at build time).
import fs from 'node:fs';
import path from 'node:path';
import { adminOpenApiDocument } from './admin-api/openapi-document.js';

const target = process.argv[2];
if (!target) {
  console.error('usage: write-admin-openapi.ts FILE');
  process.exit(2);
}
fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
fs.writeFileSync(target, `${JSON.stringify(adminOpenApiDocument(), null, 2)}\n`);
