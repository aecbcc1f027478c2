import { prettyFactory } from 'pino-pretty'
import type { LogDestination } from './logging.js'

/**
 * Human-readable lines for a person at a terminal, pino's JSON lines for everything else (log
 * collectors, pipes, files). Both are written synchronously in this thread (stdout is
 * synchronous on Linux for files, pipes and terminals), so log lines and console output such
 * as the welcome banner appear in the order they were written.
 */
export function logDestination(stdout: { isTTY?: boolean; write(text: string): unknown }): LogDestination {
  if (stdout.isTTY !== true)
    return {
      write: (line) => {
        stdout.write(line)
      }
    }
  const prettify = prettyFactory({
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true
  })
  return {
    write: (line) => {
      stdout.write(prettify(line))
    }
  }
}
