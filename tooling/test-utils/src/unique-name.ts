import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'

/**
 * A name unique to this test run and recognisable by a human scanning Redis or `\l`:
 * the test file's base name, the pid and random bytes.
 */
export function uniqueName(separator: string): string {
  const script = basename(String(process.argv[1]))
    .replace(/\.[cm]?[jt]s$/, '')
    .replace(/[^a-zA-Z0-9]+/g, '_')
  return [script, process.pid, randomBytes(4).toString('hex')].join(separator).toLowerCase()
}
