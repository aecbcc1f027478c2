import type { Config } from './config.js'

/** Embedded mode is for trying the service: say what it runs on and how to talk to it. */
export function welcomeText(config: Config, address: string): string {
  const stores = config.redisUrl === undefined ? 'in-process (single instance only)' : `Redis at ${config.redisUrl}`
  const tokenNote = config.adminTokenGenerated ? '   (generated for this run; set ADMIN_TOKEN to choose one)' : ''
  return [
    '',
    `Moolah payments is running at ${address} (embedded mode)`,
    `  database: PGlite under ${config.dataDir}/pglite · stores: ${stores}`,
    `  admin token: ${config.adminToken}${tokenNote}`,
    '',
    'Try it:',
    `  curl ${address}/health/ready`,
    `  open ${address}/docs`,
    ''
  ].join('\n')
}
