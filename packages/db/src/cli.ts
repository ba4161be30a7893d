import { createDatabase, migrateLatest } from './index.js';

// `pnpm db:migrate`: applies pending migrations to DATABASE_URL or the embedded data directory.
const command = process.argv[2];
if (command !== 'migrate') {
  console.error('usage: cli.js migrate');
  process.exit(2);
}
const database = await createDatabase({
  url: process.env.DATABASE_URL || undefined,
  dataDir: process.env.ROSTER_DATA_DIR || '.roster-data',
});
try {
  const applied = await migrateLatest(database.knex);
  console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
} finally {
  await database.close();
}
