import type { Teardown } from './teardown.js'

/**
 * A `Teardown` for code that is not a tap test (benchmarks, scripts): collects the clean-ups
 * the kit registers and runs them, last first, on `run()`.
 */
export class Cleanup implements Teardown {
  readonly #steps: Array<() => unknown> = []

  teardown(fn: () => unknown): void {
    this.#steps.push(fn)
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step()
  }
}
