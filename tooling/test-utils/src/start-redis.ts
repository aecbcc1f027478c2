import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { redisCommand } from './redis-command.js'
import type { Teardown } from './teardown.js'
import { waitUntil } from './wait-until.js'

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '1mb']`. */
  args?: string[]
  /** A fixed port; by default a free random one. */
  port?: number
  /** A second port, this far above the first, that must be free too (Redis Cluster's bus uses port + 10000). */
  portOffset?: number
}

/** A `redis-server` owned by one test, for fault injection. It keeps nothing on disk. */
export interface ThrowawayRedis {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL, like a crash); its data is gone. */
  stop(): Promise<void>
  /** SIGSTOP: the socket stays open but nothing answers, like a hung network. */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  /** Stops the server if it runs and starts a new, empty one on the same port. */
  restart(): Promise<void>
  /** FLUSHALL: every key of every database is deleted. */
  flushAll(): Promise<void>
}

const READY_TIMEOUT_MS = 10_000
const running = new Set<ChildProcess>()
/* c8 ignore start -- runs only when a test process dies before its teardown; no redis-server may outlive it */
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})
/* c8 ignore stop */

/**
 * Starts a throwaway `redis-server` on a free port and stops it at teardown.
 * Fails with a clear message when `redis-server` is not on PATH.
 */
export async function startRedis(t: Teardown, options: StartRedisOptions = {}): Promise<ThrowawayRedis> {
  const port = options.port ?? (await freePort(options.portOffset))
  const dir = await mkdtemp(join(tmpdir(), `moolah-redis-${port}-`))
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...(options.args ?? [])
  ]
  let child: ChildProcess | undefined = await spawnRedis(args, port)

  const stop = async (): Promise<void> => {
    if (child === undefined) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
    running.delete(child)
    child = undefined
  }
  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    if (child === undefined)
      throw new Error(`test-utils: redis-server on port ${port} is stopped; cannot send ${name}`)
    child.kill(name)
  }
  t.teardown(async () => {
    await stop()
    await rm(dir, { recursive: true, force: true })
  })

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async restart() {
      await stop()
      child = await spawnRedis(args, port)
    },
    async flushAll() {
      await redisCommand(port, 2000, 'FLUSHALL')
    }
  }
}

async function spawnRedis(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (err) => reject(explainSpawnError(err)))
    child.once('exit', (code) =>
      reject(
        new Error(
          `test-utils: redis-server on port ${port} exited with code ${code} before it was ready. ${stderr}`
        )
      )
    )
  })
  running.add(child)
  try {
    await Promise.race([
      failed,
      waitUntil(
        async () => (await redisCommand(port, 500, 'PING')) === 'PONG',
        `redis-server on port ${port}`,
        READY_TIMEOUT_MS
      )
    ])
  } catch (err) {
    child.kill('SIGKILL')
    running.delete(child)
    throw err
  }
  failed.catch(() => {}) // a later exit is a test's own doing (stop/restart)
  return child
}

function explainSpawnError(err: NodeJS.ErrnoException): Error {
  /* c8 ignore next -- other spawn errors (EACCES, EMFILE) cannot be provoked portably */
  if (err.code !== 'ENOENT') return err
  return new Error(
    'test-utils: `redis-server` is not on PATH. Install Redis 7 (Debian: `apt-get install redis-server`, macOS: `brew install redis`) to run these tests.'
  )
}
