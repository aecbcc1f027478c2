import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { redisClient, redisPrefix } from '@moolah/test-utils'
import t from 'tap'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))

t.test('mutual exclusion across processes: 3 processes × 4 callers never overlap', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const iterations = 10
  const outputs = await Promise.all(
    Array.from({ length: 3 }, () =>
      // the workers load TypeScript the way this test was loaded (tap's loader, or e.g. `--import tsx`)
      run(
        process.execPath,
        [...process.execArgv, 'test/support/worker.ts', url, prefix, String(iterations)],
        { cwd: packageDir, timeout: 60_000 }
      )
    )
  )
  const results = outputs.map(({ stdout }) => JSON.parse(stdout) as { overlaps: number; fences: number[] })

  t.same(
    results.map((result) => result.overlaps),
    [0, 0, 0],
    'no process ever saw another holder inside'
  )
  const redis = redisClient(t, url)
  t.equal(Number(await redis.get(`${prefix}counter`)), 3 * 4 * iterations, 'no lost update')
  const fences = results.flatMap((result) => result.fences)
  t.equal(new Set(fences).size, fences.length, 'every holder got its own fence')
  for (const result of results) {
    t.ok(
      result.fences.every((fence, i) => i === 0 || fence > (result.fences[i - 1] as number)),
      'fences increase within a process'
    )
  }
})
