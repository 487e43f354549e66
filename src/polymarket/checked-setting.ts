/**
 * A source setting checked where it came in — the configuration, whose messages name the flag — so
 * the source takes it as given instead of checking it a second time. A plain value from any other
 * caller of the source is checked there, once.
 */
export class Checked<T> {
  private constructor(readonly value: T) {}

  /** The value `check` returns; there is no other way to make one. */
  static after<T>(check: () => T): Checked<T> {
    return new Checked(check());
  }
}

/** The setting's value: as given when already checked, else `check(value ?? fallback)`. */
export function settingValue<T>(setting: T | Checked<T> | undefined, fallback: T, check: (value: T) => T): T {
  return setting instanceof Checked ? setting.value : check(setting ?? fallback);
}
