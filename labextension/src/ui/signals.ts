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
