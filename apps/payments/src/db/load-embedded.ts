import { ConfigError } from '../config.js'
import type * as Embedded from './embedded.js'

const PGLITE = '@electric-sql/pglite'

/**
 * Imports the embedded database's module. PGlite is a development dependency that production
 * installs leave out, so its absence is a configuration problem, said as one: not a loader's stack.
 * `importEmbedded` is the import itself, given by the tests to load a module whose PGlite is missing.
 */
export async function loadEmbedded(
  importEmbedded: () => Promise<typeof Embedded> = () => import('./embedded.js')
): Promise<typeof Embedded> {
  try {
    return await importEmbedded()
  } catch (err) {
    if (!isMissingPglite(err)) throw err
    throw new ConfigError([
      `DATABASE_URL is not set and ${PGLITE} (the embedded database) is not installed: set DATABASE_URL ` +
        `to a Postgres URL, or install ${PGLITE} (a development install of the repository has it; ` +
        'production installs leave it out)'
    ])
  }
}

/**
 * Node's loader says "Cannot find package '<name>' imported from <file>". The message, not the
 * code: a TypeScript loader (the tests') hands the error on without its ERR_MODULE_NOT_FOUND.
 */
function isMissingPglite(err: unknown): boolean {
  return err instanceof Error && err.message.includes(`Cannot find package '${PGLITE}'`)
}
