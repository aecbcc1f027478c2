import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, rmSync } from 'node:fs'
import { chown, mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { freePort } from './free-port.js'
import type { Teardown } from './teardown.js'
import { waitUntil } from './wait-until.js'

const execFileAsync = promisify(execFile)

export interface StartPostgresOptions {
  /** Extra `postgres` server arguments, e.g. `['-c', 'max_connections=20']`. */
  args?: string[]
  /** A fixed port; by default a free random one. */
  port?: number
}

/**
 * A `postgres` server owned by one test, for fault injection: its own data directory in a
 * temp dir, superuser `postgres`, trust authentication, fsync off.
 */
export interface ThrowawayPostgres {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string
  /** The data directory; it outlives `stop()` and goes at `close()`. */
  readonly dataDir: string
  /** The server's log (its stderr), appended to across restarts. */
  readonly logFile: string
  /**
   * Kills the server like a crash: SIGKILL to the postmaster and to every backend and
   * auxiliary process (they are not in its process group, so each is killed by pid).
   * Connections drop without a goodbye; committed data stays in the data directory.
   */
  stop(): Promise<void>
  /** SIGSTOP to the postmaster and its processes: connections stay open, nothing answers, new ones hang. */
  pause(): Promise<void>
  /** SIGCONT after `pause()`. */
  resume(): Promise<void>
  /** Stops the server if it runs and starts it again on the same port and data directory (crash recovery included). */
  restart(): Promise<void>
  /** Stops the server and removes its temp dir; registered as the test's teardown too. */
  close(): Promise<void>
}

interface RunAs {
  uid: number
  gid: number
}

const READY_TIMEOUT_MS = 30_000
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'fsync=off',
  'full_page_writes=off',
  // Dynamic shared memory as files in the data directory, so a killed server leaves nothing in /dev/shm.
  'dynamic_shared_memory_type=mmap'
]
/** initdb'd data directories, one per binaries and OS user, copied for each server. */
const templates = new Map<string, Promise<string>>()
/** Postmasters started here and not yet stopped. */
const running = new Set<ChildProcess>()
/** Temp dirs made here and not yet removed (each holds a `data` directory): the templates, and servers not closed. */
const tempDirs = new Set<string>()
/* c8 ignore start -- process exit: only the templates are left, unless a test process dies before its teardown */
process.once('exit', () => {
  for (const child of running) killTreeSync(child)
  for (const dir of tempDirs) {
    try {
      const shmid = sharedMemoryId(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8'))
      if (shmid !== undefined) execFileSync('ipcrm', ['-m', shmid], { stdio: 'ignore' })
    } catch {
      // no server ever ran there, or its segment is gone
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  }
})

/** `killTree` for an exiting process, which cannot wait: the kills are sent, not awaited. */
function killTreeSync(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  const postmaster = child.pid as number
  child.kill('SIGSTOP')
  for (const line of execFileSync('ps', ['-A', '-o', 'pid=', '-o', 'ppid=']).toString().trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number)
    if (ppid === postmaster) signalPid(pid as number, 'SIGKILL')
  }
  child.kill('SIGKILL')
}
/* c8 ignore stop */

/**
 * Starts a throwaway Postgres on a free port and waits until it answers a query. Its data
 * directory, in a temp dir, is a copy of one `initdb` makes once per process (`--no-locale
 * -E UTF8 --wal-segsize=1`, so the copy is small). As root (CI) initdb and postgres run as
 * the `postgres` OS user, since they refuse to run as root; otherwise as the current user.
 * The binaries come from `pg_config --bindir` when `pg_config` is on PATH, else from PATH.
 */
export async function startPostgres(
  t: Teardown,
  options: StartPostgresOptions = {}
): Promise<ThrowawayPostgres> {
  const port = options.port ?? (await freePort())
  const bin = await binDir()
  const runAs = await serverUser()
  const dir = await mkdtemp(join(tmpdir(), `moolah-pg-${port}-`))
  tempDirs.add(dir)
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const settings = [...SERVER_SETTINGS, `unix_socket_directories=${dir}`].flatMap((setting) => [
    '-c',
    setting
  ])
  const args = ['-D', dataDir, '-p', String(port), ...settings, ...(options.args ?? [])]
  let child: ChildProcess | undefined
  let closed = false

  const stop = async (): Promise<void> => {
    if (child === undefined) return
    await killTree(child)
    running.delete(child)
    child = undefined
  }
  const signal = async (name: 'SIGSTOP' | 'SIGCONT'): Promise<void> => {
    if (child === undefined)
      throw new Error(`test-utils: postgres on port ${port} is stopped; cannot send ${name}`)
    const postmaster = child.pid as number
    // Stop the postmaster first, so it forks no new process while its children are listed;
    // wake it last, so the children it finds are all awake.
    if (name === 'SIGSTOP') process.kill(postmaster, name)
    for (const pid of await childPids(postmaster)) signalPid(pid, name)
    if (name === 'SIGCONT') process.kill(postmaster, name)
  }
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await stop()
    await removeSharedMemory(dataDir)
    await rm(dir, { recursive: true, force: true })
    tempDirs.delete(dir)
  }
  t.teardown(close)

  try {
    await giveTo(dir, runAs)
    await execFileAsync('cp', ['-RPp', await template(bin, runAs), dataDir], { ...runAs })
    child = await spawnPostgres(bin, args, { port, dir, logFile, runAs })
  } catch (err) {
    await close()
    throw err
  }

  return {
    host: '127.0.0.1',
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    logFile,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async restart() {
      await stop()
      child = await spawnPostgres(bin, args, { port, dir, logFile, runAs })
    },
    close
  }
}

