/** What a plugin does when its store fails: 'closed' refuses (503), 'open' goes on without the store. */
export type FailMode = 'closed' | 'open'

export const FAIL_MODES: readonly FailMode[] = ['closed', 'open']

/**
 * Reads one options object of a plugin at registration: each read validates one key, applies
 * its default, and on a wrong value throws a TypeError that starts with the plugin's package
 * name and names the key: `@moolah/x: options.timeoutMs must be a positive integer, got 0`.
 */
export class OptionReader<O extends object> {
  readonly #plugin: string
  readonly #source: Readonly<Record<string, unknown>>
  readonly #where: string

  /** `where` names the object in messages: `options`, `define('flash')`, `config.walletLock of /pay`. */
  constructor(plugin: string, source: O | undefined, where = 'options') {
    this.#plugin = plugin
    this.#source = (source ?? {}) as Record<string, unknown>
    this.#where = where
  }

  /** Throws `TypeError('<plugin>: <message>')`. */
  fail(message: string): never {
    throw new TypeError(`${this.#plugin}: ${message}`)
  }

  /** The value of `key` (`fallback` when undefined) if `isValid` accepts it; `expected` completes "must be …". */
  check<T>(key: keyof O & string, fallback: T, isValid: (value: unknown) => boolean, expected: string): T {
    const value = this.#source[key] ?? fallback
    if (!isValid(value)) this.fail(`${this.#where}.${key} must be ${expected}, got ${describe(value)}`)
    return value as T
  }

  /** A safe integer ≥ `min`. */
  integer(key: keyof O & string, fallback: number, min = 1): number {
    return this.check(
      key,
      fallback,
      (value) => Number.isSafeInteger(value) && (value as number) >= min,
      min === 1 ? 'a positive integer' : `an integer ≥ ${min}`
    )
  }

  oneOf<V extends string>(key: keyof O & string, values: readonly V[], fallback: V): V {
    return this.check(
      key,
      fallback,
      (value) => values.includes(value as V),
      values.map((value) => `'${value}'`).join(' or ')
    )
  }

  /** A function, or undefined when not given. */
  optionalFunction<F extends (...args: never[]) => unknown>(key: keyof O & string): F | undefined {
    return this.check<F | undefined>(
      key,
      undefined,
      (value) => value === undefined || typeof value === 'function',
      'a function'
    )
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
