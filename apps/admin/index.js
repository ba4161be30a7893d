// The built SPA lives in dist/; the gateway serves it under /admin.
import { fileURLToPath } from 'node:url';

export const adminDistDir = fileURLToPath(new URL('./dist/', import.meta.url));
