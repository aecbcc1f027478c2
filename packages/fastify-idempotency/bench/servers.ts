import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export interface ServerFigures {
  /** CPU time the server process has used so far, in microseconds. */
  cpuMicros: number
  /** SQL statements sent so far (Postgres candidates only). */
  statements: number
}

export interface Server {
  name: string
  /** The candidate's own key prefix, so its Redis commands can be told from everyone else's. */
  prefix: string
  port: number
  figures: () => Promise<ServerFigures>
  stop: () => Promise<void>
}

/**
 * Starts ./server.ts for one candidate (or `bare`) in a process of its own. With
 * `cpuProfileDir` the process runs under `node --cpu-prof` and writes its profile there on stop.
 */
export async function startServer(
  name: string,
  prefix: string,
  redisUrl: string,
  databaseUrl: string,
  cpuProfileDir: string | undefined
): Promise<Server> {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]
  const child = fork(
    fileURLToPath(new URL('./server.ts', import.meta.url)),
    [name, prefix, redisUrl, databaseUrl],
    { execArgv: [...profile, '--import', 'tsx'] }
  )
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error(`${name}: the server process exited before listening`)
    })
  ])) as [{ port: number }]
  return {
    name,
    prefix,
    port: message.port,
    async figures() {
      child.send('figures')
      const [reply] = (await once(child, 'message')) as [ServerFigures]
      return reply
    },
    async stop() {
      const exited = once(child, 'exit')
      child.send('stop')
      await exited
    }
  }
}
