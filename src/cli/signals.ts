/**
 * Resolve on the first SIGTERM or SIGINT. Call it *before* starting a
 * long-running component: a component may already produce output (and a
 * supervisor may already signal it) while it starts, and Node's default
 * action for an unhandled SIGTERM is to die without flushing anything.
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
