/**
 * Instances waiting for another instance's load, per catalog name. A waiter sleeps until
 * its poll interval ends or a 'loaded' message for the name wakes it, whichever is first.
 */
export class LoadWaiters {
  readonly #waiters = new Map<string, Set<() => void>>()

  wait(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(name)
      if (waiters === undefined) this.#waiters.set(name, waiters = new Set())
      const done = (): void => {
        clearTimeout(timer)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(name) === waiters) this.#waiters.delete(name)
        resolve()
      }
      const timer = setTimeout(done, ms).unref()
      waiters.add(done)
    })
  }

  wake(name: string): void {
    for (const done of this.#waiters.get(name) ?? []) done()
  }
}
