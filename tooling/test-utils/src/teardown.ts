/** The part of a tap `Test` the kit needs: somewhere to register clean-up. */
export interface Teardown {
  teardown(fn: () => unknown): void
}
