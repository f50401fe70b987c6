// One idiom for both APIs' chains (networkservice.ts, registry.ts): the handlers that run a chain's
// elements before a given `next` are made once per `next` and reused. Made per call, they were
// garbage on every call, and kept per connection wherever an element holds `next` for later.

/** `bindAt(elements, 0, next)`, made once per `next` (held weakly: a `next` made per call goes with it). */
export function boundOnce<E, H extends object>(elements: readonly E[], bindAt: (elements: readonly E[], index: number, last: H) => H): (next: H) => H {
  const made = new WeakMap<H, H>();
  return (next) => {
    let h = made.get(next);
    if (!h) made.set(next, (h = bindAt(elements, 0, next)));
    return h;
  };
}
