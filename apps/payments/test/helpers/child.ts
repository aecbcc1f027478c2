import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '@moolah/test-utils'

export interface Child {
  process: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** The first match of `pattern` in the output, waiting for it to appear. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  /** The exit code; null when a signal ended the process. */
  exited: Promise<number | null>
}

/**
 * Runs `src/<script>.ts` in its own node process, with `env` as its whole environment apart
 * from PATH and what tap gives its own processes: the TypeScript loader (transpiling only, as
 * tsc checks the types) and the process-info variables, so the child's coverage counts.
 * Killed at teardown if still running.
 */
export function runScript(t: Teardown, script: string, env: Record<string, string>): Child {
  const tapEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => /^(_TAPJS_PROCESSINFO_|TS_NODE_|NODE_OPTIONS$)/.test(name))
  )
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL(`../../src/${script}.ts`, import.meta.url))],
    {
      env: { PATH: process.env.PATH, ...tapEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  let output = ''
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  let closed = false
  child.once('close', () => {
    closed = true
  })

  const waitFor = (pattern: RegExp, timeoutMs = 90_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output)
        if (match === null) return false
        stop()
        resolve(match)
        return true
      }
      const fail = (why: string) => {
        stop()
        reject(new Error(`no ${pattern} in the output of ${script}: ${why}\n${output}`))
      }
      const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs)
      const ended = () => {
        if (!check()) fail('it ended')
      }
      const stop = () => {
        clearTimeout(timer)
        child.stdout.off('data', check)
        child.stderr.off('data', check)
        child.off('close', ended)
      }
      if (check()) return
      if (closed) return fail('it ended')
      child.stdout.on('data', check)
      child.stderr.on('data', check)
      child.once('close', ended)
    })
  return { process: child, output: () => output, waitFor, exited }
}
