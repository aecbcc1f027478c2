import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Teardown } from '@moolah/test-utils'
import t from 'tap'
import { ConfigError } from '../src/config.js'
import { loadEmbedded } from '../src/db/load-embedded.js'
import { tempDataDir } from './helpers/app.js'

// An installation without PGlite, as production's: a module outside the repository (no
// node_modules above it has PGlite) importing it, loaded through loadEmbedded's seam, so the
// error is Node's own.

/** Imports a module that imports `specifier` from a directory where nothing is installed. */
async function importerOf(t: Teardown, specifier: string) {
  const file = join(await tempDataDir(t), 'embedded.mjs')
  await writeFile(file, `import '${specifier}'\n`)
  return () => import(pathToFileURL(file).href)
}

t.test('PGlite missing: a ConfigError saying to set DATABASE_URL or install it', async (t) => {
  const error = await loadEmbedded(await importerOf(t, '@electric-sql/pglite')).catch((err: unknown) => err)
  t.type(error, ConfigError)
  t.equal(
    (error as Error).message,
    'Invalid configuration:\n' +
      '  - DATABASE_URL is not set and @electric-sql/pglite (the embedded database) is not installed: ' +
      'set DATABASE_URL to a Postgres URL, or install @electric-sql/pglite (a development install of the ' +
      'repository has it; production installs leave it out)'
  )
})

t.test('any other missing module keeps its own error', async (t) => {
  // A package whose name starts like PGlite's is not PGlite.
  const error = await loadEmbedded(await importerOf(t, '@electric-sql/pglite-tools')).catch(
    (err: unknown) => err
  )
  t.notOk(error instanceof ConfigError)
  t.match(error, { message: /^Cannot find package '@electric-sql\/pglite-tools' imported from / })
})

t.test('installed (the repository): the embedded module itself', async (t) => {
  const embedded = await loadEmbedded()
  t.type(embedded.openEmbedded, 'function')
})
