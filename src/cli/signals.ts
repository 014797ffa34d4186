/** Resolves on SIGINT or SIGTERM, for commands that run until stopped. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
