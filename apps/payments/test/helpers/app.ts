import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Teardown } from '@moolah/test-utils'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'

/** A private data directory for an embedded (PGlite) instance, removed at teardown. */
export async function tempDataDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'moolah-payments-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A config as the service would read it from `env`, with a fixed admin token. */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({ ADMIN_TOKEN, LOG_LEVEL: 'silent', ...env })
}

/** Builds an instance, readies it and closes it at teardown. */
export async function startApp(t: Teardown, env: Record<string, string | undefined>): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(env), { logger: false })
  t.teardown(() => app.close())
  await app.ready()
  return app
}
