/** Throws a TypeError naming `name` unless `value` is an integer ≥ `min` (undefined passes). */
export function checkInteger(name: string, value: unknown, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < min)) {
    throw new TypeError(`wallet-lock: ${name} must be an integer >= ${min}, got ${String(value)}`)
  }
}
