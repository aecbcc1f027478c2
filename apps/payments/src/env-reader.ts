/** Reads environment variables, collecting every problem so they can be reported at once. */
export class EnvReader {
  readonly problems: string[] = []

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The variable as given; unset and empty are the same thing. */
  raw(name: string): string | undefined {
    const value = this.env[name]
    return value === '' ? undefined : value
  }

  /** `parse(value)`, or `fallback` when unset; what `parse` throws becomes "NAME <message>". */
  parsed<T>(name: string, fallback: T, parse: (value: string) => T): T {
    const value = this.raw(name)
    if (value === undefined) return fallback
    try {
      return parse(value)
    } catch (err) {
      this.problems.push(`${name} ${(err as Error).message}`)
      return fallback
    }
  }

  int(name: string, fallback: number, min: number, max: number): number {
    return this.parsed(name, fallback, (value) => {
      const number = Number(value)
      if (!/^\d+$/.test(value.trim()) || number < min || number > max)
        throw new Error(`must be a whole number from ${min} to ${max}, got "${value}"`)
      return number
    })
  }

  /**
   * A URL with one of `protocols` (e.g. `postgres:`), as written. A wrong one is returned too,
   * so that what depends on the variable being set (ADMIN_TOKEN on DATABASE_URL) is checked as well.
   */
  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name)
    if (value === undefined) return undefined
    let protocol: string
    try {
      protocol = new URL(value).protocol
    } catch {
      this.problems.push(`${name} is not a valid URL`)
      return value
    }
    if (!protocols.includes(protocol))
      this.problems.push(
        `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${protocol}//…"`
      )
    return value
  }
}