/* c8 ignore start -- which half runs depends on whether the tests run as root (CI) or not (a laptop) */
/**
 * As root, initdb and postgres refuse to run, so they run as the `postgres` OS user;
 * otherwise they run as the current user (`undefined`: no switch).
 */
async function serverUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const passwd = await readFile('/etc/passwd', 'utf8')
  const [, uid, gid] = /^postgres:[^:]*:(\d+):(\d+):/m.exec(passwd) ?? []
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'test-utils: running as root, and there is no `postgres` OS user to run initdb and postgres as (they refuse to run as root). Create one: `useradd --system postgres`.'
    )
  }
  return { uid: Number(uid), gid: Number(gid) }
}

/** Makes a fresh temp dir the server user's, so initdb and postgres can write in it. */
async function giveTo(dir: string, runAs: RunAs | undefined): Promise<void> {
  if (runAs !== undefined) await chown(dir, runAs.uid, runAs.gid)
}
/* c8 ignore stop */

/**
 * An initdb'd data directory to copy: initdb takes 1-3 s on a busy machine, a copy
 * about 0.1 s. Made once per process (and binaries and OS user), removed at exit.
 */
function template(bin: string | undefined, runAs: RunAs | undefined): Promise<string> {
  const key = JSON.stringify([bin, runAs])
  let dataDir = templates.get(key)
  if (dataDir === undefined) {
    dataDir = makeTemplate(bin, runAs)
    templates.set(key, dataDir)
    dataDir.catch(() => templates.delete(key)) // the next server tries again
  }
  return dataDir
}

async function makeTemplate(bin: string | undefined, runAs: RunAs | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'moolah-pg-template-'))
  tempDirs.add(dir)
  try {
    await giveTo(dir, runAs)
    await initdb(bin, join(dir, 'data'), dir, runAs)
    return join(dir, 'data')
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    tempDirs.delete(dir)
    throw err
  }
}

/** `pg_config --bindir`, or `undefined` to find the binaries on PATH. */
async function binDir(): Promise<string | undefined> {
  try {
    return (await execFileAsync('pg_config', ['--bindir'])).stdout.trim()
  } catch {
    return undefined
  }
}

function binary(bin: string | undefined, name: string): string {
  return bin === undefined ? name : join(bin, name)
}

async function initdb(
  bin: string | undefined,
  dataDir: string,
  cwd: string,
  runAs: RunAs | undefined
): Promise<void> {
  const child = spawn(
    binary(bin, 'initdb'),
    [
      '-D',
      dataDir,
      '--auth=trust',
      '--no-sync',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-locale',
      '--wal-segsize=1'
    ],
    {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...runAs
    }
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(explainSpawnError(err, 'initdb', bin)))
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`test-utils: initdb exited with code ${code}: ${stderr.trim()}`)
}

interface SpawnContext {
  port: number
  dir: string
  logFile: string
  runAs: RunAs | undefined
}

async function spawnPostgres(
  bin: string | undefined,
  args: string[],
  { port, dir, logFile, runAs }: SpawnContext
): Promise<ChildProcess> {
  const log = await open(logFile, 'a')
  const child = spawn(binary(bin, 'postgres'), args, {
    cwd: dir,
    stdio: ['ignore', log.fd, log.fd],
    ...runAs
  })
  const closingLog = log.close() // the child has its own copy
  let ended = false
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (err) => {
      ended = true
      reject(explainSpawnError(err, 'postgres', bin))
    })
    child.once('exit', async (code) => {
      // `ended` only once the error is ready: a poll that saw `ended` while the log was still
      // being read would win the race below, and a server that never started would pass for ready.
      const error = new Error(
        `test-utils: postgres on port ${port} exited with code ${code} before it was ready. Server log:\n${await logTail(logFile)}`
      )
      ended = true
      reject(error)
    })
  })
  failed.catch(() => {}) // handled by the race below; a later exit is a test's own doing (stop/restart)
  running.add(child)
  await closingLog
  try {
    // Once the server has exited, the polling stops too (the race has already failed).
    await Promise.race([
      failed,
      waitUntil(async () => ended || (await answers(port)), `postgres on port ${port}`, READY_TIMEOUT_MS, 50)
    ])
  } catch (err) {
    running.delete(child)
    /* c8 ignore next 4 -- a server that runs but never answers in 30 s: cannot be provoked in a test */
    if (!ended) {
      await killTree(child)
      throw new Error(`${(err as Error).message}\nServer log:\n${await logTail(logFile)}`)
    }
    throw err
  }
  return child
}

