/**
 * Wakes a polling loop when there is work, without ever losing a wake-up: one that comes while the
 * loop is busy makes its next wait return at once (otherwise work committed during a round would wait
 * for the next poll).
 */
export class Wakeup {
  #pending = false;
  #wake: (() => void) | null = null;

  /** There may be work: the loop's current or next wait returns now. */
  ring(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  /** Resolves at the next ring (at once if one came since the last wait) or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
