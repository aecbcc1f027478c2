import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Teardown } from '@moolah/test-utils'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

export const ADMIN_TOKEN = '5c462c38900353951bc2f496e0724d6d2f1fd9855b816bf5c75be3b7216149ad'

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
export async function startApp(
  t: Teardown,
  env: Record<string, string | undefined>,
  options: Omit<BuildOptions, 'logger'> = {}
): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(env), { logger: false, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return app
}
