// Child processes of the benchmark: started, watched, their warnings tallied, and stopped,
// also when the benchmark itself is interrupted.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'

const running = new Set<ChildProcess>()
// Last resort when the orchestrator exits without its clean-up (a crash): no child outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal'
}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly process: ChildProcess
  /** Log lines at warn or above (or any non-JSON line on stdout/stderr), by level and message. */
  readonly logTally: Map<string, number>
  /** Whether the process has exited. */
  exited(): boolean
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  env: Record<string, string>
  cwd: string
  /** Called with each stdout line instead of tallying it (the load generator's protocol). */
  onStdoutLine?: (line: string) => void
  /** Print the first occurrence of each tallied message on stderr, prefixed with the name. */
  echo?: (line: string) => void
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] })
  /* c8 ignore next -- spawn reports a missing binary through 'error', after pid is set or not */
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  running.add(child)
  let gone = false
  const exit = once(child, 'exit').then(() => {
    gone = true
    running.delete(child)
  })
  child.on('error', () => {})
  child.stdin?.on('error', () => {}) // a child that died before reading its stdin

  const logTally = new Map<string, number>()
  const tally = (line: string) => {
    if (line.trim() === '') return
    let key = line.slice(0, 200)
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } }
      if (typeof entry.level === 'number') {
        if (entry.level < 40) return
        key =
          `${PINO_LEVELS[entry.level] ?? entry.level}: ${entry.msg ?? ''}${entry.err?.message === undefined ? '' : ` (${entry.err.message})`}`.slice(
            0,
            200
          )
      }
    } catch {
      /* not a pino line: keep it as it is */
    }
    const seen = logTally.get(key) ?? 0
    logTally.set(key, seen + 1)
    if (seen === 0) options.echo?.(`${name}: ${key}`)
  }
  createInterface({ input: child.stdout }).on('line', options.onStdoutLine ?? tally)
  createInterface({ input: child.stderr }).on('line', tally)

  return {
    name,
    pid: child.pid,
    process: child,
    logTally,
    exited: () => gone,
    async stop(graceMs = 10_000) {
      if (gone) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exit
      clearTimeout(timer)
    }
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; fails if `child` exits first. */
export async function waitForPort(child: Child, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exited())
      throw new Error(
        `${child.name} exited before listening on port ${port}: ${[...child.logTally.keys()].slice(-5).join(' | ')}`
      )
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await sleep(50)
  }
  throw new Error(`${child.name} did not listen on port ${port} within ${timeoutMs} ms`)
}
