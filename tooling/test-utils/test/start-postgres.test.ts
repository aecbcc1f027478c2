import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import postgres from 'postgres'
import t from 'tap'
import { startPostgres, waitUntil, type Teardown } from '../src/index.js'

const execFileAsync = promisify(execFile)

function client(t: Teardown, url: string): postgres.Sql {
  const sql = postgres(url, { max: 1, connect_timeout: 10 })
  t.teardown(() => sql.end({ timeout: 0 }))
  return sql
}

/** Whether the process runs; a zombie (dead, not yet reaped) does not. */
async function alive(pid: number): Promise<boolean> {
  const { stdout } = await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)]).catch(() => ({
    stdout: ''
  }))
  return stdout.trim() !== '' && !stdout.trim().startsWith('Z')
}

t.test('a throwaway server on a free port: superuser postgres, trust, fsync off', async (t) => {
  const server = await startPostgres(t)
  t.equal(server.url, `postgres://postgres@127.0.0.1:${server.port}/postgres`)
  const sql = client(t, server.url)
  t.same(
    await sql`SELECT current_user AS who, current_database() AS db, current_setting('port') AS port, current_setting('fsync') AS fsync`,
    [{ who: 'postgres', db: 'postgres', port: String(server.port), fsync: 'off' }]
  )

  await t.test('pause makes a query hang; resume lets it answer', async (t) => {
    await server.pause()
    const query = sql`SELECT 2 AS n`.then(([row]) => row?.n as number)
    t.equal(
      await Promise.race([query, sleep(1000, 'no answer')]),
      'no answer',
      'nothing answers while paused'
    )
    const fresh = client(t, server.url)
    const connecting = fresh`SELECT 3 AS n`.then(([row]) => row?.n as number)
    t.equal(
      await Promise.race([connecting, sleep(500, 'no answer')]),
      'no answer',
      'a new connection is not served either'
    )
    await server.resume()
    t.equal(await query, 2, 'the hung query answers after resume')
    t.equal(await connecting, 3)
  })

  await t.test('stop kills every process like a crash; restart brings committed data back', async (t) => {
    await sql`CREATE TABLE kept (id int)`
    await sql`INSERT INTO kept VALUES (1), (2)`
    const processes = (await sql`SELECT pid FROM pg_stat_activity`).map((row) => row.pid as number)
    t.ok(processes.length > 1, 'the backend and the auxiliary processes')

    await server.stop()
    await t.rejects(sql`SELECT 1`, 'the connection is gone and a new one is refused')
    for (const pid of processes) t.notOk(await alive(pid), `process ${pid} is dead`)
    t.notMatch(
      await readFile(server.logFile, 'utf8'),
      /terminating connection/,
      'no backend lived to say goodbye'
    )
    await server.stop() // idempotent
    await t.rejects(server.pause(), /postgres on port \d+ is stopped; cannot send SIGSTOP/)

    await server.restart()
    t.same(await sql`SELECT id FROM kept ORDER BY id`, [{ id: 1 }, { id: 2 }], 'the data survived the crash')
  })

  await t.test('restart while running, and while paused', async (t) => {
    await server.restart()
    await server.pause()
    await server.restart()
    t.same(await sql`SELECT count(*)::int AS n FROM kept`, [{ n: 2 }])
  })
})

t.test('close stops the server and removes its directory', async (t) => {
  const server = await startPostgres(t)
  const sql = client(t, server.url)
  await sql`SELECT 1`
  const dir = dirname(server.dataDir)
  t.ok(existsSync(join(server.dataDir, 'PG_VERSION')))
  await server.close()
  t.notOk(existsSync(dir), 'the temp dir is gone')
  await t.rejects(sql`SELECT 1`)
  await server.close() // idempotent; the teardown calls it again too
})

t.test('stop and restart cope with a postmaster that died on its own', async (t) => {
  const server = await startPostgres(t)
  const sql = client(t, server.url)
  const processes = (await sql`SELECT pid FROM pg_stat_activity`).map((row) => row.pid as number)
  const postmaster = Number((await readFile(join(server.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
  process.kill(postmaster, 'SIGKILL') // not through the kit, as the OOM killer would
  await waitUntil(
    async () => !(await alive(postmaster)) && !(await Promise.all(processes.map(alive))).includes(true),
    'the postmaster and its processes to go'
  )
  await waitUntil(
    async () =>
      (await execFileAsync('ps', ['-o', 'pid=', '-p', String(postmaster)]).then(
        () => true,
        () => false
      )) === false,
    'the postmaster to be reaped'
  )
  await server.stop()
  await server.restart()
  t.same(await sql`SELECT 1 AS n`, [{ n: 1 }])
})

t.test('passes extra arguments to postgres', async (t) => {
  const server = await startPostgres(t, { args: ['-c', 'max_connections=7'] })
  t.same(await client(t, server.url)`SHOW max_connections`, [{ max_connections: '7' }])
})

t.test('fails clearly, with the server log, when postgres cannot start', async (t) => {
  await t.rejects(
    startPostgres(t, { args: ['-c', 'no_such_setting=1'] }),
    /exited with code 1 before it was ready\. Server log:\n.*no_such_setting/s
  )
})

t.test('fails clearly when the binaries cannot be found or initdb fails', async (t) => {
  const path = process.env.PATH
  t.teardown(() => {
    process.env.PATH = path
  })

  await t.test('neither pg_config nor initdb on PATH', async (t) => {
    process.env.PATH = '/nonexistent'
    await t.rejects(startPostgres(t), /`initdb` is not on PATH \(and neither is `pg_config`\)/)
  })

  // A fake `pg_config` whose --bindir is its own directory, holding whatever else a test puts there.
  const fakeBin = async (t: Teardown): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'moolah-fake-pg-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await chmod(dir, 0o755) // initdb may run as the postgres user
    await writeFile(join(dir, 'pg_config'), `#!/bin/sh\necho '${dir}'\n`, { mode: 0o755 })
    process.env.PATH = `${dir}:${path}`
    return dir
  }

  await t.test('no initdb in pg_config --bindir', async (t) => {
    const dir = await fakeBin(t)
    await t.rejects(startPostgres(t), new RegExp(`\`initdb\` is not in \`pg_config --bindir\` \\(${dir}\\)`))
  })

  await t.test('initdb fails', async (t) => {
    const dir = await fakeBin(t)
    await writeFile(join(dir, 'initdb'), '#!/bin/sh\necho "initdb: boom" >&2\nexit 3\n', { mode: 0o755 })
    await t.rejects(startPostgres(t), /initdb exited with code 3: initdb: boom/)
  })

  await t.test('no postgres in pg_config --bindir', async (t) => {
    const dir = await fakeBin(t)
    const { stdout } = await execFileAsync('pg_config', ['--bindir'], {
      env: { ...process.env, PATH: String(path) }
    })
    await symlink(join(stdout.trim(), 'initdb'), join(dir, 'initdb'))
    await t.rejects(startPostgres(t), /`postgres` is not in `pg_config --bindir`/)
  })
})
