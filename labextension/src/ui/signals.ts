import type { ISignal } from '@lumino/signaling';
import { useEffect, useReducer } from 'react';

/** Re-render a component whenever `signal` is emitted. */
export function useSignal(signal: ISignal<any, any>): void {
  const [, forceUpdate] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    const onChange = () => forceUpdate();
    signal.connect(onChange);
    return () => {
      signal.disconnect(onChange);
    };
  }, [signal]);
}

/** Re-render a component every `ms` while `active` (for ages and elapsed times). */
export function useTick(ms: number, active = true): void {
  const [, forceUpdate] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    if (!active) {
      return;
    }
    const timer = setInterval(forceUpdate, ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}
