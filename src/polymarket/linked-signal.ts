import { setMaxListeners } from 'node:events';

/**
 * A child AbortSignal that follows `parent`. Every request in flight listens on the signal it is given
 * (host queue, rate limiter, socket), so one walk hands its requests a child: the caller's signal then
 * carries one listener per walk rather than several per request, and the child's many listeners are
 * expected, not a leak.
 */
export function linkedSignal(parent: AbortSignal | undefined): { signal: AbortSignal; controller: AbortController; dispose(): void } {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (!parent) return { signal: controller.signal, controller, dispose: () => undefined };
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}