/** One query on a short-lived connection that never waits long. */
async function answers(port: number): Promise<boolean> {
  const sql = postgres({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    connect_timeout: 1
  })
  try {
    return (await sql`SELECT 1 AS ok`).length === 1
  } finally {
    await sql.end({ timeout: 0 })
  }
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '')
  return text.split('\n').slice(-20).join('\n').trim()
}

/**
 * SIGKILL for the postmaster and every process it forked. Backends and auxiliary processes
 * each call setsid(), so a process-group kill would miss them; they are found with `ps`
 * while the postmaster is stopped (it cannot fork meanwhile), then killed one by one.
 * Resolves once none of them runs any more (a zombie counts as gone: it holds no port,
 * socket or shared memory).
 *
 * Not `pg_ctl stop -m immediate`: that is SIGQUIT, and each backend first sends its client
 * "terminating connection due to immediate shutdown", an orderly goodbye a crash never gives.
 */
async function killTree(child: ChildProcess): Promise<void> {
  // A postmaster that died on its own: its children exit as soon as they notice.
  if (child.exitCode !== null || child.signalCode !== null) return
  const postmaster = child.pid as number
  const exited = once(child, 'exit')
  child.kill('SIGSTOP')
  const children = await childPids(postmaster)
  // Children first: were the postmaster first, a backend could notice its death and send its
  // client "terminating connection due to unexpected postmaster exit" before its own SIGKILL.
  for (const pid of children) signalPid(pid, 'SIGKILL')
  child.kill('SIGKILL')
  await exited
  await waitUntil(
    async () => {
      const alive = new Set((await processes()).filter((p) => !p.zombie).map((p) => p.pid))
      return children.every((pid) => !alive.has(pid))
    },
    `the processes of postmaster ${postmaster} to die`,
    10_000,
    20
  )
}

interface Process {
  pid: number
  ppid: number
  zombie: boolean
}

async function processes(): Promise<Process[]> {
  const { stdout } = await execFileAsync('ps', ['-A', '-o', 'pid=', '-o', 'ppid=', '-o', 'stat='])
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, stat] = line.trim().split(/\s+/)
      return { pid: Number(pid), ppid: Number(ppid), zombie: String(stat).startsWith('Z') }
    })
}

async function childPids(parent: number): Promise<number[]> {
  return (await processes()).filter((p) => p.ppid === parent).map((p) => p.pid)
}

function signalPid(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
    /* c8 ignore next 3 -- a process that exits between `ps` and the signal: a race no test can arrange */
  } catch {
    // it exited in the meantime: nothing to signal
  }
}

/**
 * A killed postmaster leaves its small System V shared memory segment behind (a clean
 * shutdown or the next start on the same data directory removes it). Its id is on line 7
 * of postmaster.pid; Linux does not hand a removed id out again for a long time, so the id
 * still names our segment.
 */
async function removeSharedMemory(dataDir: string): Promise<void> {
  const shmid = sharedMemoryId(await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => ''))
  if (shmid === undefined) return
  await execFileAsync('ipcrm', ['-m', shmid])
}

/** Line 7 of postmaster.pid: the segment's key and id. */
function sharedMemoryId(pidFile: string): string | undefined {
  return pidFile.split('\n')[6]?.trim().split(/\s+/)[1]
}

function explainSpawnError(err: NodeJS.ErrnoException, name: string, bin: string | undefined): Error {
  /* c8 ignore next -- other spawn errors (EACCES, EMFILE) cannot be provoked portably */
  if (err.code !== 'ENOENT') return err
  const where =
    bin === undefined
      ? 'is not on PATH (and neither is `pg_config`)'
      : `is not in \`pg_config --bindir\` (${bin})`
  return new Error(
    `test-utils: \`${name}\` ${where}. Install the PostgreSQL server (Debian: \`apt-get install postgresql\`, macOS: \`brew install postgresql@15\`) to run these tests.`
  )
}
