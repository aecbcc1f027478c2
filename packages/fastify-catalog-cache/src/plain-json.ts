/**
 * Values are plain JSON by contract. JSON.stringify silently turns a Date into a string,
 * drops `undefined` properties, writes `null` for NaN and for `undefined` in arrays, and
 * throws on BigInt; a cached catalog must come back with exactly the shape it was loaded
 * with, so anything JSON cannot hold faithfully is rejected instead.
 * Returns a description of the first offending path, or undefined when the value is plain.
 */
export function findNonJson(value: unknown, path = '$', seen = new Set<object>()): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value} (not representable in JSON)`
    case 'object':
      return value === null ? undefined : findInObject(value, path, seen)
    default:
      return `${path} is a ${typeof value}`
  }
}

function findInObject(value: object, path: string, seen: Set<object>): string | undefined {
  if (seen.has(value)) return `${path} is a circular reference`
  seen.add(value)
  let problem: string | undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && problem === undefined; i++) {
      problem = i in value ? findNonJson(value[i], `${path}[${i}]`, seen) : `${path}[${i}] is a hole`
    }
  } else {
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto !== Object.prototype && proto !== null)
      return `${path} is a ${value.constructor?.name ?? 'class'} instance, not a plain object`
    if (Object.getOwnPropertySymbols(value).length > 0) return `${path} has symbol keys`
    for (const [key, item] of Object.entries(value)) {
      problem = findNonJson(item, `${path}.${key}`, seen)
      if (problem !== undefined) break
    }
  }
  seen.delete(value)
  return problem
}

/** Freezes a parsed JSON value so that callers sharing the cached copy cannot change it for everyone. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}
